import FuzzSupport

/// libFuzzer entry point: the client side of the relay's framing (FramingCheck).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrontendFraming(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FramingCheck.run(Array(UnsafeBufferPointer(start: data, count: size)), direction: .frontend)
    return 0
}

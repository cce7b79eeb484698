import FuzzSupport

/// libFuzzer entry point: the server side of the relay's framing (FramingCheck).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBackendFraming(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FramingCheck.run(Array(UnsafeBufferPointer(start: data, count: size)), direction: .backend)
    return 0
}

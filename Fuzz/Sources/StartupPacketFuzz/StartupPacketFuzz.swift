import FuzzSupport

/// libFuzzer entry point: the startup packet parser (StartupCheck).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStartupPacket(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    StartupCheck.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

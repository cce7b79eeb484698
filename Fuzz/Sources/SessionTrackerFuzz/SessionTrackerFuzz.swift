import FuzzSupport

/// libFuzzer entry point: the session tracker fed a fuzzer-written session (TrackerCheck).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSessionTracker(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    TrackerCheck.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

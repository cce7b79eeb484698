import FuzzSupport

/// libFuzzer's callback: the startup packet parser (StartupCheck).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    StartupCheck.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// The executable's entry point (see CFuzzerDriver.h): libFuzzer's driver with the callback above.
@_cdecl("StartupPacketFuzz_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in testOneInput(data, size) }
}

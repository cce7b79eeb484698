import FuzzSupport

/// libFuzzer's callback: the server side of the relay's framing (FramingCheck).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    FramingCheck.run(Array(UnsafeBufferPointer(start: data, count: size)), direction: .backend)
    return 0
}

/// The executable's entry point (see CFuzzerDriver.h): libFuzzer's driver with the callback above.
@_cdecl("BackendFramingFuzz_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in testOneInput(data, size) }
}

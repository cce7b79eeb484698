import FuzzSupport

/// libFuzzer's callback: the JSON parser, the session file reader and the session JSON writer (JSONCheck).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    JSONCheck.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// The executable's entry point (see CFuzzerDriver.h): libFuzzer's driver with the callback above.
@_cdecl("JSONParserFuzz_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in testOneInput(data, size) }
}

import Testing

@testable import ProxyEngine

@Suite struct ListenAddressTests {
    @Test(
        arguments: [
            ("127.0.0.1:5433", "127.0.0.1", 5433),
            ("localhost:6000", "localhost", 6000),
            ("0.0.0.0:0", "0.0.0.0", 0),
            ("[::1]:5433", "::1", 5433),
            ("[::]:7000", "::", 7000),
        ] as [(String, String, Int)])
    func parsesHostAndPort(text: String, host: String, port: Int) throws {
        #expect(try ListenAddress(parsing: text) == ListenAddress(host: host, port: port))
    }

    @Test func portOnlyFormsLeaveTheHostUnset() throws {
        #expect(try ListenAddress(parsing: ":6000") == ListenAddress(host: nil, port: 6000))
        #expect(try ListenAddress(parsing: "6000") == ListenAddress(host: nil, port: 6000))
    }

    @Test(arguments: [
        ("localhost:70000", "port 70000 is out of range (0-65535)"),
        ("localhost", "missing port; write HOST:PORT, :PORT or PORT"),
        ("localhost:", "missing port; write HOST:PORT, :PORT or PORT"),
        ("", "missing port; write HOST:PORT, :PORT or PORT"),
        ("host:http", "port \"http\" is not a number"),
        ("::1:5433", "write an IPv6 address in brackets, as in [::1]:5433"),
        ("[::1]", "missing port; write [ADDRESS]:PORT, as in [::1]:5433"),
        ("[::1:5433", "the IPv6 address has no closing \"]\""),
        ("[]:5433", "the host is empty"),
        ("my host:5433", "\"my host\" is not a host name or IP address"),
    ])
    func rejectsWithAClearMessage(text: String, reason: String) {
        #expect(
            configErrorMessage { try ListenAddress(parsing: text) } == "invalid listen address \"\(text)\": \(reason)")
    }

    @Test func describesItselfAsItWouldBeTyped() {
        #expect(ListenAddress(host: "::1", port: 5433).description == "[::1]:5433")
        #expect(ListenAddress(host: nil, port: 5433).description == ":5433")
    }
}

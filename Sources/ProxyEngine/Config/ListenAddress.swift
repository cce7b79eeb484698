/// Where the proxy listens: `HOST:PORT`, `:PORT`, `PORT` or `[IPv6]:PORT`.
///
/// `:PORT` and `PORT` leave the host unset (nil), so a `--listen :6000` flag changes only the port and keeps the
/// host from the config file or the default (127.0.0.1). Port 0 asks the system for any free port.
public struct ListenAddress: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var host: String?
    public var port: Int

    public init(host: String?, port: Int) {
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws(ConfigError) {
        func fail(_ reason: String) -> ConfigError {
            .invalidListenAddress(text, reason: reason)
        }
        var hostText: Substring?
        var portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw fail("the IPv6 address has no closing \"]\"")
            }
            let after = text[text.index(after: close)...]
            guard after.hasPrefix(":") else {
                throw fail("missing port; write [ADDRESS]:PORT, as in [::1]:5433")
            }
            hostText = text[text.index(after: text.startIndex)..<close]
            portText = after.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            hostText = text[..<colon]
            portText = text[text.index(after: colon)...]
            if hostText?.contains(":") == true {
                throw fail("write an IPv6 address in brackets, as in [::1]:5433")
            }
            if hostText?.isEmpty == true {
                hostText = nil
            }
        } else {
            portText = Substring(text)
        }
        guard !portText.isEmpty, text.contains(":") || portText.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw fail("missing port; write HOST:PORT, :PORT or PORT")
        }
        guard portText.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw fail("port \"\(portText)\" is not a number")
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw fail("port \(portText) is out of range (0-65535)")
        }
        if let hostText {
            guard !hostText.isEmpty else {
                throw fail("the host is empty")
            }
            guard !hostText.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "[" || $0 == "]" }) else {
                throw fail("\"\(hostText)\" is not a host name or IP address")
            }
        }
        self.host = hostText.map(String.init)
        self.port = port
    }

    public var description: String {
        guard let host = self.host else {
            return ":\(self.port)"
        }
        return "\(UpstreamURL.bracketed(host)):\(self.port)"
    }
}

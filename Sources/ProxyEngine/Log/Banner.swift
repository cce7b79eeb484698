import Foundation

/// A pseudo user as the startup banner shows it. Holds no secret: only how the password is checked and the
/// upstream URL with its password already masked.
public struct BannerUser: Sendable, Equatable {
    public enum PasswordInfo: Sendable, Equatable {
        /// Any password is accepted (the seed's behaviour).
        case any
        /// A password is checked with the named method, e.g. "SCRAM-SHA-256".
        case required(method: String)
    }

    public var pseudoUser: String
    public var passwordInfo: PasswordInfo
    public var database: String
    /// e.g. `postgres://postgres:***@localhost:5432/postgres`.
    public var maskedUpstreamURL: String

    public init(pseudoUser: String, passwordInfo: PasswordInfo, database: String, maskedUpstreamURL: String) {
        self.pseudoUser = pseudoUser
        self.passwordInfo = passwordInfo
        self.database = database
        self.maskedUpstreamURL = maskedUpstreamURL
    }
}

/// The text `pgreel proxy` prints when it starts listening, in the seed's look.
public enum Banner {
    /// The whole banner, ending with a newline.
    ///
    /// - Parameters:
    ///   - listen: the listening address as `host:port` (`[::1]:5433` for IPv6); a wildcard host is shown as
    ///     `localhost` in the psql hint.
    ///   - sessionsDirectory: where session files go, when recording.
    ///   - tls: how clients may encrypt (`TLS on (required)`), shown under the address; nil without TLS.
    public static func text(
        listen: String, users: [BannerUser], sessionsDirectory: String?, recording: Bool, color: Bool,
        tls: String? = nil
    ) -> String {
        let rule = String(repeating: "━", count: HeadlessLogFormatter.ruleWidth)
        var lines: [String] = [
            TerminalStyle.apply(.green, to: "✅ Proxy Server Started!", enabled: color),
            "   Listening on \(TerminalText.escaped(listen))",
        ]
        if let tls {
            lines.append("   🔒 \(TerminalText.escaped(tls))")
        }
        lines += [
            "",
            TerminalStyle.apply(.bold, to: "📋 Available Pseudo Credentials:", enabled: color),
            rule,
        ]

        if users.isEmpty {
            lines += ["", "  (no pseudo users configured)"]
        }
        for user in users {
            let password: String
            switch user.passwordInfo {
            case .any: password = "(any password works)"
            case .required(let method): password = "(required, \(TerminalText.escaped(method)))"
            }
            lines += [
                "",
                "  Pseudo User: " + TerminalText.escaped(user.pseudoUser),
                "  Password: " + password,
                "  Database: " + TerminalText.escaped(user.database),
                "  → Maps to: " + TerminalText.escaped(self.maskingPassword(in: user.maskedUpstreamURL)),
            ]
        }

        if let first = users.first {
            let (host, port) = self.connectTarget(listen)
            var command = "psql -h " + self.shellQuoted(host)
            if let port {
                command += " -p " + self.shellQuoted(port)
            }
            command += " -U " + self.shellQuoted(first.pseudoUser) + " -d " + self.shellQuoted(first.database)
            lines += ["", TerminalStyle.apply(.bold, to: "🔌 Connect using:", enabled: color), "  " + command]
        }

        lines.append("")
        for user in users where user.passwordInfo == .any {
            let warning = "⚠️  Pseudo user \(TerminalText.escaped(user.pseudoUser)) accepts any password"
            lines.append(TerminalStyle.apply(.yellow, to: warning, enabled: color))
        }
        if !recording {
            lines.append("📝 Recording is off")
        } else if let sessionsDirectory {
            lines.append("📝 Recording sessions to " + TerminalText.escaped(sessionsDirectory))
        } else {
            lines.append("📝 Recording sessions")
        }
        lines += ["", "🔍 Monitoring all queries and responses..."]
        return lines.map { $0 + "\n" }.joined()
    }

    /// `url` with the password of its user-info part and any `password=` query parameter replaced by `***`.
    ///
    /// The caller should already pass a masked URL; this is a second guard so a mistake upstream never prints a
    /// real password on the operator's screen (and into scrollback and CI logs).
    public static func maskingPassword(in url: String) -> String {
        var text = url
        if let schemeEnd = text.range(of: "://") {
            let authorityEnd = text[schemeEnd.upperBound...].firstIndex(where: { "/?#".contains($0) }) ?? text.endIndex
            let authority = text[schemeEnd.upperBound..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                let password = text.index(after: colon)..<at
                if text[password] != "***" {
                    text.replaceSubrange(password, with: "***")
                }
            }
        }
        guard let queryStart = text.firstIndex(of: "?") else {
            return text
        }
        let fragmentStart = text[queryStart...].firstIndex(of: "#") ?? text.endIndex
        let query = text[text.index(after: queryStart)..<fragmentStart]
        let parameters = query.split(separator: "&", omittingEmptySubsequences: false)
        let masked = parameters.map { parameter -> String in
            let name = parameter.prefix { $0 != "=" }
            if name.count < parameter.count, ["password", "sslpassword"].contains(name.lowercased()) {
                return name + "=***"
            }
            return String(parameter)
        }
        return String(text[...queryStart]) + masked.joined(separator: "&") + String(text[fragmentStart...])
    }

    /// The host and port to put in the psql hint for a listen address.
    static func connectTarget(_ listen: String) -> (host: String, port: String?) {
        var host: Substring
        var port: Substring?
        if listen.hasPrefix("["), let close = listen.firstIndex(of: "]") {
            host = listen[listen.index(after: listen.startIndex)..<close]
            let rest = listen[listen.index(after: close)...]
            port = rest.hasPrefix(":") ? rest.dropFirst() : nil
        } else if let colon = listen.lastIndex(of: ":"), listen.firstIndex(of: ":") == colon {
            host = listen[..<colon]
            port = listen[listen.index(after: colon)...]
        } else {
            host = listen[...]
            port = nil
        }
        if ["", "0.0.0.0", "::", "*"].contains(host) {
            host = "localhost"
        }
        return (String(host), port.flatMap { $0.isEmpty ? nil : String($0) })
    }

    /// `text` as one shell word: unchanged when it is made of safe characters, else in single quotes.
    static func shellQuoted(_ text: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/@%+=,")
        if !text.isEmpty, text.allSatisfy({ safe.contains($0) }) {
            return TerminalText.escaped(text)
        }
        return "'" + TerminalText.escaped(text).replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

import Foundation

/// A real PostgreSQL server to connect to, parsed from a libpq-style URL:
/// `postgres[ql]://[user[:password]@][host][:port][/database][?param=value&...]`.
///
/// Every printable form masks the password (`postgres://u:***@h:5432/db`): `description`, `debugDescription`
/// and the mirror used by `dump` all show the masked URL, so an accidental print never leaks it.
/// Keyword/value strings (`host=... dbname=...`) are not accepted: a URL only.
public struct UpstreamURL: Sendable, Equatable, Hashable {
    public static let defaultPort = 5432
    public static let defaultHost = "localhost"

    /// `postgres` or `postgresql`, as written, so the masked form looks like what the user typed.
    public var scheme: String
    public var user: String
    /// The real password: from the URL, or filled in later from PGPASSWORD / pgpass (see `PgPass`).
    public var password: String?
    /// The host name or IP address, without the brackets of an IPv6 literal.
    public var host: String
    public var port: Int
    /// The database named in the URL; defaults to the user name, as in libpq.
    public var database: String
    /// Query parameters (sslmode, sslrootcert, application_name, connect_timeout ...), percent-decoded and kept
    /// as given: whoever opens the connection validates them. `user`, `password`, `dbname`, `host` and `port`
    /// never appear here: as in libpq they override the matching part of the URL.
    public var parameters: [String: String]

    public init(
        user: String, password: String? = nil, host: String = UpstreamURL.defaultHost,
        port: Int = UpstreamURL.defaultPort, database: String? = nil, parameters: [String: String] = [:],
        scheme: String = "postgres"
    ) {
        self.scheme = scheme
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database ?? user
        self.parameters = parameters
    }

    /// Parses a URL. A missing user name is taken from PGUSER, then USER, then LOGNAME in `environment`
    /// (as libpq does); a missing host is `localhost`, a missing port 5432, a missing database the user name.
    public init(parsing text: String, environment: [String: String] = [:]) throws(ConfigError) {
        do {
            self = try Self.parse(text, environment: environment)
        } catch {
            var reason = error.reason
            if Self.userInfoMayBeMisplit(text) {
                reason =
                    (error.unquotedReason ?? error.reason)
                    + " (percent-encode any /, ? or @ in the password: %2F, %3F, %40)"
            }
            throw .invalidUpstreamURL(url: Self.maskPasswords(in: text), reason: reason)
        }
    }

    /// `host:port`, with brackets around an IPv6 address.
    public var hostAndPort: String {
        "\(Self.bracketed(self.host)):\(self.port)"
    }

    /// The URL with the password (and any `sslpassword` parameter) replaced by `***`; without a password, no
    /// colon part at all. Port and database are always written out, parameters sorted by name.
    public var masked: String {
        var text = "\(self.scheme)://\(Self.percentEncode(self.user))"
        if self.password != nil {
            text += ":***"
        }
        // "%" only occurs in an IPv6 zone ("fe80::1%eth0"), which URLs write as %25 (RFC 6874).
        let host = Self.bracketed(self.host.replacingOccurrences(of: "%", with: "%25"))
        text += "@\(host):\(self.port)/\(Self.percentEncode(self.database))"
        if !self.parameters.isEmpty {
            let pairs = self.parameters.sorted { $0.key < $1.key }.map { key, value in
                let shown = Self.secretParameters.contains(key) ? "***" : Self.percentEncode(value)
                return "\(Self.percentEncode(key))=\(shown)"
            }
            text += "?" + pairs.joined(separator: "&")
        }
        return text
    }

    /// Masks what looks like a password in text that may not even parse as a URL (for error messages):
    /// everything between the `:` after `scheme://` and the last `@` (all that precedes the last `@` when there is
    /// no `://`), and the value of any `password=` / `sslpassword=`. It may hide more than the password, never less.
    public static func maskPasswords(in text: String) -> String {
        var result = Substring(text)
        if let at = result.lastIndex(of: "@") {
            if let separator = result[..<at].range(of: "://") {
                if let colon = result[separator.upperBound..<at].firstIndex(of: ":") {
                    result.replaceSubrange(result.index(after: colon)..<at, with: "***")
                }
            } else {
                result.replaceSubrange(result.startIndex..<at, with: "***")
            }
        }
        return Self.maskKeywordValues(in: String(result))
    }

    /// Query parameters whose values are secrets and are masked like the password.
    static let secretParameters: Set<String> = ["sslpassword"]
}

extension UpstreamURL: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { self.masked }
    public var debugDescription: String { "UpstreamURL(\(self.masked))" }
    /// `dump` and the default printing of enclosing types go through the mirror: show the masked URL only.
    public var customMirror: Mirror {
        Mirror(self, children: ["url": self.masked], displayStyle: .struct)
    }
}

// MARK: - Parsing

extension UpstreamURL {
    struct Failure: Error {
        var reason: String
        /// The same reason without quoting any part of the input, for URLs whose user info may have been split
        /// in the wrong place (then a quoted "port" or "host" could be a piece of the password).
        var unquotedReason: String?

        init(reason: String, unquoted: String? = nil) {
            self.reason = reason
            self.unquotedReason = unquoted
        }
    }

    /// True when the text has an `@` that did not end up ending the user info: a password holding an
    /// unencoded `/` or `?` cuts the URL short, and the parts after the cut may be pieces of the password.
    static func userInfoMayBeMisplit(_ text: String) -> Bool {
        guard let separator = text.range(of: "://") else {
            return text.contains("@")
        }
        let rest = text[separator.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        return !authority.contains("@") && rest.contains("@")
    }

    private static func parse(_ text: String, environment: [String: String]) throws(Failure) -> UpstreamURL {
        guard let separator = text.range(of: "://") else {
            if text.contains("=") {
                throw Failure(
                    reason: "keyword/value connection strings (host=... dbname=...) are not supported; "
                        + "write a URL such as postgres://user@host:5432/db"
                )
            }
            throw Failure(reason: "it must start with postgres:// or postgresql://")
        }
        let scheme = String(text[..<separator.lowerBound])
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw Failure(reason: "unsupported scheme \"\(scheme)\"; use postgres:// or postgresql://")
        }
        var rest = text[separator.upperBound...]
        var query: Substring?
        if let questionMark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: questionMark)...]
            rest = rest[..<questionMark]
        }
        var path: Substring?
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        // The last "@" ends the user info, so an unencoded "@" in a password still parses.
        var hostPort = rest
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            hostPort = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = try Self.percentDecode(userInfo[..<colon], part: "user name")
                password = try Self.percentDecode(userInfo[userInfo.index(after: colon)...], part: "password")
            } else {
                user = try Self.percentDecode(userInfo, part: "user name")
            }
        }
        var (host, port) = try Self.parseHostPort(hostPort)
        var database = try path.map { (path) throws(Failure) in try Self.percentDecode(path, part: "database name") }

        var parameters: [String: String] = [:]
        if let query, !query.isEmpty {
            for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
                guard let equals = pair.firstIndex(of: "=") else {
                    throw Failure(
                        reason: "query parameter \"\(pair)\" has no value (write name=value)",
                        unquoted: "a query parameter has no value (write name=value)"
                    )
                }
                let key = try Self.percentDecode(pair[..<equals], part: "query parameter name")
                let value = try Self.percentDecode(pair[pair.index(after: equals)...], part: "query parameter \(key)")
                guard !key.isEmpty else {
                    throw Failure(reason: "a query parameter has an empty name")
                }
                switch key {
                case "user": user = value
                case "password": password = value
                case "dbname": database = value
                case "host": host = try Self.parseHostPort(Substring(value)).host
                case "port": port = try Self.parsePort(Substring(value))
                default: parameters[key] = value
                }
            }
        }

        if let host, host.hasPrefix("/") {
            throw Failure(
                reason: "Unix-domain sockets (\(host)) are not supported; give a TCP host name or address",
                unquoted: "Unix-domain sockets are not supported; give a TCP host name or address"
            )
        }
        let resolvedUser: String
        if let user, !user.isEmpty {
            resolvedUser = user
        } else if let fallback = ["PGUSER", "USER", "LOGNAME"].lazy.compactMap({ environment[$0] })
            .first(where: { !$0.isEmpty })
        {
            resolvedUser = fallback
        } else {
            throw Failure(reason: "no user name; write one in the URL, as in postgres://USER@host:5432/db")
        }
        return UpstreamURL(
            user: resolvedUser,
            // An empty password means "none", as in libpq: PGPASSWORD and pgpass are consulted next.
            password: password.flatMap { $0.isEmpty ? nil : $0 },
            host: host ?? Self.defaultHost,
            port: port ?? Self.defaultPort,
            database: database.flatMap { $0.isEmpty ? nil : $0 } ?? resolvedUser,
            parameters: parameters,
            scheme: scheme
        )
    }

    /// `host`, `host:port`, `:port`, `[v6]`, `[v6]:port` or empty; nil parts take the defaults.
    private static func parseHostPort(_ text: Substring) throws(Failure) -> (host: String?, port: Int?) {
        if text.contains(",") {
            throw Failure(
                reason: "several hosts (\(text)) are not supported; give one host",
                unquoted: "several hosts are not supported; give one host"
            )
        }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw Failure(reason: "the IPv6 address has no closing \"]\"")
            }
            let host = try Self.percentDecode(text[text.index(after: text.startIndex)..<close], part: "host")
            guard !host.isEmpty else {
                throw Failure(reason: "the IPv6 address between [ and ] is empty")
            }
            let after = text[text.index(after: close)...]
            if after.isEmpty {
                return (host, nil)
            }
            guard after.hasPrefix(":") else {
                throw Failure(
                    reason: "unexpected \"\(after)\" after the IPv6 address; expected :PORT",
                    unquoted: "unexpected text after the IPv6 address; expected :PORT"
                )
            }
            return (host, try Self.parsePort(after.dropFirst()))
        }
        var hostText = text
        var port: Int?
        if let colon = text.firstIndex(of: ":") {
            let portText = text[text.index(after: colon)...]
            if portText.contains(":") {
                throw Failure(
                    reason: "an IPv6 address must be written in brackets, as in postgres://user@[::1]:5432/db")
            }
            hostText = text[..<colon]
            port = try Self.parsePort(portText)
        }
        let host = try Self.percentDecode(hostText, part: "host")
        return (host.isEmpty ? nil : host, port)
    }

    /// An empty port means the default, as in libpq.
    private static func parsePort(_ text: Substring) throws(Failure) -> Int? {
        if text.isEmpty {
            return nil
        }
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw Failure(reason: "port \"\(text)\" is not a number", unquoted: "the port is not a number")
        }
        guard let value = Int(text), (1...65535).contains(value) else {
            throw Failure(
                reason: "port \(text) is out of range (1-65535)", unquoted: "the port is out of range (1-65535)"
            )
        }
        return value
    }

    /// Decodes `%XX` sequences (and nothing else: `+` stays `+`, as in libpq) into UTF-8 text.
    static func percentDecode(_ text: Substring, part: String) throws(Failure) -> String {
        guard text.contains("%") else {
            return String(text)
        }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue)
            else {
                throw Failure(
                    reason: "the \(part) has an invalid percent-encoding (\"%\" must be followed by two hex digits)")
            }
            let decoded = high << 4 | low
            guard decoded != 0 else {
                throw Failure(reason: "the \(part) contains %00, which PostgreSQL cannot accept")
            }
            bytes.append(decoded)
        }
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw Failure(reason: "the \(part) is not valid UTF-8 once percent-decoded")
        }
        return string
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Percent-encodes everything but the unreserved characters of RFC 3986, so the masked URL parses back.
    static func percentEncode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                result += byte < 16 ? "%0\(hex)" : "%\(hex)"
            }
        }
        return result
    }

    static func bracketed(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }

    /// Replaces the value after `password=` (which also covers `sslpassword=`) up to `&`, a space or the end;
    /// a value in single quotes (keyword/value syntax) is masked up to its closing quote.
    private static func maskKeywordValues(in text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let range = rest.range(of: "password=", options: .caseInsensitive) {
            result += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            var end = rest.startIndex
            if rest.first == "'" {
                end = rest.index(after: end)
                while end < rest.endIndex, rest[end] != "'" {
                    end =
                        rest[end] == "\\" && rest.index(after: end) < rest.endIndex
                        ? rest.index(end, offsetBy: 2) : rest.index(after: end)
                }
                end = end < rest.endIndex ? rest.index(after: end) : end
            } else {
                end = rest.firstIndex(where: { $0 == "&" || $0 == " " || $0 == "\t" }) ?? rest.endIndex
            }
            if end > rest.startIndex {
                result += "***"
            }
            rest = rest[end...]
        }
        return result + rest
    }
}

/// The options of `pgreel proxy` as the command line gave them: nil or false means "not given", so the config
/// file or the default applies. Values are raw text; `ProxyConfiguration.resolve` validates them.
public struct CommandLineFlags: Sendable, Equatable {
    /// `--listen HOST:PORT`, `:PORT`, `PORT` or `[::1]:PORT`.
    public var listen: String?
    /// `--upstream URL`: the upstream of every `--user` and of pseudo users that name none.
    public var upstream: String?
    /// `--user NAME[:PASSWORD]`, repeatable.
    public var users: [String]
    /// `--config FILE`.
    public var config: String?
    /// `--sessions DIR`.
    public var sessions: String?
    /// `--no-record`.
    public var noRecord: Bool
    /// `--max-recorded-rows N`.
    public var maxRecordedRows: Int?
    /// `--log-format text|json` (the command line parses the name).
    public var logFormat: LogFormat?
    /// `--quiet`.
    public var quiet: Bool
    /// `--tls-cert FILE` and `--tls-key FILE`: PEM certificate chain and private key for TLS toward clients.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// `--tls-required`: refuse clients that do not encrypt.
    public var tlsRequired: Bool
    /// `--max-connections N`: client sessions at once.
    public var maxConnections: Int?
    /// `--auth-timeout SECONDS`: how long a client may take to authenticate.
    public var authTimeout: Int?

    public init(
        listen: String? = nil, upstream: String? = nil, users: [String] = [], config: String? = nil,
        sessions: String? = nil, noRecord: Bool = false, maxRecordedRows: Int? = nil, logFormat: LogFormat? = nil,
        quiet: Bool = false, tlsCertificate: String? = nil, tlsKey: String? = nil, tlsRequired: Bool = false,
        maxConnections: Int? = nil, authTimeout: Int? = nil
    ) {
        self.tlsCertificate = tlsCertificate
        self.tlsKey = tlsKey
        self.tlsRequired = tlsRequired
        self.maxConnections = maxConnections
        self.authTimeout = authTimeout
        self.listen = listen
        self.upstream = upstream
        self.users = users
        self.config = config
        self.sessions = sessions
        self.noRecord = noRecord
        self.maxRecordedRows = maxRecordedRows
        self.logFormat = logFormat
        self.quiet = quiet
    }
}

extension CommandLineFlags: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The flags as they could be typed again, with every password masked.
    public var description: String {
        var parts: [String] = []
        if let listen = self.listen { parts.append("--listen \(listen)") }
        if let upstream = self.upstream { parts.append("--upstream \(UpstreamURL.maskPasswords(in: upstream))") }
        for user in self.users {
            parts.append("--user \(Self.maskedUser(user))")
        }
        if let config = self.config { parts.append("--config \(config)") }
        if let sessions = self.sessions { parts.append("--sessions \(sessions)") }
        if self.noRecord { parts.append("--no-record") }
        if let rows = self.maxRecordedRows { parts.append("--max-recorded-rows \(rows)") }
        if let format = self.logFormat { parts.append("--log-format \(format)") }
        if self.quiet { parts.append("--quiet") }
        if let path = self.tlsCertificate { parts.append("--tls-cert \(path)") }
        if let path = self.tlsKey { parts.append("--tls-key \(path)") }
        if self.tlsRequired { parts.append("--tls-required") }
        if let limit = self.maxConnections { parts.append("--max-connections \(limit)") }
        if let seconds = self.authTimeout { parts.append("--auth-timeout \(seconds)") }
        return parts.joined(separator: " ")
    }

    public var debugDescription: String { "CommandLineFlags(\(self.description))" }

    public var customMirror: Mirror {
        Mirror(self, children: ["flags": self.description], displayStyle: .struct)
    }

    /// `NAME:***` for `NAME:PASSWORD`, the name alone otherwise.
    static func maskedUser(_ value: String) -> String {
        guard let colon = value.firstIndex(of: ":") else {
            return value
        }
        return "\(value[..<colon]):***"
    }
}

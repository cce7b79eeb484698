/// Everything `pgreel proxy` runs with, resolved from command-line flags, a TOML file and defaults
/// (in that order of precedence), with every upstream password already found and every value checked.
public struct ProxyConfiguration: Sendable, Equatable {
    public static let defaultListenHost = "127.0.0.1"
    public static let defaultListenPort = 5433
    public static let defaultUpstream = "postgres://postgres@localhost:5432/postgres"
    public static let defaultUserName = "pseudo_user"
    public static let defaultSessionsDirectory = "./sessions"
    public static let defaultMaxRecordedRows = 1000
    /// PostgreSQL's authentication_timeout.
    public static let defaultAuthTimeout = 60

    public var listenHost: String
    /// 0 lets the system pick a free port.
    public var listenPort: Int
    /// The pseudo users, in the order they were given (file first, then `--user` flags).
    public var users: [PseudoUser]
    public var sessionsDirectory: String
    public var recording: Bool
    /// Rows kept per result set in session files (the rest are counted and digested). 0 keeps none.
    public var maxRecordedRows: Int
    public var logFormat: LogFormat
    public var quiet: Bool
    /// TLS toward clients; nil: SSLRequest is answered `N`.
    public var tls: ClientTLSFiles?
    /// Client sessions at once (authenticating or relaying); nil for no limit.
    public var maxConnections: Int?
    /// Seconds a client may take from connecting to being authenticated.
    public var authTimeout: Int
    /// The `--config` file, if one was read.
    public var configFile: String?
    /// Things worth telling the user that do not stop the proxy (a readable file with passwords, an ignored
    /// pgpass file, a user that accepts any password ...). The CLI prints them at startup.
    public var warnings: [String]

    public init(
        listenHost: String = ProxyConfiguration.defaultListenHost,
        listenPort: Int = ProxyConfiguration.defaultListenPort, users: [PseudoUser],
        sessionsDirectory: String = ProxyConfiguration.defaultSessionsDirectory, recording: Bool = true,
        maxRecordedRows: Int = ProxyConfiguration.defaultMaxRecordedRows, logFormat: LogFormat = .text,
        quiet: Bool = false, tls: ClientTLSFiles? = nil, maxConnections: Int? = nil,
        authTimeout: Int = ProxyConfiguration.defaultAuthTimeout, configFile: String? = nil, warnings: [String] = []
    ) {
        self.tls = tls
        self.maxConnections = maxConnections
        self.authTimeout = authTimeout
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.users = users
        self.sessionsDirectory = sessionsDirectory
        self.recording = recording
        self.maxRecordedRows = maxRecordedRows
        self.logFormat = logFormat
        self.quiet = quiet
        self.configFile = configFile
        self.warnings = warnings
    }

    /// The pseudo user a startup message names; names are compared exactly, as PostgreSQL does.
    public func user(named name: String) -> PseudoUser? {
        self.users.first { $0.name == name }
    }

    /// `host:port` as a client would write it (brackets around IPv6).
    public var listenAddress: String {
        "\(UpstreamURL.bracketed(self.listenHost)):\(self.listenPort)"
    }
}

extension ProxyConfiguration: CustomStringConvertible {
    /// A multi-line summary without any password (the users' upstreams are masked).
    public var description: String {
        var lines = ["listen: \(self.listenAddress)"]
        lines += self.users.map { "user: \($0.description)" }
        lines.append("sessions: \(self.sessionsDirectory)\(self.recording ? "" : " (recording off)")")
        lines.append("max recorded rows: \(self.maxRecordedRows)")
        lines.append("log format: \(self.logFormat.rawValue)\(self.quiet ? " (quiet)" : "")")
        if let tls = self.tls {
            lines.append("tls: \(tls.certificatePath), \(tls.keyPath)\(tls.required ? " (required)" : "")")
        }
        lines.append("max connections: \(self.maxConnections.map(String.init) ?? "no limit")")
        lines.append("auth timeout: \(self.authTimeout) s")
        return lines.joined(separator: "\n")
    }
}

// MARK: - Resolving flags, file and defaults

extension ProxyConfiguration {
    /// Builds the configuration: flags override the file, the file overrides the defaults.
    ///
    /// - Parameters:
    ///   - environment: the process environment (PGPASSWORD, PGPASSFILE, HOME, PGUSER, `password_env` variables).
    ///   - readFile: reads the `--config` file and the pgpass file.
    ///   - fileStatus: permissions of those files (a readable config file with passwords gets a warning; a pgpass
    ///     file with group or world access is ignored, as libpq does).
    public static func resolve(
        flags: CommandLineFlags,
        environment: [String: String],
        readFile: (String) throws -> String,
        fileStatus: (String) -> FileStatus? = LocalFiles.status(of:)
    ) throws(ConfigError) -> ProxyConfiguration {
        var warnings: [String] = []

        var file: ConfigFile?
        if let path = flags.config {
            let text: String
            do {
                text = try readFile(path)
            } catch let error as ConfigError {
                throw error
            } catch {
                throw .cannotReadFile(path: path, reason: "\(error)")
            }
            let parsed = try ConfigFile.parse(text, path: path, environment: environment)
            if parsed.containsPasswords, let status = fileStatus(path), status.isGroupOrWorldReadable {
                warnings.append(
                    "\(path) holds passwords and others can read it (mode \(String(status.permissions, radix: 8))); "
                        + "chmod 600 \(path)"
                )
            }
            file = parsed
        }

        // Listen address: a flag without a host (":6000", "6000") keeps the host from the file or the default.
        var listenHost = Self.defaultListenHost
        var listenPort = Self.defaultListenPort
        for address in [file?.listen, try flags.listen.map(Self.parseListenFlag)].compactMap({ $0 }) {
            listenHost = address.host ?? listenHost
            listenPort = address.port
        }

        var sessions = flags.sessions ?? file?.sessions ?? Self.defaultSessionsDirectory
        if sessions.isEmpty {
            throw .invalidValue(key: "--sessions", reason: "must not be empty")
        }
        sessions = Self.expandTilde(sessions, environment: environment)

        let recording = flags.noRecord ? false : (file?.record ?? true)
        try SettingRange.maxRecordedRows.check(flags.maxRecordedRows, key: "--max-recorded-rows")
        let maxRecordedRows = flags.maxRecordedRows ?? file?.maxRecordedRows ?? Self.defaultMaxRecordedRows

        let logFormat = flags.logFormat ?? file?.logFormat ?? .text
        let quiet = flags.quiet || (file?.quiet ?? false)
        let tls = try Self.resolveTLS(flags: flags, file: file, environment: environment, fileStatus: fileStatus)

        try SettingRange.maxConnections.check(flags.maxConnections, key: "--max-connections")
        try SettingRange.authTimeout.check(flags.authTimeout, key: "--auth-timeout")

        var resolver = UpstreamResolver(file: file, flagUpstream: flags.upstream, environment: environment)
        let users = try Self.resolveUsers(flags: flags, file: file, resolver: &resolver, warnings: &warnings)
        let resolved = try resolver.resolvePasswords(users, readFile: readFile, fileStatus: fileStatus)
        warnings += resolver.warnings

        return ProxyConfiguration(
            listenHost: listenHost, listenPort: listenPort, users: resolved, sessionsDirectory: sessions,
            recording: recording, maxRecordedRows: maxRecordedRows, logFormat: logFormat, quiet: quiet, tls: tls,
            maxConnections: flags.maxConnections ?? file?.maxConnections,
            authTimeout: flags.authTimeout ?? file?.authTimeout ?? Self.defaultAuthTimeout,
            configFile: flags.config, warnings: warnings
        )
    }

    /// `--tls-cert`/`tls_cert` and `--tls-key`/`tls_key` come together (a flag overrides the file); the key file
    /// must be private, as PostgreSQL requires of ssl_key_file.
    private static func resolveTLS(
        flags: CommandLineFlags, file: ConfigFile?, environment: [String: String],
        fileStatus: (String) -> FileStatus?
    ) throws(ConfigError) -> ClientTLSFiles? {
        let required = flags.tlsRequired || (file?.tlsRequired ?? false)
        let certificate = (flags.tlsCertificate ?? file?.tlsCertificate).map { Self.expandTilde($0, environment: environment) }
        let key = (flags.tlsKey ?? file?.tlsKey).map { Self.expandTilde($0, environment: environment) }
        guard let certificate, let key else {
            if certificate != nil || key != nil {
                throw .invalidValue(
                    key: "--tls-cert", reason: "and --tls-key go together (tls_cert and tls_key in the file): give both")
            }
            if required {
                throw .invalidValue(
                    key: "--tls-required", reason: "needs a certificate: give --tls-cert FILE and --tls-key FILE")
            }
            return nil
        }
        if certificate.isEmpty || key.isEmpty {
            throw .invalidValue(key: "--tls-cert", reason: "and --tls-key must not be empty")
        }
        guard fileStatus(certificate) != nil else {
            throw .cannotReadFile(path: certificate, reason: "no such file (--tls-cert)")
        }
        guard let status = fileStatus(key) else {
            throw .cannotReadFile(path: key, reason: "no such file (--tls-key)")
        }
        guard status.isRegularFile else {
            throw .invalidValue(key: "--tls-key", reason: "\(key) is not a plain file")
        }
        if status.hasGroupOrWorldAccess {
            throw .insecureKeyFile(path: key, permissions: status.permissions)
        }
        return ClientTLSFiles(certificatePath: certificate, keyPath: key, required: required)
    }

    private static func parseListenFlag(_ text: String) throws(ConfigError) -> ListenAddress {
        do {
            return try ListenAddress(parsing: text)
        } catch {
            throw .inFlag("--listen", error)
        }
    }

    /// `~` and `~/...` become the home directory, so a quoted path in the file works like one typed in a shell.
    static func expandTilde(_ path: String, environment: [String: String]) -> String {
        guard path == "~" || path.hasPrefix("~/"), let home = environment["HOME"], !home.isEmpty else {
            return path
        }
        return home + path.dropFirst()
    }

    /// `NAME[:PASSWORD]`: the password is everything after the first colon.
    static func parseUserFlag(_ value: String) throws(ConfigError) -> (name: String, password: String?) {
        guard let colon = value.firstIndex(of: ":") else {
            try Self.checkUserFlagName(value)
            return (value, nil)
        }
        let name = String(value[..<colon])
        let password = String(value[value.index(after: colon)...])
        try Self.checkUserFlagName(name)
        guard !password.isEmpty else {
            throw .invalidUserFlag(
                name: name, reason: "the password after \":\" is empty; write --user \(name) to accept any password"
            )
        }
        return (name, password)
    }

    private static func checkUserFlagName(_ name: String) throws(ConfigError) {
        do {
            try ConfigFile.checkUserName(name)
        } catch {
            throw .inFlag("--user", error)
        }
    }

    /// File users first, then `--user` flags (which replace a file user of the same name); the default
    /// `pseudo_user` only when neither gives any. Upstream passwords are not resolved yet.
    private static func resolveUsers(
        flags: CommandLineFlags, file: ConfigFile?, resolver: inout UpstreamResolver, warnings: inout [String]
    ) throws(ConfigError) -> [PendingUser] {
        if flags.upstream != nil {
            // Checked even when no user ends up using it: a bad URL must not pass unnoticed.
            _ = try resolver.upstream(for: nil)
        }
        var users: [PendingUser] = []
        if let file {
            var seen: Set<String> = []
            for (index, user) in file.users.enumerated() {
                guard seen.insert(user.name).inserted else {
                    throw .inFile(
                        path: file.path, table: "users #\(index + 1) (\"\(user.name)\")", .duplicateUser(user.name))
                }
                let upstream = try resolver.upstream(for: user.upstream)
                if user.password == nil && user.authMethod == nil {
                    warnings.append(
                        "pseudo user \"\(user.name)\" in \(file.path) has no password: any password is accepted "
                            + "(set a password, or auth = \"trust\" to silence this warning)"
                    )
                }
                users.append(
                    PendingUser(
                        user: PseudoUser(
                            name: user.name, password: user.password, authMethod: user.authMethod,
                            upstream: upstream.url, allowedDatabases: user.databases,
                            maxConnections: user.maxConnections
                        ),
                        upstream: upstream
                    )
                )
            }
        }

        var flagNames: Set<String> = []
        for value in flags.users {
            let (name, password) = try Self.parseUserFlag(value)
            guard flagNames.insert(name).inserted else {
                throw .inFlag("--user", .duplicateUser(name))
            }
            let upstream = try resolver.upstream(for: nil)
            let user = PendingUser(
                user: PseudoUser(name: name, password: password, upstream: upstream.url), upstream: upstream
            )
            if let index = users.firstIndex(where: { $0.user.name == name }) {
                warnings.append(
                    "--user \(name) replaces the pseudo user \"\(name)\" of \(flags.config ?? "the config file")")
                users[index] = user
            } else {
                users.append(user)
            }
        }

        if users.isEmpty {
            let upstream = try resolver.upstream(for: nil)
            users.append(
                PendingUser(user: PseudoUser(name: Self.defaultUserName, upstream: upstream.url), upstream: upstream))
        }

        if let flag = flags.upstream, !users.contains(where: { $0.upstream.isDefault }) {
            warnings.append(
                "--upstream \(UpstreamURL.maskPasswords(in: flag)) is not used: "
                    + "every pseudo user names its own upstream"
            )
        }
        return users
    }
}

/// The `--tls-cert`, `--tls-key` and `--tls-required` a configuration resolved to; `ClientTLS` loads them.
public struct ClientTLSFiles: Sendable, Equatable {
    public var certificatePath: String
    public var keyPath: String
    public var required: Bool

    public init(certificatePath: String, keyPath: String, required: Bool = false) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.required = required
    }
}

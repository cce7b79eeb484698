/// A pseudo user whose upstream password is still to be found.
struct PendingUser {
    var user: PseudoUser
    var upstream: ResolvedUpstream
}

/// An upstream with the password sources the config gives for it (before PGPASSWORD and pgpass).
struct ResolvedUpstream {
    var url: UpstreamURL
    /// From the URL or the `password` key of its table.
    var inlinePassword: (password: String, source: PasswordSource)?
    var passwordEnvironmentVariable: String?
    /// Where errors about it are reported.
    var location: (path: String, table: String)?
    /// True for the default upstream (`--upstream`, the file's `upstream`, or the built-in URL).
    var isDefault: Bool
}

/// Turns upstream references into URLs and finds their passwords, reading the pgpass file at most once.
struct UpstreamResolver {
    let file: ConfigFile?
    let environment: [String: String]
    var warnings: [String] = []
    /// The `--upstream` flag, which overrides the file's `upstream`.
    let flagUpstream: String?
    private var defaultUpstream: ResolvedUpstream?

    init(file: ConfigFile?, flagUpstream: String?, environment: [String: String]) {
        self.file = file
        self.flagUpstream = flagUpstream
        self.environment = environment
    }

    /// The upstream a user points at; nil means the default upstream (flag > file > built-in).
    mutating func upstream(for reference: ConfigFile.UpstreamReference?) throws(ConfigError) -> ResolvedUpstream {
        switch reference {
        case .url(let url):
            return ResolvedUpstream(url: url, inlinePassword: url.password.map { ($0, .url) }, isDefault: false)
        case .named(let name):
            return self.named(name, isDefault: false)
        case nil:
            return try self.defaultUpstreamValue()
        }
    }

    private func named(_ name: String, isDefault: Bool) -> ResolvedUpstream {
        // ConfigFile.parse checked that every name refers to a table.
        let table = self.file!.upstream(named: name)!
        var inline: (String, PasswordSource)?
        if let password = table.url.password {
            inline = (password, .url)
        } else if let password = table.password {
            inline = (password, .configFile(path: self.file!.path))
        }
        return ResolvedUpstream(
            url: table.url, inlinePassword: inline, passwordEnvironmentVariable: table.passwordEnvironmentVariable,
            location: (self.file!.path, "upstreams.\(name)"), isDefault: isDefault
        )
    }

    private mutating func defaultUpstreamValue() throws(ConfigError) -> ResolvedUpstream {
        if let upstream = self.defaultUpstream {
            return upstream
        }
        var upstream: ResolvedUpstream
        if let flag = self.flagUpstream {
            let url: UpstreamURL
            do {
                url = try UpstreamURL(parsing: flag, environment: self.environment)
            } catch {
                throw .inFlag("--upstream", error)
            }
            upstream = ResolvedUpstream(url: url, inlinePassword: url.password.map { ($0, .url) }, isDefault: true)
        } else if let reference = self.file?.upstream {
            upstream = try self.upstream(for: reference)
            upstream.isDefault = true
        } else {
            // The built-in default always parses; the environment only matters for a URL without a user.
            let url = (try? UpstreamURL(parsing: ProxyConfiguration.defaultUpstream)) ?? UpstreamURL(user: "postgres")
            upstream = ResolvedUpstream(url: url, isDefault: true)
        }
        self.defaultUpstream = upstream
        return upstream
    }

    /// Resolves each user's upstream password: inline (URL or `password`), then `password_env`, then
    /// PGPASSWORD, then the pgpass file (PGPASSFILE or ~/.pgpass).
    mutating func resolvePasswords(
        _ pending: [PendingUser], readFile: (String) throws -> String, fileStatus: (String) -> FileStatus?
    ) throws(ConfigError) -> [PseudoUser] {
        var passwordFile: (path: String, file: PgPass)??  // loaded once, when first needed
        var users: [PseudoUser] = []
        for item in pending {
            var user = item.user
            var url = item.upstream.url
            var source: PasswordSource = .notFound
            if let inline = item.upstream.inlinePassword {
                url.password = inline.password
                source = inline.source
            } else if let variable = item.upstream.passwordEnvironmentVariable {
                guard let value = self.environment[variable], !value.isEmpty else {
                    let location = item.upstream.location
                    throw .inFile(
                        path: location?.path ?? "", table: location?.table,
                        .environmentVariableNotSet(key: "password_env", variable: variable)
                    )
                }
                url.password = value
                source = .environment(variable: variable)
            } else {
                if passwordFile == nil {
                    passwordFile = self.loadPasswordFile(readFile: readFile, fileStatus: fileStatus)
                }
                let found = PgPass.resolvePassword(for: url, environment: self.environment, passwordFile: passwordFile!)
                url.password = found.password
                source = found.source
            }
            user.upstream = url
            user.upstreamPasswordSource = source
            do {
                user.upstreamTLS = try UpstreamTLSSettings(
                    url: url, environment: self.environment, fileExists: { fileStatus($0) != nil })
                user.upstreamMaxProtocolVersion = try ProtocolVersion.upstreamMaximum(
                    url: url, environment: self.environment)
            } catch {
                if let location = item.upstream.location {
                    throw .inFile(path: location.path, table: location.table, error)
                }
                if item.upstream.isDefault, self.flagUpstream != nil {
                    throw .inFlag("--upstream", error)
                }
                throw error
            }
            users.append(user)
        }
        return users
    }

    /// Reads the pgpass file unless PGPASSWORD makes it unnecessary; a problem with it is a warning, as in libpq.
    private mutating func loadPasswordFile(
        readFile: (String) throws -> String, fileStatus: (String) -> FileStatus?
    ) -> (path: String, file: PgPass)? {
        if let password = self.environment["PGPASSWORD"], !password.isEmpty {
            return nil
        }
        guard let path = PgPass.filePath(environment: self.environment) else {
            return nil
        }
        let loaded = PgPass.load(path: path, fileStatus: fileStatus, readFile: readFile)
        if let warning = loaded.warning {
            self.warnings.append(warning)
        }
        return loaded.file.map { (path, $0) }
    }
}

/// A user name that clients log in with at the proxy, mapped to real credentials on an upstream server.
///
/// Clients never learn the real user or password: the proxy checks the pseudo password itself (`authMethod`)
/// and logs in upstream as `realUser` with the password resolved into `upstream`.
public struct PseudoUser: Sendable, Equatable {
    public var name: String
    /// The password a client must give; nil with `.trust`: any password (or none) is accepted.
    public var password: String?
    public var authMethod: AuthMethod
    /// The real server, with its password already resolved (URL, password_env, PGPASSWORD or pgpass).
    public var upstream: UpstreamURL
    /// Where `upstream.password` came from, to tell the user without showing it.
    public var upstreamPasswordSource: PasswordSource
    /// nil: the database a client asks for passes through unchanged. A list: only those databases are allowed.
    public var allowedDatabases: [String]?
    /// At most this many client sessions at once for this user; nil for no limit.
    public var maxConnections: Int?
    /// sslmode, sslrootcert and channel_binding of the upstream URL (libpq's defaults: prefer, no root file).
    public var upstreamTLS: UpstreamTLSSettings
    /// The newest protocol version pgreel asks the upstream for (`max_protocol_version` of its URL).
    public var upstreamMaxProtocolVersion = ProtocolVersion.latest

    public init(
        name: String, password: String? = nil, authMethod: AuthMethod? = nil, upstream: UpstreamURL,
        upstreamPasswordSource: PasswordSource? = nil, allowedDatabases: [String]? = nil, maxConnections: Int? = nil,
        upstreamTLS: UpstreamTLSSettings = UpstreamTLSSettings()
    ) {
        self.upstreamTLS = upstreamTLS
        self.name = name
        self.password = password
        self.authMethod = authMethod ?? (password == nil ? .trust : .scramSHA256)
        self.upstream = upstream
        self.upstreamPasswordSource = upstreamPasswordSource ?? (upstream.password == nil ? .notFound : .url)
        self.allowedDatabases = allowedDatabases
        self.maxConnections = maxConnections
    }

    /// The real user name the proxy logs in with upstream (from the URL).
    public var realUser: String {
        self.upstream.user
    }

    /// The database to open upstream for a client that asked for `requested`, or nil when this user may not
    /// use it. A client that names no database (nil or empty) gets the database of the upstream URL.
    public func upstreamDatabase(forRequested requested: String?) -> String? {
        let database = requested.flatMap { $0.isEmpty ? nil : $0 } ?? self.upstream.database
        if let allowed = self.allowedDatabases, !allowed.contains(database) {
            return nil
        }
        return database
    }
}

extension PseudoUser: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// One line without any password: `alice (scram-sha-256) -> postgres://postgres:***@localhost:5432/postgres`.
    public var description: String {
        var text = "\(self.name) (\(self.authMethod.rawValue)) -> \(self.upstream.masked)"
        if let databases = self.allowedDatabases {
            text += " databases: \(databases.joined(separator: ", "))"
        }
        if let limit = self.maxConnections {
            text += " max connections: \(limit)"
        }
        return text
    }

    public var debugDescription: String { "PseudoUser(\(self.description))" }

    /// `dump` and the printing of enclosing types go through the mirror: no password in it.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "name": self.name,
                "password": self.password == nil ? "none" : "***",
                "authMethod": self.authMethod,
                "upstream": self.upstream.masked,
                "upstreamPasswordSource": self.upstreamPasswordSource,
                "allowedDatabases": self.allowedDatabases as Any,
                "maxConnections": self.maxConnections as Any,
                "upstreamTLS": self.upstreamTLS.description,
            ],
            displayStyle: .struct
        )
    }
}

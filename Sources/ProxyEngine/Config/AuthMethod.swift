/// How the proxy checks a client's password for a pseudo user; the names are those of pg_hba.conf.
public enum AuthMethod: String, Sendable, Equatable, Hashable, CaseIterable, CustomStringConvertible {
    /// SCRAM-SHA-256: the password never crosses the wire. The default whenever a password is set.
    case scramSHA256 = "scram-sha-256"
    /// MD5 challenge: for old clients that do not speak SCRAM.
    case md5 = "md5"
    /// Cleartext password ("password" in pg_hba.conf): only safe on a trusted network.
    case cleartext = "password"
    /// No check: any client that names the user is let in, whatever password it gives (the seed's behaviour).
    case trust = "trust"

    /// Parses a name as written in pg_hba.conf (`scram-sha-256`, `md5`, `password`, `trust`).
    public init(name: String) throws(ConfigError) {
        guard let method = AuthMethod(rawValue: name) else {
            throw .unknownAuthMethod(name)
        }
        self = method
    }

    /// True for every method that compares the client's password with a configured one.
    public var requiresPassword: Bool {
        self != .trust
    }

    public var description: String { self.rawValue }
}

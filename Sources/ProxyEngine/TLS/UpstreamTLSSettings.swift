/// libpq's `sslmode`: whether the connection to a real server is encrypted, and how far the server is trusted.
public enum SSLMode: String, Sendable, Equatable, Hashable, CaseIterable {
    /// Plain text only; no SSLRequest is sent.
    case disable
    /// Try TLS; a server that answers `N` gets a plain-text session (libpq's default).
    case prefer
    /// TLS or nothing; the certificate is not checked (unless a root certificate file is there, as in libpq).
    case require
    /// TLS, and the server's certificate chain must lead to a trusted root.
    case verifyCA = "verify-ca"
    /// As verify-ca, and the certificate must name the host connected to.
    case verifyFull = "verify-full"

    /// Whether a server without TLS is refused.
    public var requiresEncryption: Bool { self != .disable && self != .prefer }

    /// Whether the certificate chain must be verified even without a root certificate file (which is then an error).
    public var requiresVerification: Bool { self == .verifyCA || self == .verifyFull }
}

/// libpq's `sslnegotiation` (17+): how TLS starts on a connection to a real server.
public enum SSLNegotiation: String, Sendable, Equatable, Hashable, CaseIterable {
    /// SSLRequest first, TLS on `S` (every PostgreSQL version).
    case postgres
    /// TLS at once, with ALPN "postgresql", saving a round trip; PostgreSQL 17 and later only. As in libpq, only
    /// with an sslmode that requires TLS: there is no plain-text fallback to a server that does not speak it.
    case direct
}

/// libpq's `channel_binding`: whether SCRAM authentication is bound to the TLS channel (SCRAM-SHA-256-PLUS).
public enum ChannelBindingMode: String, Sendable, Equatable, Hashable, CaseIterable {
    /// Never bind, even when the server offers it.
    case disable
    /// Bind when the connection is encrypted and the server offers SCRAM-SHA-256-PLUS (libpq's default).
    case prefer
    /// Refuse any authentication that is not SCRAM-SHA-256-PLUS over TLS (so a password is never sent to a server
    /// that cannot prove it holds the certificate's key).
    case require
}

/// Where trusted root certificates come from.
public enum RootCertificates: Sendable, Equatable, Hashable {
    /// A PEM file of one or more CA certificates.
    case file(String)
    /// The operating system's store (`sslrootcert=system`).
    case system
}

/// How pgreel secures one upstream connection: the `sslmode`, `sslrootcert` and `channel_binding` of its URL,
/// with libpq's environment variables and defaults. A value: the TLS context is built from it by `UpstreamTLS`.
public struct UpstreamTLSSettings: Sendable, Equatable, Hashable {
    public var mode: SSLMode
    /// nil: the certificate chain is not checked (only allowed below verify-ca).
    public var rootCertificates: RootCertificates?
    public var channelBinding: ChannelBindingMode
    public var negotiation: SSLNegotiation

    public init(mode: SSLMode = .prefer, rootCertificates: RootCertificates? = nil,
        channelBinding: ChannelBindingMode = .prefer, negotiation: SSLNegotiation = .postgres)
    {
        self.mode = mode
        self.rootCertificates = rootCertificates
        self.channelBinding = channelBinding
        self.negotiation = negotiation
    }

    /// Plain text, as pgreel's own code uses by default for connections it makes outside a URL.
    public static let disabled = UpstreamTLSSettings(mode: .disable, channelBinding: .disable)

    /// URL parameters that name client certificates and revocation lists, which pgreel does not support: refused
    /// rather than silently ignored, since they are security settings.
    static let unsupportedParameters = ["sslcert", "sslkey", "sslcrl", "sslcrldir"]

    /// The settings a URL asks for. As libpq: a URL parameter wins over `PGSSLMODE`, `PGSSLROOTCERT`,
    /// `PGCHANNELBINDING` and `PGSSLNEGOTIATION`; without `sslrootcert`, `~/.postgresql/root.crt` is used when it
    /// exists, and is then checked even with `prefer` and `require`.
    ///
    /// - Parameter fileExists: whether a root certificate file exists (injectable for tests).
    public init(
        url: UpstreamURL, environment: [String: String], fileExists: (String) -> Bool
    ) throws(ConfigError) {
        func invalid(_ reason: String) -> ConfigError {
            .invalidUpstreamURL(url: url.masked, reason: reason)
        }
        for name in Self.unsupportedParameters where url.parameters[name] != nil {
            throw invalid("\(name) is not supported: pgreel does not present client certificates to the upstream")
        }
        let rootText = url.parameters["sslrootcert"] ?? environment["PGSSLROOTCERT"].flatMap { $0.isEmpty ? nil : $0 }
        let modeText = url.parameters["sslmode"] ?? environment["PGSSLMODE"].flatMap { $0.isEmpty ? nil : $0 }
        // As libpq 16: the system's roots make verify-full the default, and anything weaker an error.
        var mode = rootText == "system" ? SSLMode.verifyFull : SSLMode.prefer
        if let modeText {
            guard let parsed = SSLMode(rawValue: modeText) else {
                let hint = modeText == "allow" ? " (allow is not supported: use prefer)" : ""
                throw invalid(
                    "sslmode \"\(modeText)\" is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))"
                        + hint)
            }
            mode = parsed
            if rootText == "system" && mode != .verifyFull {
                throw invalid("sslrootcert=system needs sslmode=verify-full, not \(mode.rawValue)")
            }
        }
        /// A keyword whose value is one of `Value`'s cases: the URL's, else the environment's, else `fallback`.
        func choice<Value: RawRepresentable & CaseIterable>(_ name: String, _ variable: String, _ fallback: Value)
            throws(ConfigError) -> Value where Value.RawValue == String
        {
            guard let text = url.parameters[name] ?? environment[variable].flatMap({ $0.isEmpty ? nil : $0 }) else {
                return fallback
            }
            guard let value = Value(rawValue: text) else {
                let valid = Value.allCases.map(\.rawValue).joined(separator: ", ")
                throw invalid("\(name) \"\(text)\" is not one of \(valid)")
            }
            return value
        }
        let binding = try choice("channel_binding", "PGCHANNELBINDING", ChannelBindingMode.prefer)
        if binding == .require && mode == .disable {
            throw invalid("channel_binding=require needs TLS, but sslmode is disable")
        }
        let negotiation = try choice("sslnegotiation", "PGSSLNEGOTIATION", SSLNegotiation.postgres)
        if negotiation == .direct && !mode.requiresEncryption {
            // libpq's words: a direct connection has no plain-text fallback, so a mode that allows one is a mistake.
            throw invalid(
                "weak sslmode \"\(mode.rawValue)\" may not be used with sslnegotiation=direct (use \"require\", "
                    + "\"verify-ca\", or \"verify-full\")")
        }

        var roots: RootCertificates?
        if mode != .disable {
            if rootText == "system" {
                roots = .system
            } else if let rootText {
                let path = ProxyConfiguration.expandTilde(rootText, environment: environment)
                guard fileExists(path) else {
                    throw invalid("root certificate file \"\(path)\" (sslrootcert) does not exist")
                }
                roots = .file(path)
            } else if let home = environment["HOME"], !home.isEmpty, fileExists(home + "/.postgresql/root.crt") {
                roots = .file(home + "/.postgresql/root.crt")
            } else if mode.requiresVerification {
                throw invalid(
                    "sslmode=\(mode.rawValue) needs trusted root certificates: give sslrootcert=FILE (PEM), "
                        + "sslrootcert=system, or put them in ~/.postgresql/root.crt")
            }
        }
        self.init(mode: mode, rootCertificates: roots, channelBinding: binding, negotiation: negotiation)
    }
}

extension UpstreamTLSSettings: CustomStringConvertible {
    /// `sslmode=verify-full, roots /etc/ca.pem, channel_binding=require`, for logs and the banner.
    public var description: String {
        var parts = ["sslmode=\(self.mode.rawValue)"]
        switch self.rootCertificates {
        case .file(let path): parts.append("sslrootcert=\(path)")
        case .system: parts.append("sslrootcert=system")
        case nil: break
        }
        if self.mode != .disable {
            parts.append("channel_binding=\(self.channelBinding.rawValue)")
        }
        if self.negotiation == .direct {
            parts.append("sslnegotiation=direct")
        }
        return parts.joined(separator: ", ")
    }
}

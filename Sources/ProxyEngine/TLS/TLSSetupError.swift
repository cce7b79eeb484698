/// Why pgreel cannot set up TLS at startup, as one line a user can act on.
public enum TLSSetupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A certificate file that cannot be read or holds no PEM certificate; `what` names the flag or parameter.
    case unreadableCertificate(what: String, path: String)
    case noCertificate(what: String, path: String)
    /// A private key file that cannot be read or holds no PEM private key.
    case unreadableKey(what: String, path: String)
    /// The private key does not belong to the certificate.
    case keyMismatch(certificate: String, key: String)
    /// The TLS library refused the configuration (rare: a broken system certificate store ...).
    case contextFailed(String)

    public var description: String {
        switch self {
        case .unreadableCertificate(let what, let path):
            return "\(what) \(path): cannot read a PEM certificate from this file"
        case .noCertificate(let what, let path):
            return "\(what) \(path): the file holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        case .unreadableKey(let what, let path):
            return "\(what) \(path): cannot read a PEM private key from this file"
        case .keyMismatch(let certificate, let key):
            return "--tls-key \(key) does not belong to the certificate in --tls-cert \(certificate)"
        case .contextFailed(let reason):
            return "cannot set up TLS: \(reason)"
        }
    }
}

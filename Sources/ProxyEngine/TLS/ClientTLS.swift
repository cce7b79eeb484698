import NIOCore
import NIOSSL

/// TLS toward clients (`--tls-cert`, `--tls-key`, `--tls-required`): the server context, loaded once at startup,
/// and the channel binding clients compute from the proxy's certificate for SCRAM-SHA-256-PLUS.
public struct ClientTLS: Sendable {
    let context: NIOSSLContext
    /// Plain-text clients are refused (28000), as a pg_hba.conf `hostssl` line would.
    public let required: Bool
    /// `tls-server-end-point` over the proxy's own certificate; nil when its signature algorithm has no known
    /// hash (then SCRAM-SHA-256-PLUS is not offered).
    public let channelBinding: SCRAMChannelBinding?

    /// The ALPN protocol PostgreSQL registered (PostgreSQL 17+ and libpq 17+ offer it on every TLS connection).
    /// Required on direct TLS connections, which have no SSLRequest to say what is spoken inside.
    public static let alpnProtocol = "postgresql"

    /// Loads the certificate chain (leaf first, as PostgreSQL's ssl_cert_file) and its private key.
    public init(certificatePath: String, keyPath: String, required: Bool) throws(TLSSetupError) {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw .unreadableCertificate(what: "--tls-cert", path: certificatePath)
        }
        guard let leaf = chain.first else { throw .noCertificate(what: "--tls-cert", path: certificatePath) }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw .unreadableKey(what: "--tls-key", path: keyPath)
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        // Selected when the client offers it; a client that offers none still gets its handshake (libpq before 17
        // after an SSLRequest), and whether a direct client offered it is checked once the handshake is over.
        configuration.applicationProtocols = [Self.alpnProtocol]
        // On close, send close_notify and go, as PostgreSQL and libpq do. Waiting for the peer's (NIO's default, 5 s)
        // would hold every close on an idle client that is not reading, e.g. shutting down with open psql sessions.
        configuration.shutdownTimeout = .zero
        do {
            self.context = try NIOSSLContext(configuration: configuration)
        } catch NIOSSLError.failedToLoadPrivateKey {
            // Both files loaded on their own: the TLS library refuses a key that does not match the certificate.
            throw .keyMismatch(certificate: certificatePath, key: keyPath)
        } catch {
            throw .contextFailed("\(error)")
        }
        self.required = required
        self.channelBinding = (try? leaf.toDERBytes()).flatMap { TLSServerEndPoint.binding(certificateDER: $0) }
    }

    func makeHandler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: self.context)
    }
}

import NIOCore
import NIOSSL

/// The TLS side of connecting to a real server: the settings and the TLS context built from them once (loading
/// root certificates is too slow to repeat for every session).
public struct UpstreamTLS: Sendable {
    public let settings: UpstreamTLSSettings
    /// nil with sslmode=disable.
    let context: NIOSSLContext?

    /// Plain text: no SSLRequest is sent.
    public static let disabled = UpstreamTLS(disabledWith: .disabled)

    private init(disabledWith settings: UpstreamTLSSettings) {
        self.settings = settings
        self.context = nil
    }

    /// Builds the TLS context; fails when the root certificates cannot be loaded.
    public init(_ settings: UpstreamTLSSettings) throws(TLSSetupError) {
        self.settings = settings
        guard settings.mode != .disable else {
            self.context = nil
            return
        }
        var configuration = TLSConfiguration.makeClientConfiguration()
        // PostgreSQL's own floor (ssl_min_protocol_version) since version 14.
        configuration.minimumTLSVersion = .tlsv12
        // Offered on every connection, as libpq 17+ does; servers before 17 ignore it, and a direct connection
        // requires the server to select it (`UpstreamStartupStateMachine.tlsEstablished`).
        configuration.applicationProtocols = [ClientTLS.alpnProtocol]
        // On close, send close_notify and go, as PostgreSQL and libpq do. Waiting for the peer's (NIO's default, 5 s)
        // would hold every close on an idle client that is not reading, e.g. shutting down with open psql sessions.
        configuration.shutdownTimeout = .zero
        switch settings.rootCertificates {
        case .file(let path):
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(path)
                guard !certificates.isEmpty else { throw TLSSetupError.noCertificate(what: "sslrootcert", path: path) }
                configuration.trustRoots = .certificates(certificates)
            } catch let error as TLSSetupError {
                throw error
            } catch {
                throw TLSSetupError.unreadableCertificate(what: "sslrootcert", path: path)
            }
        case .system:
            configuration.trustRoots = .default
        case nil:
            configuration.trustRoots = .certificates([])
        }
        switch (settings.mode, settings.rootCertificates) {
        case (.verifyFull, _):
            configuration.certificateVerification = .fullVerification
        case (_, .some):
            // libpq checks the chain whenever it has root certificates, even with prefer and require.
            configuration.certificateVerification = .noHostnameVerification
        default:
            configuration.certificateVerification = .none
        }
        do {
            self.context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError.contextFailed("\(error)")
        }
    }

    /// The handler that runs TLS on a connection to `host`: SNI carries the host name (not an IP address, which
    /// SNI cannot carry; verify-full then matches the certificate's IP addresses against the connected address).
    func makeHandler(host: String) throws -> NIOSSLClientHandler? {
        guard let context = self.context else { return nil }
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
    }
}

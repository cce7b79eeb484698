import Foundation
import ProxyEngine
import Testing

/// First packets pgreel cannot serve: a TLS ClientHello when it has no certificate, a direct TLS client without
/// ALPN, garbage. Each is refused (a FATAL where the client can read one, a close with a log line where it expects
/// TLS), and the proxy goes on serving others.
@Suite struct BadFirstPacketTests {
    @Test func aClientHelloWithoutACertificateIsClosedAndLogged() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url(), arguments: ["--no-record"])
        defer { proxy.process.kill() }
        let openssl = try await ProtocolClients.opensslClient(port: proxy.port, alpn: "postgresql")
        #expect(!openssl.stdout.contains("BEGIN CERTIFICATE"), "no handshake: \(openssl.stdout)")
        _ = try await proxy.process.waitForOutput(
            containing: "direct SSL connection rejected: the client sent a TLS ClientHello (sslnegotiation=direct), "
                + "but pgreel has no certificate (--tls-cert, --tls-key)", in: .stdout)
        let still = try await proxy.psql("SELECT 1", environment: ["PGSSLMODE": "disable"])
        #expect(still.status == 0, "\(still.stderr)")
    }

    @Test func aDirectTLSClientWithoutALPNIsRefusedAfterTheHandshake() async throws {
        let server = try await TestPostgres.shared()
        let certificates = try await TestCertificates.make()
        let proxy = try await ProxyUnderTest.start(
            upstream: server.url(),
            arguments: ["--tls-cert", certificates.certificate, "--tls-key", certificates.key, "--no-record"])
        defer { proxy.process.kill() }

        let withoutALPN = try await ProtocolClients.opensslClient(port: proxy.port, alpn: nil)
        #expect(withoutALPN.stdout.contains("No ALPN negotiated"), "\(withoutALPN.stdout)")
        _ = try await proxy.process.waitForOutput(
            containing: "received direct SSL connection request without ALPN protocol negotiation extension",
            in: .stdout)

        let withALPN = try await ProtocolClients.opensslClient(port: proxy.port, alpn: "postgresql")
        #expect(withALPN.stdout.contains("ALPN protocol: postgresql"), "\(withALPN.stdout)")

        let still = try await proxy.psql("SELECT 1", environment: ["PGSSLMODE": "require"])
        #expect(still.status == 0, "\(still.stderr)")
    }

    @Test func garbageIsAnInvalidStartupPacketWithOrWithoutACertificate() async throws {
        let server = try await TestPostgres.shared()
        let certificates = try await TestCertificates.make()
        let withCertificate = ["--tls-cert", certificates.certificate, "--tls-key", certificates.key, "--no-record"]
        for arguments in [["--no-record"], withCertificate] {
            let proxy = try await ProxyUnderTest.start(upstream: server.url(), arguments: arguments)
            defer { proxy.process.kill() }
            let garbage: [[UInt8]] = [
                [0x16, 0x04, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00],  // 0x16 but not TLS
                Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8),  // a browser at the wrong port
                [0x00, 0x00, 0x00, 0x04, 0x00, 0x03, 0x00, 0x00],  // too short a length
            ]
            for bytes in garbage {
                let answer = try await RawConnection.exchange(port: proxy.port, bytes)
                let fields = try RawConnection.errorFields(in: answer)
                #expect(fields.code == "08P01", "\(bytes.prefix(4))")
                #expect(fields.message == "invalid length of startup packet")
                #expect(fields.severity == "FATAL")
            }
            let still = try await proxy.psql("SELECT 1", environment: ["PGSSLMODE": "disable"])
            #expect(still.status == 0, "\(still.stderr)")
        }
    }
}

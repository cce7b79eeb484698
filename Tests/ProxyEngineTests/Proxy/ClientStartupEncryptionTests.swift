import NIOCore
import Testing

@testable import ProxyEngine

/// The client startup with TLS configured: SSLRequest answered S, --tls-required, and SCRAM-SHA-256-PLUS offered
/// only inside TLS.
@Suite struct ClientStartupEncryptionTests {
    static let binding = SCRAMChannelBinding(name: "tls-server-end-point", data: Array(repeating: 3, count: 32))

    private func machine(required: Bool = false, password: String? = "pw") throws -> ClientStartupStateMachine {
        let upstream = try UpstreamURL(parsing: "postgres://real:secret@127.0.0.1:5432/app")
        let user = PseudoUser(name: "alice", password: password, upstream: upstream)
        let credential = ClientCredential(
            pseudoUser: user, scramVerifier: password.map { SCRAMVerifier.generate(password: $0) })
        return ClientStartupStateMachine(
            lookup: { $0 == "alice" ? credential : nil },
            encryption: ClientEncryptionPolicy(tlsAvailable: true, tlsRequired: required, channelBinding: Self.binding))
    }

    private static let startup = StartupPacket.startup(
        protocolVersion: StartupPacket.protocolVersion30, parameters: [("user", "alice"), ("database", "app")])

    @Test func sslRequestIsAcceptedOnce() throws {
        var machine = try self.machine()
        guard case .acceptEncryption = machine.startupPacket(.sslRequest) else { Issue.record("expected S"); return }
        #expect(machine.isEncrypted)
        guard case .fail(let error) = machine.startupPacket(.sslRequest) else {
            Issue.record("a second SSLRequest inside TLS is a violation")
            return
        }
        #expect(error.code == "08P01")
    }

    @Test func gssIsRefusedThenSSLIsStillPossible() throws {
        // libpq with gssencmode=prefer asks for GSS first, then SSL: both in one startup, as PostgreSQL allows.
        var machine = try self.machine()
        guard case .refuseEncryption = machine.startupPacket(.gssEncryptionRequest) else {
            Issue.record("expected N to GSS")
            return
        }
        guard case .acceptEncryption = machine.startupPacket(.sslRequest) else { Issue.record("expected S"); return }
        guard case .fail = machine.startupPacket(.gssEncryptionRequest) else {
            Issue.record("GSS inside TLS is a violation")
            return
        }
    }

    @Test func plainTextIsRefusedWhenTLSIsRequired() throws {
        var machine = try self.machine(required: true)
        guard case .fail(let error) = machine.startupPacket(Self.startup) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(error.code == "28000")
        #expect(error.message == "pgreel accepts only encrypted connections: user \"alice\", database \"app\", no encryption")
        var unknown = try self.machine(required: true)
        let other = StartupPacket.startup(protocolVersion: StartupPacket.protocolVersion30, parameters: [("user", "x")])
        guard case .fail(let same) = unknown.startupPacket(other) else { Issue.record("expected a refusal"); return }
        #expect(same.message.hasPrefix("pgreel accepts only encrypted connections"), "unknown users learn nothing more")
    }

    @Test func encryptedClientsPassWhenTLSIsRequired() throws {
        var machine = try self.machine(required: true)
        _ = machine.startupPacket(.sslRequest)
        guard case .sendAuthentication(.sasl(let mechanisms), _) = machine.startupPacket(Self.startup) else {
            Issue.record("expected SASL")
            return
        }
        #expect(mechanisms == ["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"])
    }

    @Test func plusIsNotOfferedInPlainText() throws {
        var machine = try self.machine()
        guard case .sendAuthentication(.sasl(let mechanisms), _) = machine.startupPacket(Self.startup) else {
            Issue.record("expected SASL")
            return
        }
        #expect(mechanisms == ["SCRAM-SHA-256"])
        var initial = ByteBuffer()
        PasswordMessage.encodeSASLInitial(
            mechanism: "SCRAM-SHA-256-PLUS", data: scramBytes("p=tls-server-end-point,,n=,r=abc"), into: &initial)
        initial.moveReaderIndex(forwardBy: 5)
        guard case .fail(let error) = machine.passwordMessage(initial) else {
            Issue.record("PLUS was not offered")
            return
        }
        #expect(error.code == "08P01")
    }

    @Test func boundScramExchangeOverTLS() throws {
        var machine = try self.machine()
        _ = machine.startupPacket(.sslRequest)
        _ = machine.startupPacket(Self.startup)
        var client = SCRAMClient(username: "", password: "pw", channelBinding: Self.binding)
        var initial = ByteBuffer()
        PasswordMessage.encodeSASLInitial(mechanism: "SCRAM-SHA-256-PLUS", data: client.clientFirstMessage(), into: &initial)
        initial.moveReaderIndex(forwardBy: 5)
        guard case .sendAuthentication(.saslContinue(let serverFirst), _) = machine.passwordMessage(initial) else {
            Issue.record("expected SASLContinue")
            return
        }
        #expect(machine.scramMechanism == "SCRAM-SHA-256-PLUS")
        let final = try client.receiveServerFirst(serverFirst)
        guard case .connectUpstream = machine.passwordMessage(ByteBuffer(bytes: final)) else {
            Issue.record("the bound exchange must pass")
            return
        }
        try client.receiveServerFinal(try #require(machine.serverFinal))
        #expect(client.isAuthenticated)
    }

    @Test func yIsADowngradeOverTLS() throws {
        var machine = try self.machine()
        _ = machine.startupPacket(.sslRequest)
        _ = machine.startupPacket(Self.startup)
        var client = SCRAMClient(username: "", password: "pw", couldBind: true)
        var initial = ByteBuffer()
        PasswordMessage.encodeSASLInitial(mechanism: "SCRAM-SHA-256", data: client.clientFirstMessage(), into: &initial)
        initial.moveReaderIndex(forwardBy: 5)
        guard case .fail(let error) = machine.passwordMessage(initial) else {
            Issue.record("y with PLUS offered must fail")
            return
        }
        #expect(error.code == "08P01")
        #expect(error.message.contains("channel binding"))
    }
}

import NIOCore
import Testing

@testable import ProxyEngine

/// The upstream-side startup, step by step, against messages a PostgreSQL server sends.
@Suite struct UpstreamStartupStateMachineTests {
    private func payload(_ encode: (inout ByteBuffer) -> Void) throws -> (UInt8, ByteBuffer) {
        try backendMessage(encode)
    }

    @Test func trustThenParametersKeyAndReady() throws {
        var machine = UpstreamStartupStateMachine(user: "postgres", password: nil)
        let (okID, ok) = try self.payload { AuthenticationRequest.ok.encode(into: &$0) }
        #expect(machine.message(id: okID, payload: ok) == .none)
        let (psID, ps) = try self.payload { ParameterStatus(name: "server_version", value: "15.18").encode(into: &$0) }
        #expect(machine.message(id: psID, payload: ps) == .none)
        let (keyID, key) = try self.payload { BackendKeyData(processID: 99, secretKey: 12345).encode(into: &$0) }
        #expect(machine.message(id: keyID, payload: key) == .none)
        let (readyID, ready) = try self.payload { ReadyForQuery.encode(.idle, into: &$0) }
        guard case .ready(let handshake) = machine.message(id: readyID, payload: ready) else {
            Issue.record("expected ready")
            return
        }
        #expect(handshake.backendKey == BackendKeyData(processID: 99, secretKey: 12345))
        #expect(handshake.parameters == [ParameterStatus(name: "server_version", value: "15.18")])
    }

    @Test func md5AnswersWithTheSaltedHash() throws {
        var machine = UpstreamStartupStateMachine(user: "postgres", password: "secret")
        let (id, request) = try self.payload { AuthenticationRequest.md5Password(salt: [1, 2, 3, 4]).encode(into: &$0) }
        guard case .send(let buffer) = machine.message(id: id, payload: request) else {
            Issue.record("expected a password message")
            return
        }
        var expected = ByteBuffer()
        PasswordMessage.encodePassword(
            MD5Password.response(user: "postgres", password: "secret", salt: [1, 2, 3, 4]), into: &expected)
        #expect(buffer == expected)
    }

    @Test func aPasswordRequestWithoutAPasswordFailsClearly() throws {
        var machine = UpstreamStartupStateMachine(user: "postgres", password: nil)
        let (id, request) = try self.payload { AuthenticationRequest.cleartextPassword.encode(into: &$0) }
        #expect(machine.message(id: id, payload: request) == .fail(.passwordRequired))
    }

    @Test func scramAgainstPgreelsOwnServerAndAServerThatSkipsTheProof() throws {
        let verifier = SCRAMVerifier.generate(password: "pw")
        var machine = UpstreamStartupStateMachine(user: "postgres", password: "pw")
        var server = SCRAMServer(verifier: verifier)
        let (saslID, sasl) = try self.payload { AuthenticationRequest.sasl(mechanisms: ["SCRAM-SHA-256"]).encode(into: &$0) }
        guard case .send(var initial) = machine.message(id: saslID, payload: sasl) else { Issue.record("no initial"); return }
        initial.moveReaderIndex(forwardBy: 5)
        let (_, clientFirst) = try PasswordMessage.saslInitial(from: initial)
        let serverFirst = try server.receiveClientFirst(clientFirst)
        let (contID, cont) = try self.payload { AuthenticationRequest.saslContinue(data: serverFirst).encode(into: &$0) }
        guard case .send(var response) = machine.message(id: contID, payload: cont) else { Issue.record("no final"); return }
        response.moveReaderIndex(forwardBy: 5)

        // A server that jumps to AuthenticationOk without proving it knows the key is refused.
        var skipped = machine
        let (okID, ok) = try self.payload { AuthenticationRequest.ok.encode(into: &$0) }
        guard case .fail(.protocolViolation) = skipped.message(id: okID, payload: ok) else {
            Issue.record("a missing SASLFinal must fail")
            return
        }

        let serverFinal = try server.receiveClientFinal(Array(response.readableBytesView))
        let (finalID, final) = try self.payload { AuthenticationRequest.saslFinal(data: serverFinal).encode(into: &$0) }
        #expect(machine.message(id: finalID, payload: final) == .none)
        #expect(machine.message(id: okID, payload: ok) == .none)
    }

    @Test func serverErrorsAreClassified() throws {
        for (code, isAuth) in [("28P01", true), ("3D000", false)] {
            var machine = UpstreamStartupStateMachine(user: "postgres", password: nil)
            let (id, error) = try self.payload {
                ErrorFields(severity: "FATAL", code: code, message: "m").encode(into: &$0)
            }
            switch machine.message(id: id, payload: error) {
            case .fail(.authenticationFailed(let fields)) where isAuth: #expect(fields.code == code)
            case .fail(.serverError(let fields)) where !isAuth: #expect(fields.code == code)
            case let other: Issue.record("unexpected \(other) for \(code)")
            }
        }
    }
}

/// The upstream's SSL negotiation, step by step: sslmode decides, and nothing the server sends before TLS is
/// trusted (CVE-2021-23222).
@Suite struct UpstreamSSLNegotiationTests {
    private static func target(_ mode: SSLMode) throws -> UpstreamTarget {
        let tls = try UpstreamTLS(UpstreamTLSSettings(mode: mode))
        return UpstreamTarget(
            host: "127.0.0.1", port: 5432, user: "postgres", password: "pw", database: "app",
            parameters: [("application_name", "psql"), ("user", "ignored")], tls: tls)
    }

    /// The StartupMessage an action sends, decoded.
    private func startup(_ action: UpstreamStartupStateMachine.Action) throws -> [(String, String)] {
        guard case .send(var buffer) = action,
            case .startup(_, let parameters) = try StartupPacket.decode(from: &buffer)
        else { throw TestError("expected a StartupMessage, got \(action)") }
        return parameters
    }

    @Test func disableSendsTheStartupAtOnce() throws {
        var machine = UpstreamStartupStateMachine(target: try Self.target(.disable))
        #expect(machine.input == .unexpected)
        let parameters = try self.startup(machine.connected())
        #expect(parameters.map(\.0) == ["user", "database", "application_name"], "the target's user wins")
        #expect(parameters.first?.1 == "postgres")
        #expect(machine.input == .messages)
    }

    @Test func preferAsksForSSLAndGoesOnInPlainTextAfterN() throws {
        var machine = UpstreamStartupStateMachine(target: try Self.target(.prefer))
        guard case .send(var request) = machine.connected() else { throw TestError("expected SSLRequest") }
        #expect(try StartupPacket.decode(from: &request) == .sslRequest)
        #expect(machine.input == .sslAnswer)
        _ = try self.startup(machine.sslAnswerReceived(UInt8(ascii: "N"), unreadBytes: 0))
        #expect(machine.input == .messages)
    }

    @Test func requireRefusesAServerWithoutSSL() throws {
        var machine = UpstreamStartupStateMachine(target: try Self.target(.require))
        _ = machine.connected()
        #expect(
            machine.sslAnswerReceived(UInt8(ascii: "N"), unreadBytes: 0)
                == .fail(.tls("the server 127.0.0.1:5432 does not support SSL, but sslmode=require requires it")))
        #expect(machine.input == .passOn)
    }

    /// CVE-2021-23222: a man in the middle answering `S` and appending plain-text messages, hoping they are read as
    /// if they came through TLS.
    @Test func bytesBehindTheAnswerFailTheConnection() throws {
        var accepted = UpstreamStartupStateMachine(target: try Self.target(.require))
        _ = accepted.connected()
        #expect(
            accepted.sslAnswerReceived(UInt8(ascii: "S"), unreadBytes: 9)
                == .fail(.protocolViolation("the server sent unencrypted data after its SSL answer")))
        var refused = UpstreamStartupStateMachine(target: try Self.target(.prefer))
        _ = refused.connected()
        #expect(
            refused.sslAnswerReceived(UInt8(ascii: "N"), unreadBytes: 1)
                == .fail(.protocolViolation("the server sent data after refusing SSL")))
        var garbage = UpstreamStartupStateMachine(target: try Self.target(.prefer))
        _ = garbage.connected()
        #expect(
            garbage.sslAnswerReceived(UInt8(ascii: "E"), unreadBytes: 0)
                == .fail(.protocolViolation("received invalid response to SSL negotiation: E")))
    }

    /// After `S` the handshake; then the startup goes inside TLS, and SCRAM binds to the certificate presented.
    @Test func theStartupFollowsTheHandshakeAndBindsToTheCertificate() throws {
        var machine = UpstreamStartupStateMachine(target: try Self.target(.require))
        _ = machine.connected()
        #expect(machine.sslAnswerReceived(UInt8(ascii: "S"), unreadBytes: 0) == .establishTLS)
        #expect(machine.input == .unexpected, "nothing comes in clear text during the handshake")
        let certificate = TLSServerEndPointTests.der(TLSServerEndPointTests.ecdsaSHA384)
        _ = try self.startup(
            machine.tlsEstablished(version: .tlsv13, peerCertificateDER: certificate, negotiatedProtocol: nil))

        var sasl = ByteBuffer()
        AuthenticationRequest.sasl(mechanisms: ["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"]).encode(into: &sasl)
        sasl.moveReaderIndex(forwardBy: 5)
        guard case .send(var initial) = machine.message(id: BackendMessageID.authentication, payload: sasl) else {
            throw TestError("expected a SASLInitialResponse")
        }
        initial.moveReaderIndex(forwardBy: 5)
        let (mechanism, first) = try PasswordMessage.saslInitial(from: initial)
        #expect(mechanism == "SCRAM-SHA-256-PLUS")
        #expect(scramText(first).hasPrefix("p=tls-server-end-point,,"))
    }

    @Test func aFailureIsReportedOnce() throws {
        var machine = UpstreamStartupStateMachine(target: try Self.target(.require))
        _ = machine.connected()
        _ = machine.sslAnswerReceived(UInt8(ascii: "S"), unreadBytes: 0)
        guard case .fail(.tls(let reason)) = machine.errorCaught(TestError("bad certificate")) else {
            throw TestError("an error during the handshake is a TLS failure")
        }
        #expect(reason == "SSL error: bad certificate")
        #expect(machine.closed() == .none, "the close that follows is not a second failure")

        var plain = UpstreamStartupStateMachine(target: try Self.target(.disable))
        _ = plain.connected()
        #expect(plain.closed() == .fail(.closed), "a close before ReadyForQuery fails the startup")
    }
}

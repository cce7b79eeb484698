import NIOCore
import Testing

@testable import ProxyEngine

/// How pgreel authenticates to a real server over TLS: which SCRAM mechanism and gs2 flag it picks (libpq's
/// rules), and what channel_binding=require refuses before any password leaves the proxy.
@Suite struct UpstreamChannelBindingTests {
    static let binding = SCRAMChannelBinding(name: "tls-server-end-point", data: Array(repeating: 9, count: 32))

    private static func security(_ policy: ChannelBindingMode, tls: Bool = true) -> UpstreamSecurity {
        UpstreamSecurity(
            tlsVersion: tls ? "TLSv1.3" : nil, bindingData: tls ? Self.binding : nil, channelBinding: policy)
    }

    private func message(_ request: AuthenticationRequest) throws -> (UInt8, ByteBuffer) {
        var buffer = ByteBuffer()
        request.encode(into: &buffer)
        var decoder = RawMessageDecoder(direction: .backend)
        let message = try #require(try decoder.decode(buffer: &buffer))
        return (message.id, message.payload)
    }

    /// The mechanism and client-first-message of the SASLInitialResponse the machine sends.
    private func initialResponse(
        offered: [String], security: UpstreamSecurity
    ) throws -> (machine: UpstreamStartupStateMachine, action: UpstreamStartupStateMachine.Action) {
        var machine = UpstreamStartupStateMachine(user: "postgres", password: "pw", security: security)
        let (id, payload) = try self.message(.sasl(mechanisms: offered))
        let action = machine.message(id: id, payload: payload)
        return (machine, action)
    }

    private func decodeInitial(_ action: UpstreamStartupStateMachine.Action) throws -> (String, String) {
        guard case .send(var buffer) = action else { throw TestError("expected a SASLInitialResponse, got \(action)") }
        buffer.moveReaderIndex(forwardBy: 5)
        let (mechanism, data) = try PasswordMessage.saslInitial(from: buffer)
        return (mechanism, scramText(data))
    }

    @Test func plusIsChosenOverTLSWhenOffered() throws {
        let offered = ["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"]
        let (mechanism, first) = try self.decodeInitial(self.initialResponse(offered: offered, security: Self.security(.prefer)).action)
        #expect(mechanism == "SCRAM-SHA-256-PLUS")
        #expect(first.hasPrefix("p=tls-server-end-point,,n=postgres,r="))
    }

    @Test func yWhenTheServerDoesNotOfferPlusOverTLS() throws {
        let (mechanism, first) = try self.decodeInitial(
            self.initialResponse(offered: ["SCRAM-SHA-256"], security: Self.security(.prefer)).action)
        #expect(mechanism == "SCRAM-SHA-256")
        #expect(first.hasPrefix("y,,"), "we could bind, the server did not offer it: a PLUS-aware server sees a downgrade")
    }

    @Test func nWithoutTLSOrWithBindingDisabled() throws {
        let offered = ["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"]
        let (plainMechanism, plain) = try self.decodeInitial(
            self.initialResponse(offered: ["SCRAM-SHA-256"], security: Self.security(.prefer, tls: false)).action)
        #expect(plainMechanism == "SCRAM-SHA-256")
        #expect(plain.hasPrefix("n,,"))
        let (disabledMechanism, disabled) = try self.decodeInitial(
            self.initialResponse(offered: offered, security: Self.security(.disable)).action)
        #expect(disabledMechanism == "SCRAM-SHA-256")
        #expect(disabled.hasPrefix("n,,"))
    }

    @Test func requireRefusesAServerWithoutPlus() throws {
        let (_, action) = try self.initialResponse(offered: ["SCRAM-SHA-256"], security: Self.security(.require))
        guard case .fail(.channelBindingRequired(let reason)) = action else {
            Issue.record("expected a refusal, got \(action)")
            return
        }
        #expect(reason.contains("did not offer SCRAM-SHA-256-PLUS"))
    }

    @Test func requireRefusesACertificateThatCannotBeBoundTo() throws {
        let unbindable = UpstreamSecurity(tlsVersion: "TLSv1.3", bindingData: nil, channelBinding: .require)
        let (_, action) = try self.initialResponse(offered: ["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"], security: unbindable)
        guard case .fail(.channelBindingRequired(let reason)) = action else {
            Issue.record("expected a refusal, got \(action)")
            return
        }
        #expect(reason.contains("tls-server-end-point cannot bind to"))
        // With prefer the session goes on, unbound and saying "n" (it cannot bind to this certificate either).
        let (mechanism, first) = try self.decodeInitial(
            self.initialResponse(
                offered: ["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"],
                security: UpstreamSecurity(tlsVersion: "TLSv1.3", bindingData: nil, channelBinding: .prefer)
            ).action)
        #expect(mechanism == "SCRAM-SHA-256")
        #expect(first.hasPrefix("n,,"))
    }

    @Test func requireRefusesPasswordsAndTrustWithoutSendingAnything() throws {
        for request in [AuthenticationRequest.cleartextPassword, .md5Password(salt: [1, 2, 3, 4]), .ok] {
            var machine = UpstreamStartupStateMachine(user: "postgres", password: "pw", security: Self.security(.require))
            let (id, payload) = try self.message(request)
            guard case .fail(.channelBindingRequired) = machine.message(id: id, payload: payload) else {
                Issue.record("\(request) must be refused under channel_binding=require")
                continue
            }
        }
    }

    @Test func requireWithoutTLSIsRefused() throws {
        let (_, action) = try self.initialResponse(
            offered: ["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"], security: Self.security(.require, tls: false))
        guard case .fail(.channelBindingRequired(let reason)) = action else {
            Issue.record("expected a refusal, got \(action)")
            return
        }
        #expect(reason == "the connection is not encrypted")
    }

    /// A whole PLUS exchange against pgreel's own SCRAM server holding the same certificate hash; the handshake
    /// records the mechanism and the TLS version.
    @Test func wholePlusExchangeRecordsTheMechanism() throws {
        var server = SCRAMServer(
            verifier: SCRAMVerifier.generate(password: "pw"), channelBinding: Self.binding, clientChosePlus: true)
        var (machine, action) = try self.initialResponse(
            offered: ["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"], security: Self.security(.require))
        let (_, first) = try self.decodeInitial(action)
        let serverFirst = try server.receiveClientFirst(scramBytes(first))
        let (continueID, continuePayload) = try self.message(.saslContinue(data: serverFirst))
        guard case .send(var response) = machine.message(id: continueID, payload: continuePayload) else {
            Issue.record("expected the client-final-message")
            return
        }
        response.moveReaderIndex(forwardBy: 5)
        let serverFinal = try server.receiveClientFinal(Array(response.readableBytesView))
        for request in [AuthenticationRequest.saslFinal(data: serverFinal), .ok] {
            let (id, payload) = try self.message(request)
            #expect(machine.message(id: id, payload: payload) == .none)
        }
        var ready = ByteBuffer()
        ReadyForQuery.encode(.idle, into: &ready)
        guard case .ready(let handshake) = machine.message(id: BackendMessageID.readyForQuery, payload: ready.getSlice(at: 5, length: 1)!) else {
            Issue.record("expected ready")
            return
        }
        #expect(handshake.authentication == "SCRAM-SHA-256-PLUS")
        #expect(handshake.tlsVersion == "TLSv1.3")
    }
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

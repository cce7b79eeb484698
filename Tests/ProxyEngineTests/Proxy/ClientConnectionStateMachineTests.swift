import NIOCore
import NIOEmbedded
import Testing

@testable import ProxyEngine

/// A client connection's life step by step, as postgres-nio's ConnectionStateMachineTests walk theirs: every event
/// and the one action it asks of the handler, with the outcomes the handler would report fed back in.
@Suite struct ClientConnectionStateMachineTests {
    private static func credential(_ name: String, password: String? = nil, method: AuthMethod? = nil) throws
        -> ClientCredential
    {
        let upstream = try UpstreamURL(parsing: "postgres://real:secret@db.internal:6432/app")
        return ClientCredential(
            pseudoUser: PseudoUser(name: name, password: password, authMethod: method, upstream: upstream),
            scramVerifier: nil)
    }

    private func machine(recording: Bool = false, tls: Bool = false) throws -> ClientConnectionStateMachine {
        let users = [try Self.credential("seed"), try Self.credential("carl", password: "pw", method: .cleartext)]
        let byName = Dictionary(uniqueKeysWithValues: users.map { ($0.pseudoUser.name, $0) })
        let encryption = tls ? ClientEncryptionPolicy(tlsAvailable: true) : .unavailable
        var machine = ClientConnectionStateMachine(
            authentication: ClientStartupStateMachine(lookup: { byName[$0] }, encryption: encryption),
            recording: recording)
        guard case .armAuthTimeout(let address) = machine.connected(clientAddress: "10.0.0.9:5555") else {
            throw TestError("a new connection arms the auth timeout")
        }
        #expect(address == "10.0.0.9:5555")
        #expect(machine.input == .firstBytes, "only the first bytes may be a TLS ClientHello")
        guard case .wait = machine.firstBytesReceived(.startupPacket) else {
            throw TestError("a startup packet is read as one")
        }
        #expect(machine.input == .startupPackets)
        return machine
    }

    private static func startup(_ user: String, _ extra: [(String, String)] = []) -> StartupPacket {
        .startup(protocolVersion: StartupPacket.protocolVersion30, parameters: [("user", user)] + extra)
    }

    private static func upstream(backendKey: BackendKeyData? = BackendKeyData(processID: 4242, secretKey: 99))
        -> UpstreamConnection
    {
        var handshake = UpstreamHandshake()
        handshake.backendKey = backendKey
        handshake.parameters = [ParameterStatus(name: "server_version", value: "15.18")]
        return UpstreamConnection(channel: EmbeddedChannel(), handshake: handshake, leftover: ByteBuffer())
    }

    /// Takes a trust user through its slots to the point where the upstream is being opened.
    private func connecting(_ machine: inout ClientConnectionStateMachine) throws -> UpstreamTarget {
        let first = machine.startupPacketReceived(
            Self.startup("seed", [("database", "shop"), ("application_name", "psql")]), unreadBytes: 0)
        guard case .acquireServerSlot(let user, let database) = first else { throw TestError("got \(first)") }
        #expect(user == "seed" && database == "shop")
        #expect(machine.input == .held)
        guard case .acquireUserSlot(let pseudoUser) = machine.serverSlotAcquired(true) else {
            throw TestError("a trust user is authenticated at once")
        }
        #expect(pseudoUser.name == "seed")
        guard case .connectUpstream(let target) = machine.userSlotAcquired(true) else {
            throw TestError("expected connectUpstream")
        }
        return target
    }

    @Test func aTrustUserGoesThroughBothSlotsToTheSession() throws {
        var machine = try self.machine()
        let target = try self.connecting(&machine)
        #expect(target.host == "db.internal" && target.port == 6432 && target.user == "real")
        #expect(target.database == "shop", "the database asked for passes through")
        #expect(target.parameters.map(\.0) == ["application_name"])

        guard case .registerCancelKey(let upstreamKey, let clientKeyLength, let host, let port) =
            machine.upstreamConnected(Self.upstream())
        else { throw TestError("without recording the cancel key comes next") }
        #expect(upstreamKey == BackendKeyData(processID: 4242, secretKey: 99))
        #expect(clientKeyLength == 4, "a protocol 3.0 client holds a 4-byte key")
        #expect(host == "db.internal" && port == 6432)

        let clientKey = BackendKeyData(processID: 4242, secretKey: 7)
        guard case .startSession(let start) = machine.cancelKeyRegistered(clientKey) else {
            throw TestError("expected the session to start")
        }
        #expect(start.clientKey == clientKey && start.greeting.clientKey == clientKey)
        #expect(start.info.backendProcessID == 4242, "clients see the real process ID")
        #expect(start.info.database == "shop" && start.info.clientAddress == "10.0.0.9:5555")
        #expect(start.applicationName == "psql")
        #expect(start.recorder == nil)
        #expect(machine.input == .ignored, "the relay reads from here on")
        guard case .disarmAuthTimeout(nil) = machine.channelInactive() else {
            throw TestError("a relayed session's end is the relay's to announce")
        }
    }

    @Test func withRecordingTheFileComesBeforeTheKeyAndItsFailureRefuses() throws {
        var machine = try self.machine(recording: true)
        _ = try self.connecting(&machine)
        let upstream = Self.upstream()
        guard case .createRecording(let user) = machine.upstreamConnected(upstream) else {
            throw TestError("expected createRecording")
        }
        #expect(user == "seed")
        guard case .refuseUnrecorded(let error, let message, let channel) = machine.recordingFailed("disk full") else {
            throw TestError("a session that cannot be recorded is refused")
        }
        #expect(error.code == "58030")
        #expect(error.message == "pgreel could not record this session: disk full")
        #expect(message == "disk full")
        #expect(channel === upstream.channel, "the upstream is closed too")
        #expect(machine.input == .ignored)
    }

    @Test func noSlotIs53300() throws {
        var machine = try self.machine()
        _ = machine.startupPacketReceived(Self.startup("seed"), unreadBytes: 0)
        guard case .refuse(let error, nil) = machine.serverSlotAcquired(false) else {
            throw TestError("the server-wide limit refuses before authentication")
        }
        #expect(error.code == "53300" && error.message == "sorry, too many clients already")

        var user = try self.machine()
        _ = user.startupPacketReceived(Self.startup("seed"), unreadBytes: 0)
        _ = user.serverSlotAcquired(true)
        guard case .refuse(let perUser, "seed") = user.userSlotAcquired(false) else {
            throw TestError("the user's limit refuses after authentication")
        }
        #expect(perUser.code == "53300" && perUser.message == "too many connections for role \"seed\"")
    }

    @Test func aPasswordExchangeReadsMessagesAndTerminateEndsIt() throws {
        var machine = try self.machine()
        _ = machine.startupPacketReceived(Self.startup("carl"), unreadBytes: 0)
        guard case .sendAuthentication(.cleartextPassword, nil) = machine.serverSlotAcquired(true) else {
            throw TestError("expected a password request")
        }
        #expect(machine.input == .messages)
        #expect(machine.authTimeoutFired().refusal?.code == "57014", "the timeout applies until authenticated")

        var wrong = try self.machine()
        _ = wrong.startupPacketReceived(Self.startup("carl"), unreadBytes: 0)
        _ = wrong.serverSlotAcquired(true)
        let password = RawMessage(id: FrontendMessageID.password, payload: wire { $0.writeCString("nope") })
        #expect(wrong.messageReceived(password).refusal?.code == "28P01")

        var other = try self.machine()
        _ = other.startupPacketReceived(Self.startup("carl"), unreadBytes: 0)
        _ = other.serverSlotAcquired(true)
        let query = RawMessage(id: FrontendMessageID.query, payload: wire { $0.writeCString("SELECT 1") })
        let violation = other.messageReceived(query).refusal
        #expect(violation?.code == "08P01")
        #expect(violation?.message == "expected password response, got message type 81")

        var leaving = try self.machine()
        _ = leaving.startupPacketReceived(Self.startup("carl"), unreadBytes: 0)
        _ = leaving.serverSlotAcquired(true)
        let terminate = RawMessage(id: FrontendMessageID.terminate, payload: ByteBuffer())
        guard case .close(nil) = leaving.messageReceived(terminate) else { throw TestError("Terminate closes quietly") }
        guard case .disarmAuthTimeout(nil) = leaving.channelInactive() else {
            throw TestError("a client that said goodbye is not announced as lost")
        }
    }

    /// CVE-2021-23214: what came behind an accepted SSLRequest was not protected by TLS, and is refused unread.
    @Test func sslRequestAndWhatFollowsIt() throws {
        var plain = try self.machine()
        guard case .refuseEncryption = plain.startupPacketReceived(.sslRequest, unreadBytes: 0) else {
            throw TestError("no TLS configured: N")
        }
        #expect(plain.input == .startupPackets)

        var injected = try self.machine(tls: true)
        guard case .acceptEncryptionThenRefuse(let error) = injected.startupPacketReceived(.sslRequest, unreadBytes: 9)
        else { throw TestError("bytes behind the SSLRequest are refused") }
        #expect(error.code == "08P01" && error.message == "received unencrypted data after SSL request")
        #expect(injected.input == .ignored)

        var tls = try self.machine(tls: true)
        guard case .startTLS = tls.startupPacketReceived(.sslRequest, unreadBytes: 0) else {
            throw TestError("expected S")
        }
        guard case .close(let reason) = tls.authTimeoutFired() else {
            throw TestError("no plain-text FATAL can be sent during a handshake")
        }
        #expect(reason == "authentication timeout during the TLS handshake")

        var failing = try self.machine(tls: true)
        _ = failing.startupPacketReceived(.sslRequest, unreadBytes: 0)
        guard case .close(let failed) = failing.errorCaught(TestError("bad record mac")) else {
            throw TestError("expected a close")
        }
        #expect(failed == "TLS handshake failed: bad record mac")
        guard case .disarmAuthTimeout(nil) = failing.channelInactive() else {
            throw TestError("announced once, at the failure")
        }

        var established = try self.machine(tls: true)
        _ = established.startupPacketReceived(.sslRequest, unreadBytes: 0)
        _ = established.tlsHandshakeCompleted(negotiatedProtocol: nil)
        #expect(established.authTimeoutFired().refusal?.code == "57014", "inside TLS the FATAL can be sent")
    }

    @Test func upstreamFailuresAreRefusedWithTheMaskedUpstream() throws {
        var unreachable = try self.machine()
        _ = try self.connecting(&unreachable)
        let refusal = unreachable.upstreamFailed(UpstreamError.unreachable("connection refused")).refusal
        #expect(refusal?.code == "08006")
        let masked = "postgres://real:***@db.internal:6432/app"
        #expect(refusal?.message == "pgreel could not connect to the upstream \(masked): connection refused")

        var missing = try self.machine()
        _ = try self.connecting(&missing)
        let serverError = ErrorFields.fatal("3D000", "database \"shop\" does not exist")
        #expect(missing.upstreamFailed(UpstreamError.serverError(serverError)).refusal == serverError, "relayed as is")
    }

    /// The client may leave while the upstream is being opened: the upstream is then closed when it arrives.
    @Test func aClientGoneWhileConnectingClosesTheUpstreamLater() throws {
        var machine = try self.machine()
        _ = try self.connecting(&machine)
        guard case .disarmAuthTimeout(let reason) = machine.channelInactive() else {
            throw TestError("expected disarm")
        }
        #expect(reason == "client disconnected during startup")
        let upstream = Self.upstream()
        guard case .closeUpstream(let channel) = machine.upstreamConnected(upstream) else {
            throw TestError("the upstream is not left open")
        }
        #expect(channel === upstream.channel)

        var failed = try self.machine()
        _ = try self.connecting(&failed)
        _ = failed.channelInactive()
        guard case .wait = failed.upstreamFailed(UpstreamError.closed) else {
            throw TestError("a client already gone is not refused a second time")
        }
    }

    @Test func cancelRequestsAreLookedUpThenForwardedOrDropped() throws {
        var machine = try self.machine()
        let cancel = StartupPacket.cancel(processID: 42, secretKey: [0, 0, 0, 7])
        guard case .lookUpCancelKey(42, [0, 0, 0, 7]) = machine.startupPacketReceived(cancel, unreadBytes: 0) else {
            throw TestError("expected a look-up")
        }
        guard case .dropCancel = machine.cancelKeyLookedUp(nil) else { throw TestError("an unknown key is dropped") }

        var known = try self.machine()
        _ = known.startupPacketReceived(cancel, unreadBytes: 0)
        let entry = CancelKeyRegistry.Entry(
            proxyKey: [0, 0, 0, 7], upstreamKey: BackendKeyData(processID: 42, secretKey: 1234), upstreamHost: "db",
            upstreamPort: 1)
        guard case .forwardCancel(let forwarded) = known.cancelKeyLookedUp(entry) else {
            throw TestError("a known key is forwarded")
        }
        #expect(forwarded.upstreamKey == BackendKeyData(processID: 42, secretKey: 1234), "with the upstream's real key")
        #expect(known.input == .ignored)
    }

    @Test func aMalformedStartupIsAProtocolViolation() throws {
        var machine = try self.machine()
        #expect(machine.protocolViolation("invalid length of startup packet").refusal?.code == "08P01")
        #expect(machine.input == .ignored)
        guard case .wait = machine.authTimeoutFired() else { throw TestError("nothing is left to time out") }
    }
}

extension ClientConnectionStateMachine.Action {
    /// The FATAL error of a `.refuse`, nil for any other action.
    var refusal: ErrorFields? {
        if case .refuse(let error, _) = self { return error }
        return nil
    }
}

import NIOCore
import NIOEmbedded
import Testing

@testable import ProxyEngine

/// Protocol 3.2 toward clients and upstreams: what a client is served, the NegotiateProtocolVersion it gets, the
/// cancel key it holds, and what pgreel accepts from an upstream that speaks 3.0 (PostgreSQL before 18) or 3.2.
@Suite struct ProtocolNegotiationTests {
    private static let v3_3 = ProtocolVersion(major: 3, minor: 3)

    // MARK: Toward clients

    @Test func clientsAreServedTheirVersionCappedAtThreeTwo() {
        let plain = ClientProtocolNegotiation(requested: .v3_0, parameters: [("user", "u")])
        #expect(plain.served == .v3_0 && plain.message == nil, "a 3.0 client hears nothing of versions")
        let current = ClientProtocolNegotiation(requested: .v3_2, parameters: [("user", "u")])
        #expect(current.served == .v3_2 && current.message == nil, "3.2 is served as asked, as PostgreSQL 18 does")
        let newer = ClientProtocolNegotiation(requested: Self.v3_3, parameters: [("user", "u")])
        #expect(newer.served == .v3_2)
        #expect(newer.message == NegotiateProtocolVersion(version: .v3_2, unsupportedOptions: []))
    }

    /// Every `_pq_.` option is listed, in the client's order, with the version served (PostgreSQL's
    /// SendNegotiateProtocolVersion); other parameters are not protocol options.
    @Test func unknownProtocolOptionsAreListedAsPostgreSQLDoes() {
        let parameters = [("user", "u"), ("_pq_.b", "1"), ("application_name", "x"), ("_pq_.a", "2")]
        let old = ClientProtocolNegotiation(requested: .v3_0, parameters: parameters)
        #expect(old.message == NegotiateProtocolVersion(version: .v3_0, unsupportedOptions: ["_pq_.b", "_pq_.a"]))
        let new = ClientProtocolNegotiation(requested: .v3_2, parameters: parameters)
        #expect(new.message == NegotiateProtocolVersion(version: .v3_2, unsupportedOptions: ["_pq_.b", "_pq_.a"]))
    }

    private func machine(method: AuthMethod? = nil) throws -> ClientStartupStateMachine {
        let upstream = try UpstreamURL(parsing: "postgres://real@127.0.0.1:5432/app")
        let user = PseudoUser(name: "u", password: method == nil ? nil : "pw", authMethod: method, upstream: upstream)
        let credential = ClientCredential(pseudoUser: user, scramVerifier: nil)
        return ClientStartupStateMachine(lookup: { $0 == "u" ? credential : nil }, makeSalt: { [1, 2, 3, 4] })
    }

    @Test func theNegotiationGoesBeforeThePasswordRequestOrIntoTheGreeting() throws {
        var current = try self.machine(method: .cleartext)
        let startup32 = StartupPacket.startup(
            protocolVersion: StartupPacket.protocolVersion32, parameters: [("user", "u")])
        guard case .sendAuthentication(.cleartextPassword, nil) = current.startupPacket(startup32) else {
            throw TestError("a 3.2 client is asked for its password without negotiation")
        }
        #expect(current.protocolVersion == .v3_2)

        var newer = try self.machine(method: .cleartext)
        let startup33 = StartupPacket.startup(
            protocolVersion: Self.v3_3.code, parameters: [("user", "u"), ("_pq_.x", "on")])
        guard case .sendAuthentication(.cleartextPassword, let negotiate) = newer.startupPacket(startup33) else {
            throw TestError("expected a password request")
        }
        #expect(negotiate == NegotiateProtocolVersion(version: .v3_2, unsupportedOptions: ["_pq_.x"]))
        #expect(newer.protocolVersion == .v3_2)

        var trust = try self.machine()
        guard case .connectUpstream(_, _, let parameters, let greeting) = trust.startupPacket(startup33) else {
            throw TestError("a trust user connects at once")
        }
        #expect(greeting == NegotiateProtocolVersion(version: .v3_2, unsupportedOptions: ["_pq_.x"]))
        #expect(parameters.isEmpty, "protocol options are never forwarded upstream")
    }

    @Test func theGreetingSendsNegotiationFirstAndTheClientsKeyWhole() throws {
        var handshake = UpstreamHandshake()
        handshake.backendKey = BackendKeyData(processID: 9, secretKey: 1)
        let clientKey = BackendKeyData(processID: 9, secretKey: Array(repeating: 0x5A, count: 32))
        let greeting = SessionGreeting(
            negotiate: NegotiateProtocolVersion(version: .v3_2, unsupportedOptions: []), serverFinal: nil,
            handshake: handshake, clientKey: clientKey)
        var buffer = ByteBuffer()
        greeting.encode(into: &buffer)
        let messages = try EmbeddedChannel.decode(buffer, direction: .backend)
        #expect(messages.ids == ["v", "R", "K", "Z"])
        #expect(try BackendKeyData.decode(from: messages[2].payload) == clientKey)
    }

    // MARK: Cancel keys

    @Test func theClientsKeyLengthFollowsItsVersionNotTheUpstreams() throws {
        let registry = CancelKeyRegistry()
        let pg15 = BackendKeyData(processID: 15, secretKey: 1234)
        let pg18 = BackendKeyData(processID: 18, secretKey: Array(repeating: 0x18, count: 32))
        let cases: [(BackendKeyData, ProtocolVersion)] = [(pg15, .v3_0), (pg15, .v3_2), (pg18, .v3_0), (pg18, .v3_2)]
        for (upstream, version) in cases {
            let client = registry.register(
                upstreamKey: upstream, clientKeyLength: version.issuedCancelKeyLength, host: "db", port: 5432)
            #expect(client.processID == upstream.processID, "the real process ID")
            #expect(client.secretKey.count == version.issuedCancelKeyLength)
            #expect(client.secretKey != upstream.secretKey, "never the upstream's own key")
            let entry = try #require(registry.lookup(processID: client.processID, proxyKey: client.secretKey))
            #expect(entry.upstreamKey == upstream, "the cancel goes on with the upstream's key, whatever its length")
            if client.secretKey.count > 4 {
                let prefix = Array(client.secretKey.prefix(4))
                #expect(registry.lookup(processID: client.processID, proxyKey: prefix) == nil, "nor a prefix of it")
            }
            #expect(registry.lookup(processID: client.processID, proxyKey: upstream.secretKey) == nil)
            registry.unregister(processID: client.processID, proxyKey: client.secretKey)
        }
        #expect(registry.count == 0)
    }

    /// A 3.2 client of the trust pseudo user `user`, taken to the point where its upstream is opened.
    private func connectingThreeTwoClient(_ user: PseudoUser) throws
        -> (ClientConnectionStateMachine, UpstreamTarget)
    {
        let credential = ClientCredential(pseudoUser: user, scramVerifier: nil)
        var machine = ClientConnectionStateMachine(
            authentication: ClientStartupStateMachine(lookup: { _ in credential }), recording: false)
        _ = machine.connected(clientAddress: "10.0.0.1:1")
        _ = machine.startupPacketReceived(
            .startup(protocolVersion: StartupPacket.protocolVersion32, parameters: [("user", "u")]), unreadBytes: 0)
        _ = machine.serverSlotAcquired(true)
        guard case .connectUpstream(let target) = machine.userSlotAcquired(true) else {
            throw TestError("expected connectUpstream")
        }
        return (machine, target)
    }

    @Test func aThreeTwoClientIsGivenAThirtyTwoByteKey() throws {
        let upstream = try UpstreamURL(parsing: "postgres://real@db.internal:6432/app")
        var (machine, _) = try self.connectingThreeTwoClient(PseudoUser(name: "u", upstream: upstream))
        var handshake = UpstreamHandshake()
        handshake.backendKey = BackendKeyData(processID: 4242, secretKey: 99)
        handshake.protocolVersion = .v3_0
        let connection = UpstreamConnection(channel: EmbeddedChannel(), handshake: handshake, leftover: ByteBuffer())
        guard case .registerCancelKey(let key, let length, _, _) = machine.upstreamConnected(connection) else {
            throw TestError("expected the cancel key")
        }
        #expect(key == BackendKeyData(processID: 4242, secretKey: 99), "the 3.0 upstream's 4 bytes are kept")
        #expect(length == 32, "the 3.2 client gets 32 bytes all the same")
    }

    // MARK: Toward upstreams

    private func upstreamMachine() throws -> UpstreamStartupStateMachine {
        var machine = UpstreamStartupStateMachine(
            target: UpstreamTarget(host: "127.0.0.1", port: 5432, user: "postgres", password: nil, database: "app"))
        guard case .send(var startup) = machine.connected(),
            case .startup(let version, _) = try StartupPacket.decode(from: &startup)
        else { throw TestError("expected a StartupMessage") }
        #expect(version == StartupPacket.protocolVersion32, "every upstream is asked for 3.2")
        return machine
    }

    private func message(_ encode: (inout ByteBuffer) -> Void) throws -> (UInt8, ByteBuffer) {
        try backendMessage(encode)
    }

    private func finish(_ machine: inout UpstreamStartupStateMachine, key: BackendKeyData) throws -> UpstreamHandshake {
        for encode in [
            { AuthenticationRequest.ok.encode(into: &$0) }, { key.encode(into: &$0) },
            { ReadyForQuery.encode(.idle, into: &$0) },
        ] as [(inout ByteBuffer) -> Void] {
            let (id, payload) = try self.message(encode)
            if case .ready(let handshake) = machine.message(id: id, payload: payload) { return handshake }
        }
        throw TestError("no ReadyForQuery")
    }

    /// PostgreSQL 15 to 17 answer a 3.2 StartupMessage with NegotiateProtocolVersion(3.0) and a 4-byte key.
    @Test func aThreeZeroUpstreamNegotiatesDown() throws {
        var machine = try self.upstreamMachine()
        let (id, payload) = try self.message {
            NegotiateProtocolVersion(version: .v3_0, unsupportedOptions: []).encode(into: &$0)
        }
        #expect(machine.message(id: id, payload: payload) == .none)
        let handshake = try self.finish(&machine, key: BackendKeyData(processID: 5, secretKey: 77))
        #expect(handshake.protocolVersion == .v3_0)
        #expect(handshake.backendKey == BackendKeyData(processID: 5, secretKey: 77))
    }

    /// PostgreSQL 18 runs 3.2 silently and sends a 32-byte key, kept whole for cancels.
    @Test func aThreeTwoUpstreamKeepsItsLongKey() throws {
        var machine = try self.upstreamMachine()
        let key = BackendKeyData(processID: 6, secretKey: (0..<32).map { UInt8($0) })
        let handshake = try self.finish(&machine, key: key)
        #expect(handshake.protocolVersion == .v3_2)
        #expect(handshake.backendKey == key)
    }

    /// libpq 18's `max_protocol_version`, for a pooler that refuses 3.2 instead of negotiating it down.
    @Test func anUpstreamURLMayCapTheVersionAskedFor() throws {
        func maximum(_ url: String, _ environment: [String: String] = [:]) throws(ConfigError) -> ProtocolVersion {
            try ProtocolVersion.upstreamMaximum(url: try UpstreamURL(parsing: url), environment: environment)
        }
        #expect(try maximum("postgres://u@db/app") == .v3_2)
        #expect(try maximum("postgres://u@db/app?max_protocol_version=3.0") == .v3_0)
        #expect(try maximum("postgres://u@db/app?max_protocol_version=latest") == .v3_2)
        #expect(try maximum("postgres://u@db/app", ["PGMAXPROTOCOLVERSION": "3.0"]) == .v3_0)
        #expect(try maximum("postgres://u@db/app?max_protocol_version=3.2", ["PGMAXPROTOCOLVERSION": "3.0"]) == .v3_2)
        #expect {
            try maximum("postgres://u@db/app?max_protocol_version=3.1")
        } throws: { error in
            "\(error)".contains("max_protocol_version \"3.1\" is not one of 3.0, 3.2, latest")
        }

        var machine = UpstreamStartupStateMachine(
            target: UpstreamTarget(
                host: "127.0.0.1", port: 5432, user: "postgres", password: nil, database: "app",
                maxProtocolVersion: .v3_0))
        guard case .send(var startup) = machine.connected(),
            case .startup(let version, _) = try StartupPacket.decode(from: &startup)
        else { throw TestError("expected a StartupMessage") }
        #expect(version == StartupPacket.protocolVersion30)
        let (id, payload) = try self.message {
            NegotiateProtocolVersion(version: .v3_0, unsupportedOptions: []).encode(into: &$0)
        }
        #expect(
            machine.message(id: id, payload: payload)
                == .fail(.protocolViolation("the server offered protocol 3.0 in answer to 3.0")))

        // The proxy passes the pseudo user's cap on to the target it connects.
        let url = try UpstreamURL(parsing: "postgres://real@db.internal:6432/app?max_protocol_version=3.0")
        var user = PseudoUser(name: "u", upstream: url)
        user.upstreamMaxProtocolVersion = .v3_0
        let (_, target) = try self.connectingThreeTwoClient(user)
        #expect(target.maxProtocolVersion == .v3_0)
    }

    @Test func aNegotiationThatIsNotADowngradeIsRefused() throws {
        let bad: [(NegotiateProtocolVersion, String)] = [
            (NegotiateProtocolVersion(version: .v3_2, unsupportedOptions: []), "offered protocol 3.2 in answer to 3.2"),
            (NegotiateProtocolVersion(version: Self.v3_3, unsupportedOptions: []), "offered protocol 3.3"),
            (NegotiateProtocolVersion(version: ProtocolVersion(major: 2, minor: 0), unsupportedOptions: []), "2.0"),
            (NegotiateProtocolVersion(version: .v3_0, unsupportedOptions: ["_pq_.x"]), "did not send: _pq_.x"),
        ]
        for (negotiation, words) in bad {
            var machine = try self.upstreamMachine()
            let (id, payload) = try self.message { negotiation.encode(into: &$0) }
            guard case .fail(.protocolViolation(let reason)) = machine.message(id: id, payload: payload) else {
                throw TestError("\(negotiation) must fail the startup")
            }
            #expect(reason.contains(words), "\(reason)")
        }
        // Only before authentication, and only once.
        var late = try self.upstreamMachine()
        let (okID, ok) = try self.message { AuthenticationRequest.ok.encode(into: &$0) }
        _ = late.message(id: okID, payload: ok)
        let (id, payload) = try self.message {
            NegotiateProtocolVersion(version: .v3_0, unsupportedOptions: []).encode(into: &$0)
        }
        #expect(
            late.message(id: id, payload: payload) == .fail(.protocolViolation("unexpected NegotiateProtocolVersion")))
    }
}

import NIOCore
import Testing

@testable import ProxyEngine

/// The client-side startup, step by step: every input and the action it asks the handler to carry out.
@Suite struct ClientStartupStateMachineTests {
    private static func user(_ name: String, password: String?, method: AuthMethod? = nil, databases: [String]? = nil)
        throws -> ClientCredential
    {
        let upstream = try UpstreamURL(parsing: "postgres://real:secret@127.0.0.1:5432/app")
        let user = PseudoUser(
            name: name, password: password, authMethod: method, upstream: upstream, allowedDatabases: databases)
        return ClientCredential(pseudoUser: user, scramVerifier: password.map { SCRAMVerifier.generate(password: $0) })
    }

    private func machine(_ credentials: [ClientCredential]) -> ClientStartupStateMachine {
        let byName = Dictionary(uniqueKeysWithValues: credentials.map { ($0.pseudoUser.name, $0) })
        return ClientStartupStateMachine(lookup: { byName[$0] }, makeSalt: { [1, 2, 3, 4] })
    }

    private static func startup(_ parameters: [(String, String)]) -> StartupPacket {
        .startup(protocolVersion: StartupPacket.protocolVersion30, parameters: parameters)
    }

    private static func password(_ text: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeCString(text)
        return buffer
    }

    @Test func sslIsRefusedOnceThenTheStartupProceeds() throws {
        var machine = self.machine([try Self.user("seed", password: nil)])
        guard case .refuseEncryption = machine.startupPacket(.sslRequest) else { Issue.record("expected N"); return }
        guard case .fail(let error) = machine.startupPacket(.sslRequest) else { Issue.record("twice is a violation"); return }
        #expect(error.code == "08P01")
    }

    @Test func trustUserConnectsAtOnceWithItsDatabaseAndParameters() throws {
        var machine = self.machine([try Self.user("seed", password: nil)])
        let action = machine.startupPacket(
            Self.startup([("user", "seed"), ("database", "shop"), ("application_name", "psql")]))
        guard case .connectUpstream(let credential, let database, let parameters, _) = action else {
            Issue.record("expected connectUpstream, got \(action)")
            return
        }
        #expect(credential.pseudoUser.name == "seed")
        #expect(database == "shop", "the database asked for passes through")
        #expect(parameters.map(\.0) == ["application_name"], "user and database are replaced, the rest forwarded")
    }

    @Test func unknownUserIs28000AndMissingUserToo() throws {
        var machine = self.machine([])
        guard case .fail(let error) = machine.startupPacket(Self.startup([("user", "mallory")])) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(error.code == "28000")
        #expect(error.message == "role \"mallory\" does not exist")
        var other = self.machine([])
        guard case .fail(let missing) = other.startupPacket(Self.startup([("database", "x")])) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(missing.code == "28000")
    }

    @Test func restrictedDatabasesAreEnforced() throws {
        var machine = self.machine([try Self.user("carol", password: nil, databases: ["app"])])
        guard case .fail(let error) = machine.startupPacket(Self.startup([("user", "carol"), ("database", "postgres")]))
        else { Issue.record("expected a refusal"); return }
        #expect(error.code == "28000")
        #expect(error.message.contains("not allowed to connect to database \"postgres\""))
    }

    @Test func md5WrongAndRightPassword() throws {
        for (attempt, succeeds) in [("wrong", false), ("right", true)] {
            var machine = self.machine([try Self.user("bob", password: "right", method: .md5)])
            guard case .sendAuthentication(.md5Password(let salt), _) = machine.startupPacket(
                Self.startup([("user", "bob")]))
            else { Issue.record("expected an MD5 request"); return }
            #expect(salt == [1, 2, 3, 4])
            let response = MD5Password.response(user: "bob", password: attempt, salt: salt)
            let action = machine.passwordMessage(Self.password(response))
            switch (action, succeeds) {
            case (.connectUpstream, true): break
            case (.fail(let error), false):
                #expect(error.code == "28P01")
                #expect(error.message == "password authentication failed for user \"bob\"")
            default: Issue.record("unexpected \(action) for \(attempt)")
            }
        }
    }

    @Test func cleartextPassword() throws {
        var machine = self.machine([try Self.user("carl", password: "pw", method: .cleartext)])
        guard case .sendAuthentication(.cleartextPassword, _) = machine.startupPacket(Self.startup([("user", "carl")]))
        else { Issue.record("expected a cleartext request"); return }
        guard case .connectUpstream = machine.passwordMessage(Self.password("pw")) else {
            Issue.record("the right password must pass")
            return
        }
    }

    @Test func scramExchangeWithPgreelsOwnClient() throws {
        for (attempt, succeeds) in [("wonderland", true), ("rabbit", false)] {
            var machine = self.machine([try Self.user("alice", password: "wonderland")])
            guard case .sendAuthentication(.sasl(let mechanisms), _) = machine.startupPacket(
                Self.startup([("user", "alice")]))
            else { Issue.record("expected SASL"); return }
            #expect(mechanisms == ["SCRAM-SHA-256"])
            var client = SCRAMClient(username: "alice", password: attempt)
            var initial = ByteBuffer()
            initial.writeCString("SCRAM-SHA-256")
            let first = client.clientFirstMessage()
            initial.writeInteger(Int32(first.count))
            initial.writeBytes(first)
            guard case .sendAuthentication(.saslContinue(let serverFirst), _) = machine.passwordMessage(initial) else {
                Issue.record("expected SASLContinue")
                return
            }
            let clientFinal = try client.receiveServerFirst(serverFirst)
            let action = machine.passwordMessage(ByteBuffer(bytes: clientFinal))
            switch (action, succeeds) {
            case (.connectUpstream, true):
                let serverFinal = try #require(machine.serverFinal)
                try client.receiveServerFinal(serverFinal)
                #expect(client.isAuthenticated)
            case (.fail(let error), false):
                #expect(error.code == "28P01")
            default:
                Issue.record("unexpected \(action) for \(attempt)")
            }
        }
    }

    @Test func aPasswordMessageBeforeItWasAskedForIsAViolation() throws {
        var machine = self.machine([try Self.user("seed", password: nil)])
        guard case .fail(let error) = machine.passwordMessage(Self.password("x")) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(error.code == "08P01")
    }

    @Test func cancelRequestIsRouted() {
        var machine = self.machine([])
        let cancel = StartupPacket.cancel(processID: 42, secretKey: [0, 0, 0, 7])
        guard case .forwardCancel(let pid, let key) = machine.startupPacket(cancel) else {
            Issue.record("expected a cancel")
            return
        }
        #expect(pid == 42 && key == [0, 0, 0, 7])
    }

    @Test func newerMinorProtocolIsNegotiatedDown() throws {
        var machine = self.machine([try Self.user("seed", password: nil)])
        let action = machine.startupPacket(
            .startup(protocolVersion: StartupPacket.protocolVersion30 + 2, parameters: [("user", "seed"), ("_pq_.x", "1")]))
        guard case .connectUpstream(_, _, let parameters, let negotiate) = action else {
            Issue.record("expected connectUpstream")
            return
        }
        #expect(negotiate == NegotiateProtocolVersion(version: .v3_2, unsupportedOptions: ["_pq_.x"]))
        #expect(!parameters.contains { $0.0.hasPrefix("_pq_.") })
    }
}

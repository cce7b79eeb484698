import Foundation
import NIOCore
import NIOEmbedded
import NIOSSL
import Testing

@testable import ProxyEngine

/// The startup handler on an EmbeddedChannel, as postgres-nio's PostgresChannelHandlerTests test theirs: what the
/// client reads for what it sends, what reaches the upstream, what is announced, and what is left behind.
@Suite struct ClientConnectionHandlerTests {
    /// The whole way for a trust user: greeting, relay in place, and a query pipelined behind the startup packet
    /// relayed once the upstream is there.
    @Test func aTrustLoginIsGreetedAndHandedToTheRelay() throws {
        let harness = try ClientHandlerHarness()
        var bytes = ClientHandlerHarness.startup("seed")
        var query = wire { QueryMessage.encode("SELECT 1", into: &$0) }
        bytes.writeBuffer(&query)
        try harness.send(bytes)

        let greeting = try harness.client.backendMessages()
        #expect(greeting.ids == ["R", "S", "K", "Z"])
        let key = try BackendKeyData.decode(from: greeting[2].payload)
        #expect(key.processID == ClientHandlerHarness.upstreamKey.processID, "the real process ID")
        #expect(key.secretKey != ClientHandlerHarness.upstreamKey.secretKey, "never the upstream's secret")
        #expect(harness.cancelKeys.lookup(processID: key.processID, proxyKey: key.secretKey) != nil)
        #expect(harness.targets.withLockedValue { $0.map(\.database) } == ["shop"])

        #expect(try harness.upstream.frontendMessages().ids == ["Q"], "the pipelined query went through the relay")
        #expect(!harness.startupHandlerIsInPlace)
        #expect((try? harness.upstream.pipeline.syncOperations.handler(type: RelayHandler.self)) != nil)
        let events = harness.events()
        #expect(events.contains { if case .connected(let info) = $0 { info.backendProcessID == 4242 } else { false } })

        try harness.client.close().wait()
        harness.loop.run()
        #expect(harness.cancelKeys.count == 0, "the key goes with the session")
        #expect(harness.limiter.open == 0, "and so does the slot")
    }

    @Test func aPasswordIsAskedForAndAWrongOneRefused() throws {
        let harness = try ClientHandlerHarness()
        try harness.send(ClientHandlerHarness.startup("carl"))
        let request = try harness.client.backendMessages()
        #expect(request.ids == ["R"])
        #expect(try AuthenticationRequest.decode(from: request[0].payload) == .cleartextPassword)
        #expect(harness.targets.withLockedValue { $0.isEmpty }, "no upstream before authentication")

        try harness.send(wire { PasswordMessage.encodePassword("wrong", into: &$0) })
        let error = try harness.client.backendMessages().error()
        #expect(error.code == "28P01")
        #expect(!harness.client.isActive)
        #expect(harness.events().refusals.map(\.code) == ["28P01"])
    }

    @Test func theRightPasswordConnects() throws {
        let harness = try ClientHandlerHarness()
        try harness.send(ClientHandlerHarness.startup("carl"))
        _ = try harness.client.writtenBytes()
        try harness.send(wire { PasswordMessage.encodePassword("pw", into: &$0) })
        #expect(try harness.client.backendMessages().ids == ["R", "S", "K", "Z"])
        #expect(!harness.startupHandlerIsInPlace)
    }

    @Test func sslRequestWithoutTLSIsAnsweredNAndTheStartupGoesOn() throws {
        let harness = try ClientHandlerHarness()
        try harness.send(RawStartup.sslRequest)
        #expect(try harness.client.writtenBytes() == ByteBuffer(bytes: [UInt8(ascii: "N")]))
        try harness.send(ClientHandlerHarness.startup("seed"))
        #expect(try harness.client.backendMessages().ids == ["R", "S", "K", "Z"])
    }

    /// With a certificate, `S` and a TLS handler in front; bytes that came behind the SSLRequest are refused
    /// unread (CVE-2021-23214), and nothing of them reaches an upstream.
    @Test func sslRequestWithTLSAndBytesBehindIt() throws {
        let files = try TestTLSFiles.make()
        let tls = try ClientTLS(certificatePath: files.certificate, keyPath: files.key, required: false)

        let harness = try ClientHandlerHarness(tls: tls)
        try harness.send(RawStartup.sslRequest)
        #expect(try harness.client.writtenBytes() == ByteBuffer(bytes: [UInt8(ascii: "S")]))
        #expect((try? harness.client.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)) != nil)
        #expect(harness.client.isActive)

        let injected = try ClientHandlerHarness(tls: tls)
        var bytes = ByteBuffer(bytes: RawStartup.sslRequest)
        var startup = ClientHandlerHarness.startup("seed")
        bytes.writeBuffer(&startup)
        try injected.send(bytes)
        var answer = try injected.client.writtenBytes()
        #expect(answer.readInteger(as: UInt8.self) == UInt8(ascii: "S"))
        let error = try EmbeddedChannel.decode(answer, direction: .backend).error()
        #expect(error.code == "08P01" && error.message == "received unencrypted data after SSL request")
        #expect(!injected.client.isActive)
        #expect((try? injected.client.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)) == nil)
        #expect(injected.targets.withLockedValue { $0.isEmpty })
    }

    @Test func anUnauthenticatedClientTimesOutWith57014() throws {
        let harness = try ClientHandlerHarness()
        try harness.send(ClientHandlerHarness.startup("carl"))
        _ = try harness.client.writtenBytes()
        harness.loop.advanceTime(by: harness.authTimeout)
        let error = try harness.client.backendMessages().error()
        #expect(error.code == "57014" && error.message == "canceling authentication due to timeout")
        #expect(!harness.client.isActive)
    }

    @Test func theTimeoutNoLongerAppliesOnceAuthenticated() throws {
        let harness = try ClientHandlerHarness(upstream: .pending)
        try harness.send(ClientHandlerHarness.startup("seed"))
        harness.loop.advanceTime(by: harness.authTimeout * 2)
        #expect(harness.client.isActive, "opening the upstream is bounded by its connect timeout, not this one")
        #expect(try harness.client.writtenBytes().readableBytes == 0)
    }

    @Test func noFreeSlotIs53300AndNoUpstream() throws {
        let harness = try ClientHandlerHarness(maxConnections: 1)
        #expect(harness.limiter.acquire(), "another session holds the only slot")
        try harness.send(ClientHandlerHarness.startup("seed"))
        let error = try harness.client.backendMessages().error()
        #expect(error.code == "53300" && error.message == "sorry, too many clients already")
        #expect(harness.targets.withLockedValue { $0.isEmpty })
        #expect(!harness.client.isActive)
        #expect(harness.limiter.open == 1, "the refused client took no slot")
    }

    /// Policy: a session that cannot be recorded is refused (58030), and its upstream closed.
    @Test func aSessionFileThatCannotBeCreatedRefusesTheSession() throws {
        let writer = SessionFileWriter()
        defer { writer.shutdown() }
        let blocker = FileManager.default.temporaryDirectory.appendingPathComponent("pgreel-file-\(UUID().uuidString)")
        try Data("not a directory".utf8).write(to: blocker)
        defer { try? FileManager.default.removeItem(at: blocker) }
        let harness = try ClientHandlerHarness(writer: writer, sessionsDirectory: blocker.path + "/sessions")
        try harness.send(ClientHandlerHarness.startup("seed"))
        let error = try harness.client.backendMessages().error()
        #expect(error.code == "58030")
        #expect(error.message.hasPrefix("pgreel could not record this session: cannot create the session directory"))
        #expect(!harness.client.isActive && !harness.upstream.isActive)
        #expect(harness.cancelKeys.count == 0)
        #expect(harness.events().contains { if case .recordingFailed = $0 { true } else { false } })
    }

    @Test func aRecordedSessionStartsItsFile() throws {
        let writer = SessionFileWriter()
        defer { writer.shutdown() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgreel-rec-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let harness = try ClientHandlerHarness(writer: writer, sessionsDirectory: directory.path)
        try harness.send(ClientHandlerHarness.startup("seed"))
        #expect(try harness.client.backendMessages().ids == ["R", "S", "K", "Z"])
        let paths = harness.events().compactMap { if case .recordingStarted(let path) = $0 { path } else { nil } }
        #expect(paths.count == 1)
        #expect(paths.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        try harness.client.close().wait()
    }

    @Test func anUnreachableUpstreamIs08006() throws {
        let harness = try ClientHandlerHarness(upstream: .fails(UpstreamError.unreachable("connection refused")))
        try harness.send(ClientHandlerHarness.startup("seed"))
        let error = try harness.client.backendMessages().error()
        #expect(error.code == "08006")
        #expect(error.message.hasSuffix("db.internal:6432/app: connection refused"))
        #expect(!harness.client.isActive)
    }

    @Test func aMalformedStartupPacketIsAProtocolViolation() throws {
        let harness = try ClientHandlerHarness()
        try harness.send([0x7F, 0xFF, 0xFF, 0xFF, 0, 3, 0, 0])
        #expect(try harness.client.backendMessages().error().code == "08P01")
        #expect(!harness.client.isActive)
        #expect(harness.limiter.open == 0)
    }

    @Test func aCancelIsForwardedWithTheUpstreamsKeyOrDropped() throws {
        let harness = try ClientHandlerHarness()
        let clientKey = harness.cancelKeys.register(
            upstreamKey: ClientHandlerHarness.upstreamKey, clientKeyLength: 4, host: "db", port: 1)
        let cancel = StartupPacket.cancel(processID: clientKey.processID, secretKey: clientKey.secretKey)
        try harness.send(wire { cancel.encode(into: &$0) })
        #expect(harness.cancels.withLockedValue { $0.map(\.upstreamKey) } == [ClientHandlerHarness.upstreamKey])
        #expect(try harness.client.writtenBytes().readableBytes == 0, "no answer either way")
        #expect(!harness.client.isActive)

        let wrong = try ClientHandlerHarness()
        _ = wrong.cancelKeys.register(
            upstreamKey: ClientHandlerHarness.upstreamKey, clientKeyLength: 4, host: "db", port: 1)
        try wrong.send(wire { ClientHandlerHarness.upstreamKey.cancelRequest.encode(into: &$0) })
        #expect(wrong.cancels.withLockedValue { $0.isEmpty }, "the upstream's own key is not the client's")
        #expect(!wrong.client.isActive)
        #expect(wrong.events().contains { if case .cancelRequested(forwarded: false) = $0 { true } else { false } })
    }

    /// The client leaves while the upstream is being opened: the upstream is closed when it arrives, and the
    /// connection is announced closed once.
    @Test func aClientGoneWhileConnectingLeavesNoUpstreamOpen() throws {
        let harness = try ClientHandlerHarness(upstream: .pending)
        try harness.send(ClientHandlerHarness.startup("seed"))
        try harness.client.close().wait()
        let promise = try #require(harness.pendingUpstream.withLockedValue { $0 })
        promise.succeed(
            UpstreamConnection(
                channel: harness.upstream, handshake: ClientHandlerHarness.handshake, leftover: ByteBuffer()))
        harness.loop.run()
        #expect(!harness.upstream.isActive)
        #expect(harness.cancelKeys.count == 0)
        #expect(harness.events().closeReasons == ["client disconnected during startup"])
    }
}

/// Startup packets as raw bytes.
enum RawStartup {
    static let sslRequest: [UInt8] = [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F]
}

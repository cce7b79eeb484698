import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOSSL
import Testing

@testable import ProxyEngine

/// The upstream startup handler on an EmbeddedChannel, playing the server: what pgreel sends, and what the
/// connection's promise gets.
@Suite struct UpstreamStartupHandlerTests {
    /// A handler on a fresh channel to a server that wants `mode`, and the outcome its promise reports.
    private struct Connection {
        let loop = EmbeddedEventLoop()
        let channel: EmbeddedChannel
        let outcome = NIOLockedValueBox<Result<UpstreamConnection, any Error>?>(nil)

        init(_ mode: SSLMode) throws {
            let tls = mode == .disable ? UpstreamTLS.disabled : try UpstreamTLS(UpstreamTLSSettings(mode: mode))
            let target = UpstreamTarget(
                host: "127.0.0.1", port: 5432, user: "postgres", password: nil, database: "app", tls: tls)
            let promise = self.loop.makePromise(of: UpstreamConnection.self)
            let outcome = self.outcome
            promise.futureResult.whenComplete { result in outcome.withLockedValue { $0 = result } }
            self.channel = EmbeddedChannel(
                handlers: [UpstreamStartupHandler(target: target, promise: promise)], loop: self.loop)
            try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5432)).wait()
        }

        var error: UpstreamError? {
            guard case .failure(let error) = self.outcome.withLockedValue({ $0 }) else { return nil }
            return error as? UpstreamError
        }

        var hasTLSHandler: Bool {
            (try? self.channel.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)) != nil
        }

        /// The server's side of a trust login, up to ReadyForQuery.
        static let trustLogin = wire {
            AuthenticationRequest.ok.encode(into: &$0)
            ParameterStatus(name: "server_version", value: "15.18").encode(into: &$0)
            BackendKeyData(processID: 99, secretKey: 12345).encode(into: &$0)
            ReadyForQuery.encode(.idle, into: &$0)
        }
    }

    @Test func aPlainLoginHandsOverTheChannelWithWhatFollowedReadyForQuery() throws {
        let connection = try Connection(.disable)
        var startup = try connection.channel.writtenBytes()
        guard case .startup(_, let parameters) = try StartupPacket.decode(from: &startup) else {
            throw TestError("expected the StartupMessage first")
        }
        #expect(parameters.map(\.1) == ["postgres", "app"])

        var bytes = Connection.trustLogin
        let early = ErrorFields(severity: "NOTICE", code: "00000", message: "early")
        let notice = wire { early.encode(into: &$0, id: BackendMessageID.noticeResponse) }
        var tail = notice
        bytes.writeBuffer(&tail)
        try connection.channel.writeInbound(bytes)
        let outcome = connection.outcome.withLockedValue { $0 }
        guard case .success(let upstream) = outcome else {
            throw TestError("expected the connection, got \(String(describing: outcome))")
        }
        #expect(upstream.handshake.backendKey == BackendKeyData(processID: 99, secretKey: 12345))
        #expect(upstream.handshake.authentication == "trust")
        #expect(upstream.leftover == notice, "bytes behind ReadyForQuery are the relay's")
        #expect((try? connection.channel.pipeline.syncOperations.handler(type: UpstreamStartupHandler.self)) == nil)
    }

    @Test func preferAsksForSSLAndContinuesInPlainTextAfterN() throws {
        let connection = try Connection(.prefer)
        var request = try connection.channel.writtenBytes()
        #expect(try StartupPacket.decode(from: &request) == .sslRequest)
        try connection.channel.writeInbound(ByteBuffer(bytes: [UInt8(ascii: "N")]))
        var startup = try connection.channel.writtenBytes()
        guard case .startup = try StartupPacket.decode(from: &startup) else { throw TestError("expected the startup") }
        try connection.channel.writeInbound(Connection.trustLogin)
        guard case .success(let upstream) = connection.outcome.withLockedValue({ $0 }) else {
            throw TestError("expected the connection")
        }
        #expect(upstream.handshake.tlsVersion == nil)
    }

    @Test func anSAnswerPutsTLSInFront() throws {
        let connection = try Connection(.require)
        _ = try connection.channel.writtenBytes()
        try connection.channel.writeInbound(ByteBuffer(bytes: [UInt8(ascii: "S")]))
        #expect(connection.hasTLSHandler)
        #expect(connection.outcome.withLockedValue { $0 } == nil, "the handshake is under way")
    }

    /// CVE-2021-23222: bytes behind `S` were sent in clear text; they fail the connection, no TLS is started.
    @Test func bytesBehindTheSAnswerFailTheConnection() throws {
        let connection = try Connection(.require)
        _ = try connection.channel.writtenBytes()
        var injected = ByteBuffer(bytes: [UInt8(ascii: "S")])
        var login = Connection.trustLogin
        injected.writeBuffer(&login)
        try connection.channel.writeInbound(injected)
        #expect(connection.error == .protocolViolation("the server sent unencrypted data after its SSL answer"))
        #expect(!connection.hasTLSHandler)
        #expect(!connection.channel.isActive)
    }

    @Test func aServerRefusingSSLFailsRequire() throws {
        let connection = try Connection(.require)
        try connection.channel.writeInbound(ByteBuffer(bytes: [UInt8(ascii: "N")]))
        #expect(
            connection.error == .tls("the server 127.0.0.1:5432 does not support SSL, but sslmode=require requires it"))
        #expect(!connection.channel.isActive)
    }

    @Test func theServersRefusalAndAnEarlyCloseFailTheConnection() throws {
        let refused = try Connection(.disable)
        let fatal = ErrorFields.fatal("28P01", "password authentication failed for user \"postgres\"")
        try refused.channel.writeInbound(wire { fatal.encode(into: &$0) })
        #expect(refused.error == .authenticationFailed(fatal))
        #expect(!refused.channel.isActive)

        let closed = try Connection(.disable)
        try closed.channel.close().wait()
        #expect(closed.error == .closed)

        let garbage = try Connection(.disable)
        try garbage.channel.writeInbound(ByteBuffer(bytes: [UInt8(ascii: "R"), 0, 0, 0, 1]))
        guard case .protocolViolation = garbage.error else { throw TestError("expected a protocol violation") }
        #expect(!garbage.channel.isActive)
    }
}

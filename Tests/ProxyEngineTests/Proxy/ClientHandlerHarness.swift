import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import ProxyEngine

/// A ClientConnectionHandler on an EmbeddedChannel, with the upstream connection replaced by another
/// EmbeddedChannel on the same loop and every shared service (limiter, cancel keys, event bus) at hand.
final class ClientHandlerHarness {
    /// What the upstream seam does when the handler asks for a connection.
    enum Upstream {
        /// Succeeds at once with this handshake and these bytes read behind ReadyForQuery.
        case ready(UpstreamHandshake, leftover: ByteBuffer = ByteBuffer())
        case fails(any Error)
        /// Keeps the promise for the test to complete (`pendingUpstream`).
        case pending
    }

    let loop = EmbeddedEventLoop()
    let client: EmbeddedChannel
    let upstream: EmbeddedChannel
    let bus = EventBus()
    let mailbox: EventMailbox
    let cancelKeys = CancelKeyRegistry()
    let limiter: ConnectionLimiter
    /// The targets the handler asked the seam to connect to.
    let targets = NIOLockedValueBox<[UpstreamTarget]>([])
    /// The cancels the handler sent upstream.
    let cancels = NIOLockedValueBox<[CancelKeyRegistry.Entry]>([])
    let pendingUpstream = NIOLockedValueBox<EventLoopPromise<UpstreamConnection>?>(nil)
    let authTimeout = TimeAmount.seconds(60)

    static let upstreamKey = BackendKeyData(processID: 4242, secretKey: 1_234_567)

    /// A handshake as PostgreSQL ends its startup: one parameter, a key, ReadyForQuery idle.
    static var handshake: UpstreamHandshake {
        var handshake = UpstreamHandshake()
        handshake.parameters = [ParameterStatus(name: "server_version", value: "15.18")]
        handshake.backendKey = Self.upstreamKey
        return handshake
    }

    /// - Parameters:
    ///   - writer: records sessions (in `sessionsDirectory`); nil: recording off.
    init(
        upstream behaviour: Upstream = .ready(ClientHandlerHarness.handshake), maxConnections: Int? = nil,
        writer: SessionFileWriter? = nil, sessionsDirectory: String = "/nonexistent", tls: ClientTLS? = nil
    ) throws {
        self.limiter = ConnectionLimiter(maxConnections: maxConnections)
        self.mailbox = self.bus.mailbox()
        self.upstream = try .active(loop: self.loop)
        let upstreamURL = try UpstreamURL(parsing: "postgres://real:secret@db.internal:6432/app")
        let credentials = [
            "seed": ClientCredential(pseudoUser: PseudoUser(name: "seed", upstream: upstreamURL), scramVerifier: nil),
            "carl": ClientCredential(
                pseudoUser: PseudoUser(name: "carl", password: "pw", authMethod: .cleartext, upstream: upstreamURL),
                scramVerifier: nil),
        ]
        let targets = self.targets
        let cancels = self.cancels
        let pending = self.pendingUpstream
        let upstreamChannel = self.upstream
        var environment = SessionEnvironment(
            credentials: credentials, bus: self.bus, cancelKeys: self.cancelKeys, writer: writer,
            sessionsDirectory: sessionsDirectory, maxRecordedRows: 100, shuttingDown: NIOLockedValueBox(false),
            tls: tls, limiter: self.limiter, authTimeout: self.authTimeout)
        environment.connectUpstream = { target, eventLoop in
            targets.withLockedValue { $0.append(target) }
            switch behaviour {
            case .ready(let handshake, let leftover):
                return eventLoop.makeSucceededFuture(
                    UpstreamConnection(channel: upstreamChannel, handshake: handshake, leftover: leftover))
            case .fails(let error):
                return eventLoop.makeFailedFuture(error)
            case .pending:
                let promise = eventLoop.makePromise(of: UpstreamConnection.self)
                pending.withLockedValue { $0 = promise }
                return promise.futureResult
            }
        }
        environment.sendCancel = { entry, eventLoop in
            cancels.withLockedValue { $0.append(entry) }
            return eventLoop.makeSucceededVoidFuture()
        }
        self.client = EmbeddedChannel(
            handlers: [ClientConnectionHandler(environment: environment, sessionID: "session_test")], loop: self.loop)
        try self.client.connect(to: SocketAddress(ipAddress: "10.0.0.9", port: 5555)).wait()
    }

    /// Sends bytes as the client, then lets the loop run what they set off.
    func send(_ bytes: ByteBuffer) throws {
        try self.client.writeInbound(bytes)
        self.loop.run()
    }

    func send(_ bytes: [UInt8]) throws {
        try self.send(ByteBuffer(bytes: bytes))
    }

    static func startup(_ user: String, database: String = "shop") -> ByteBuffer {
        wire {
            StartupPacket.startup(
                protocolVersion: StartupPacket.protocolVersion30, parameters: [("user", user), ("database", database)]
            ).encode(into: &$0)
        }
    }

    /// The kinds of the events published so far.
    func events() -> [ProxyEvent.Kind] {
        self.mailbox.takeAll().map(\.kind)
    }

    var startupHandlerIsInPlace: Bool {
        (try? self.client.pipeline.syncOperations.handler(type: ClientConnectionHandler.self)) != nil
    }
}

extension [ProxyEvent.Kind] {
    var refusals: [RecordedError] {
        self.compactMap { if case .refused(_, let error) = $0 { return error } else { return nil } }
    }

    var closeReasons: [String] {
        self.compactMap { if case .connectionClosed(let reason) = $0 { return reason } else { return nil } }
    }
}

/// A self-signed certificate and its key, made with the openssl command line in a temporary directory, for the
/// tests that need a real `ClientTLS`.
enum TestTLSFiles {
    static func make() throws -> (certificate: String, key: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgreel-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = directory.appendingPathComponent("server.crt").path
        let key = directory.appendingPathComponent("server.key").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=localhost",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestError("openssl could not make a certificate") }
        return (certificate, key)
    }
}

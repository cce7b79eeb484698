import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The listening proxy: accepts clients, and gives each one a ClientConnectionHandler that authenticates it and
/// then relays its session. A failing connection never stops the server.
public final class ProxyServer: Sendable {
    public let configuration: ProxyConfiguration
    public let bus: EventBus
    public let cancelKeys = CancelKeyRegistry()
    private let group: any EventLoopGroup
    private let writer: SessionFileWriter?
    private let environment: SessionEnvironment
    private let state = NIOLockedValueBox<(channel: (any Channel)?, sessions: Int)>((nil, 0))
    private let counter = ManagedAtomicCounter()

    /// - Parameter group: the event loops to run on; default: one per core.
    public init(
        configuration: ProxyConfiguration, bus: EventBus = EventBus(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.bus = bus
        self.group = group
        self.writer = configuration.recording ? SessionFileWriter() : nil
        var credentials: [String: ClientCredential] = [:]
        for user in configuration.users {
            let verifier = user.password.map { SCRAMVerifier.generate(password: $0) }
            credentials[user.name] = ClientCredential(pseudoUser: user, scramVerifier: verifier)
        }
        self.environment = SessionEnvironment(
            credentials: credentials, bus: bus, cancelKeys: self.cancelKeys, writer: self.writer,
            sessionsDirectory: configuration.sessionsDirectory, maxRecordedRows: configuration.maxRecordedRows)
    }

    /// Binds the listening socket and starts accepting. Returns the bound address (useful with port 0).
    @discardableResult
    public func start() async throws -> SocketAddress {
        let environment = self.environment
        let counter = self.counter
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let id = "session_\(UInt64(Date().timeIntervalSince1970 * 1_000_000_000) &+ counter.next())"
                    try channel.pipeline.syncOperations.addHandler(
                        ClientConnectionHandler(environment: environment, sessionID: id))
                }
            }
        let channel = try await bootstrap.bind(host: self.configuration.listenHost, port: self.configuration.listenPort)
            .get()
        self.state.withLockedValue { $0.channel = channel }
        return channel.localAddress!
    }

    /// The address the server listens on, once started.
    public var localAddress: SocketAddress? {
        self.state.withLockedValue { $0.channel?.localAddress }
    }

    /// Stops accepting and waits until the listener is closed; running sessions are not touched.
    public func stopAccepting() async {
        let channel = self.state.withLockedValue { $0.channel }
        try? await channel?.close()
    }

    /// Waits until every queued session event is on disk (tests, shutdown).
    public func flushRecordings() {
        self.writer?.flushAndWait()
    }

    public func shutdown() async {
        await self.stopAccepting()
        self.writer?.shutdown()
        self.bus.finish()
    }
}

/// A small lock-protected counter for unique session IDs.
final class ManagedAtomicCounter: Sendable {
    private let value = NIOLockedValueBox<UInt64>(0)

    func next() -> UInt64 {
        self.value.withLockedValue {
            $0 += 1
            return $0
        }
    }
}

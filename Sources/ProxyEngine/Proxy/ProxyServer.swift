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
    private let listener = NIOLockedValueBox<(any Channel)?>(nil)
    /// Open client connections, so shutdown can wait for them and close the rest.
    private let connections = ConnectionRegistry()
    private let counter = ManagedAtomicCounter()
    private let shuttingDown = NIOLockedValueBox(false)
    /// Sessions counted against `--max-connections` and the users' `max_connections`.
    public let limiter: ConnectionLimiter

    /// Loads what TLS needs (the proxy's certificate and key, each upstream's root certificates) once, so a bad
    /// file stops the proxy at startup rather than failing every session.
    ///
    /// - Parameter group: the event loops to run on; default: one per core.
    public init(
        configuration: ProxyConfiguration, bus: EventBus = EventBus(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws(TLSSetupError) {
        self.configuration = configuration
        self.bus = bus
        self.group = group
        self.limiter = ConnectionLimiter(maxConnections: configuration.maxConnections)
        let clientTLS = try configuration.tls.map { (files) throws(TLSSetupError) in
            try ClientTLS(certificatePath: files.certificatePath, keyPath: files.keyPath, required: files.required)
        }
        var upstreamTLS: [UpstreamTLSSettings: UpstreamTLS] = [:]
        var credentials: [String: ClientCredential] = [:]
        for user in configuration.users {
            let verifier = user.password.map { SCRAMVerifier.generate(password: $0) }
            let tls: UpstreamTLS
            if let built = upstreamTLS[user.upstreamTLS] {
                tls = built
            } else {
                tls = try UpstreamTLS(user.upstreamTLS)
                upstreamTLS[user.upstreamTLS] = tls
            }
            credentials[user.name] = ClientCredential(pseudoUser: user, scramVerifier: verifier, upstreamTLS: tls)
        }
        self.writer = configuration.recording ? SessionFileWriter() : nil
        self.environment = SessionEnvironment(
            credentials: credentials, bus: bus, cancelKeys: self.cancelKeys, writer: self.writer,
            sessionsDirectory: configuration.sessionsDirectory, maxRecordedRows: configuration.maxRecordedRows,
            shuttingDown: self.shuttingDown, tls: clientTLS, limiter: self.limiter,
            authTimeout: .seconds(Int64(configuration.authTimeout)))
    }

    /// Binds the listening socket and starts accepting. Returns the bound address (useful with port 0).
    @discardableResult
    public func start() async throws -> SocketAddress {
        let environment = self.environment
        let counter = self.counter
        let connections = self.connections
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let id = "session_\(UInt64(Date().timeIntervalSince1970 * 1_000_000_000) &+ counter.next())"
                    connections.add(channel)
                    try channel.pipeline.syncOperations.addHandler(
                        ClientConnectionHandler(environment: environment, sessionID: id))
                }
            }
        let channel = try await bootstrap.bind(host: self.configuration.listenHost, port: self.configuration.listenPort)
            .get()
        self.listener.withLockedValue { $0 = channel }
        return channel.localAddress!
    }

    /// The address the server listens on, once started.
    public var localAddress: SocketAddress? {
        self.listener.withLockedValue { $0?.localAddress }
    }

    /// Stops accepting and waits until the listener is closed; running sessions are not touched.
    public func stopAccepting() async {
        let channel = self.listener.withLockedValue { $0 }
        try? await channel?.close()
    }

    /// Stops accepting, lets open sessions finish for up to `gracePeriod`, then closes the rest (each records its
    /// session_end), writes every session file to its closing bracket and ends the event streams.
    public func shutdown(gracePeriod: Duration = .zero) async {
        await self.stopAccepting()
        self.shuttingDown.withLockedValue { $0 = true }
        let deadline = ContinuousClock.now + gracePeriod
        while self.connections.count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        await self.connections.closeAll()
        self.writer?.flushAndWait(timeout: .seconds(10))
        self.writer?.shutdown()
        self.bus.finish()
    }
}

/// The open client channels of a server.
final class ConnectionRegistry: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        self.channels.withLockedValue { $0[key] = channel }
        channel.closeFuture.whenComplete { _ in
            self.channels.withLockedValue { _ = $0.removeValue(forKey: key) }
        }
    }

    var count: Int { self.channels.withLockedValue { $0.count } }

    /// Closes every channel and waits until each has closed (its relay records session_end on the way).
    func closeAll() async {
        let open = self.channels.withLockedValue { Array($0.values) }
        for channel in open {
            try? await channel.close()
        }
        for channel in open {
            try? await channel.closeFuture.get()
        }
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

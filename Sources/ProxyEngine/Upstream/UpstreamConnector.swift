import NIOCore
import NIOPosix

/// Where and as whom to connect to a real PostgreSQL.
public struct UpstreamTarget: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// Startup parameters besides user and database (application_name, client_encoding, options ...).
    public var parameters: [(String, String)]
    public var connectTimeout: TimeAmount

    public init(
        host: String, port: Int, user: String, password: String?, database: String,
        parameters: [(String, String)] = [], connectTimeout: TimeAmount = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.parameters = parameters
        self.connectTimeout = connectTimeout
    }

    /// "host:port", as shown to users.
    public var address: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }
}

/// An upstream connection that finished its startup and is ready for queries.
public struct UpstreamConnection: Sendable {
    public var channel: any Channel
    public var handshake: UpstreamHandshake
    /// Bytes the server sent after ReadyForQuery in the same read (normally none).
    public var leftover: ByteBuffer
}

/// Opens connections to real PostgreSQL servers: used by the proxy for every session, and by replay.
public enum UpstreamConnector {
    /// Connects on `eventLoop` (the proxy uses the client channel's loop so both sides of a session share one
    /// thread) and completes the startup. On failure the channel is closed.
    public static func connect(_ target: UpstreamTarget, on eventLoop: any EventLoop)
        -> EventLoopFuture<UpstreamConnection>
    {
        let promise = eventLoop.makePromise(of: UpstreamConnection.self)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(target.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        UpstreamStartupHandler(target: target, promise: promise))
                }
            }
        bootstrap.connect(host: target.host, port: target.port).whenFailure { error in
            promise.fail(UpstreamError.unreachable("could not connect to \(target.address): \(Self.describe(error))"))
        }
        return promise.futureResult
    }

    /// A short reason in libpq's words ("connection refused", "timed out") instead of NIO's nested dumps.
    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return Self.describe(first.error) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "could not resolve host name \"\(error.host)\"" }
            return "could not connect"
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ETIMEDOUT: return "timed out"
            case EHOSTUNREACH: return "host unreachable"
            default: break
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return "timed out" }
        return "\(error)"
    }

    /// Sends a CancelRequest to an upstream server (fire and forget, as libpq's PQcancel).
    public static func sendCancel(host: String, port: Int, key: BackendKeyData, on eventLoop: any EventLoop)
        -> EventLoopFuture<Void>
    {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(5))
            .connect(host: host, port: port)
            .flatMap { channel in
                var buffer = channel.allocator.buffer(capacity: 16)
                StartupPacket.cancel(processID: key.processID, secretKey: key.secretKey).encode(into: &buffer)
                return channel.writeAndFlush(buffer).flatMap {
                    // The server closes the connection after reading the request.
                    channel.closeFuture
                }
            }
    }
}

/// Runs the upstream startup on a fresh channel, then removes itself.
final class UpstreamStartupHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var machine: UpstreamStartupStateMachine
    private var accumulator = MessageAccumulator(direction: .backend)
    private let target: UpstreamTarget
    private let promise: EventLoopPromise<UpstreamConnection>
    private var finished = false

    init(target: UpstreamTarget, promise: EventLoopPromise<UpstreamConnection>) {
        self.target = target
        self.promise = promise
        self.machine = UpstreamStartupStateMachine(user: target.user, password: target.password)
    }

    func channelActive(context: ChannelHandlerContext) {
        var parameters: [(String, String)] = [("user", self.target.user), ("database", self.target.database)]
        parameters.append(contentsOf: self.target.parameters.filter { $0.0 != "user" && $0.0 != "database" })
        var buffer = context.channel.allocator.buffer(capacity: 128)
        StartupPacket.startup(protocolVersion: StartupPacket.protocolVersion30, parameters: parameters)
            .encode(into: &buffer)
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.finished else {
            context.fireChannelRead(data)
            return
        }
        self.accumulator.append(self.unwrapInboundIn(data))
        do {
            while let (id, payload) = try self.accumulator.next() {
                switch self.machine.message(id: id, payload: payload) {
                case .none:
                    continue
                case .send(let buffer):
                    context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
                case .ready(let handshake):
                    self.finished = true
                    // Hold reads until the relay is in place, so nothing reaches an empty pipeline.
                    try? context.channel.syncOptions?.setOption(.autoRead, value: false)
                    let leftover = self.accumulator.takeRemaining()
                    context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                    self.promise.succeed(
                        UpstreamConnection(channel: context.channel, handshake: handshake, leftover: leftover))
                    return
                case .fail(let error):
                    self.fail(error, context: context)
                    return
                }
            }
        } catch {
            self.fail(.protocolViolation("\(error)"), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !self.finished {
            self.finished = true
            self.promise.fail(UpstreamError.closed)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(.unreachable("connection to \(self.target.address) failed: \(UpstreamConnector.describe(error))"), context: context)
    }

    private func fail(_ error: UpstreamError, context: ChannelHandlerContext) {
        guard !self.finished else { return }
        self.finished = true
        self.promise.fail(error)
        context.close(promise: nil)
    }
}

import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

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
    /// sslmode, root certificates and channel binding. Plain text by default here; the proxy and replay pass what
    /// the upstream URL says (prefer when it says nothing, as libpq).
    public var tls: UpstreamTLS

    public init(
        host: String, port: Int, user: String, password: String?, database: String,
        parameters: [(String, String)] = [], connectTimeout: TimeAmount = .seconds(10), tls: UpstreamTLS = .disabled
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.parameters = parameters
        self.connectTimeout = connectTimeout
        self.tls = tls
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

    /// TLS failures in libpq's words where there is one ("certificate verify failed"), else NIO's description.
    static func describeTLS(_ error: any Error, host: String) -> String {
        if let error = error as? NIOSSLExtraError {
            if error == .failedToValidateHostname {
                return "the server certificate does not match host name \"\(host)\""
            }
            return "\(error)"
        }
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "certificate verify failed (the server certificate is not signed by a trusted root)"
        }
        if case .handshakeFailed(let reason) = error as? NIOSSLError {
            return "handshake failed: \(reason)"
        }
        return text
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

/// Runs the upstream startup on a fresh channel (SSL negotiation, TLS handshake, startup, authentication), then
/// removes itself.
final class UpstreamStartupHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        /// SSLRequest sent; the server's one-byte answer is due.
        case negotiatingSSL
        /// TLS handler in place; waiting for the handshake to complete.
        case handshaking
        /// StartupMessage sent; authentication under way.
        case startup
        case finished
    }

    private var machine: UpstreamStartupStateMachine
    private var accumulator = MessageAccumulator(direction: .backend)
    private let target: UpstreamTarget
    private let promise: EventLoopPromise<UpstreamConnection>
    private var phase: Phase = .startup

    init(target: UpstreamTarget, promise: EventLoopPromise<UpstreamConnection>) {
        self.target = target
        self.promise = promise
        self.machine = UpstreamStartupStateMachine(user: target.user, password: target.password)
    }

    func channelActive(context: ChannelHandlerContext) {
        if self.target.tls.settings.mode == .disable {
            self.sendStartup(security: .plaintext, context: context)
        } else {
            self.phase = .negotiatingSSL
            var buffer = context.channel.allocator.buffer(capacity: 8)
            StartupPacket.sslRequest.encode(into: &buffer)
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        }
        context.fireChannelActive()
    }

    private func sendStartup(security: UpstreamSecurity, context: ChannelHandlerContext) {
        self.phase = .startup
        self.machine = UpstreamStartupStateMachine(
            user: self.target.user, password: self.target.password, security: security)
        var parameters: [(String, String)] = [("user", self.target.user), ("database", self.target.database)]
        parameters.append(contentsOf: self.target.parameters.filter { $0.0 != "user" && $0.0 != "database" })
        var buffer = context.channel.allocator.buffer(capacity: 128)
        StartupPacket.startup(protocolVersion: StartupPacket.protocolVersion30, parameters: parameters)
            .encode(into: &buffer)
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.phase {
        case .finished:
            context.fireChannelRead(data)
        case .negotiatingSSL:
            self.sslAnswer(self.unwrapInboundIn(data), context: context)
        case .handshaking:
            // Nothing arrives in clear text once TLS runs; the TLS handler passes nothing on before the handshake.
            self.fail(.protocolViolation("unexpected data during the TLS handshake"), context: context)
        case .startup:
            self.startupMessages(self.unwrapInboundIn(data), context: context)
        }
    }

    /// The answer to SSLRequest: `S` (TLS follows), `N` (plain text, if sslmode allows it).
    private func sslAnswer(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        var bytes = bytes
        guard let answer = bytes.readInteger(as: UInt8.self) else { return }
        let mode = self.target.tls.settings.mode
        switch answer {
        case UInt8(ascii: "S"):
            // Whatever came with the 'S' was sent before TLS and cannot be trusted (CVE-2021-23222).
            guard bytes.readableBytes == 0 else {
                self.fail(.protocolViolation("the server sent unencrypted data after its SSL answer"), context: context)
                return
            }
            do {
                guard let handler = try self.target.tls.makeHandler(host: self.target.host) else {
                    self.fail(.tls("no TLS context for sslmode=\(mode.rawValue)"), context: context)
                    return
                }
                self.phase = .handshaking
                try context.pipeline.syncOperations.addHandler(handler, position: .first)
            } catch {
                self.fail(.tls("SSL error: \(UpstreamConnector.describeTLS(error, host: self.target.host))"), context: context)
            }
        case UInt8(ascii: "N"):
            guard !mode.requiresEncryption else {
                self.fail(
                    .tls("the server \(self.target.address) does not support SSL, but sslmode=\(mode.rawValue) requires it"),
                    context: context)
                return
            }
            guard bytes.readableBytes == 0 else {
                self.fail(.protocolViolation("the server sent data after refusing SSL"), context: context)
                return
            }
            self.sendStartup(
                security: UpstreamSecurity(
                    tlsVersion: nil, bindingData: nil, channelBinding: self.target.tls.settings.channelBinding),
                context: context)
        default:
            self.fail(
                .protocolViolation("received invalid response to SSL negotiation: \(MessageFramer.printable(answer))"),
                context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if self.phase == .handshaking, let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            let tlsHandler = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)
            let certificate = tlsHandler?.peerCertificate
            let binding = (try? certificate?.toDERBytes()).flatMap { TLSServerEndPoint.binding(certificateDER: $0) }
            let version = tlsHandler?.tlsVersion.map(Self.name(of:)) ?? "TLS"
            self.sendStartup(
                security: UpstreamSecurity(
                    tlsVersion: version, bindingData: binding, channelBinding: self.target.tls.settings.channelBinding),
                context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    static func name(of version: TLSVersion) -> String {
        switch version {
        case .tlsv1: return "TLSv1"
        case .tlsv11: return "TLSv1.1"
        case .tlsv12: return "TLSv1.2"
        case .tlsv13: return "TLSv1.3"
        }
    }

    private func startupMessages(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        self.accumulator.append(bytes)
        do {
            while let (id, payload) = try self.accumulator.next() {
                switch self.machine.message(id: id, payload: payload) {
                case .none:
                    continue
                case .send(let buffer):
                    context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
                case .ready(let handshake):
                    self.phase = .finished
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
        if self.phase != .finished {
            self.phase = .finished
            self.promise.fail(UpstreamError.closed)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.phase == .handshaking || error is NIOSSLError || error is NIOSSLExtraError {
            self.fail(.tls("SSL error: \(UpstreamConnector.describeTLS(error, host: self.target.host))"), context: context)
            return
        }
        self.fail(.unreachable("connection to \(self.target.address) failed: \(UpstreamConnector.describe(error))"), context: context)
    }

    private func fail(_ error: UpstreamError, context: ChannelHandlerContext) {
        guard self.phase != .finished else { return }
        self.phase = .finished
        self.promise.fail(error)
        context.close(promise: nil)
    }
}

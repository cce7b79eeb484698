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
    /// The protocol version asked for; the server may negotiate it down (PostgreSQL before 18: to 3.0).
    public var maxProtocolVersion: ProtocolVersion

    public init(
        host: String, port: Int, user: String, password: String?, database: String,
        parameters: [(String, String)] = [], connectTimeout: TimeAmount = .seconds(10), tls: UpstreamTLS = .disabled,
        maxProtocolVersion: ProtocolVersion = .latest
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.parameters = parameters
        self.connectTimeout = connectTimeout
        self.tls = tls
        self.maxProtocolVersion = maxProtocolVersion
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
                var buffer = channel.allocator.buffer(capacity: 12 + key.secretKey.count)
                key.cancelRequest.encode(into: &buffer)
                return channel.writeAndFlush(buffer).flatMap {
                    // The server closes the connection after reading the request.
                    channel.closeFuture
                }
            }
    }
}

import NIOConcurrencyHelpers
import NIOCore

/// Everything a session needs from the server it belongs to, fixed when the connection is accepted.
struct SessionEnvironment: Sendable {
    var credentials: [String: ClientCredential]
    var bus: EventBus
    var cancelKeys: CancelKeyRegistry
    var writer: SessionFileWriter?
    var sessionsDirectory: String
    var maxRecordedRows: Int
    /// Set when the server shuts down, so sessions it closes say so in their session_end.
    var shuttingDown: NIOLockedValueBox<Bool>
    /// TLS toward clients; nil answers every SSLRequest `N`.
    var tls: ClientTLS?
    var limiter: ConnectionLimiter
    /// A client not authenticated by then is sent FATAL 57014 and closed.
    var authTimeout: TimeAmount
    /// Opens the authenticated upstream connection; a seam so handler tests can hand over an EmbeddedChannel.
    var connectUpstream: @Sendable (UpstreamTarget, any EventLoop) -> EventLoopFuture<UpstreamConnection> = {
        UpstreamConnector.connect($0, on: $1)
    }
    /// Sends a CancelRequest with the upstream's real key (the same seam for cancels).
    var sendCancel: @Sendable (CancelKeyRegistry.Entry, any EventLoop) -> EventLoopFuture<Void> = {
        UpstreamConnector.sendCancel(host: $0.upstreamHost, port: $0.upstreamPort, key: $0.upstreamKey, on: $1)
    }
}

import NIOCore

/// One half of a relayed session: what its channel reads is written, unchanged, to the partner's channel.
///
/// Modelled on swift-nio-examples' GlueHandler: a `read` is held back while the partner cannot take more
/// (or, on the client side, while the session file writer is behind), so memory stays bounded and nothing is
/// dropped; `RelayDepth` bounds how much is read ahead. Both handlers of a pair live on the same event loop.
///
/// No half-close, unlike GlueHandler: PostgreSQL's protocol never uses it (a client sends Terminate and closes;
/// a server closes after its last message, and PostgreSQL ends a session whose client shut down its sending side
/// as a disconnect), and pgbouncer does not relay it either. Half-closure stays off on both channels, so an EOF
/// closes that channel: the partner writes out what is queued for it (a server's last FATAL reaches the client),
/// then closes too.
final class RelayHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Side {
        case client
        case upstream
    }

    let side: Side
    let session: ProxySession
    private var partner: RelayHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    /// Called once when the session ends, with the reason (used to unregister the cancel key).
    var onEnd: ((String) -> Void)?

    private init(side: Side, session: ProxySession) {
        self.side = side
        self.session = session
    }

    static func matchedPair(session: ProxySession) -> (client: RelayHandler, upstream: RelayHandler) {
        let client = RelayHandler(side: .client, session: session)
        let upstream = RelayHandler(side: .upstream, session: session)
        client.partner = upstream
        upstream.partner = client
        return (client, upstream)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        RelayDepth.apply(to: context.channel)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
    }

    // MARK: Inbound

    /// Frames the chunk (a malformed stream stops here, unforwarded) and queues it for the partner.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        do {
            switch self.side {
            case .client: try self.session.frameClientBytes(buffer)
            case .upstream: try self.session.frameServerBytes(buffer)
            }
        } catch {
            self.protocolViolation(error)
            return
        }
        self.partner?.partnerWrite(buffer)
    }

    /// Flushes what was read to the partner first, and only then tracks and records it: the other side gets its
    /// bytes without waiting for the session file's bookkeeping.
    func channelReadComplete(context: ChannelHandlerContext) {
        self.partner?.partnerFlush()
        do {
            switch self.side {
            case .client: try self.session.tapClientMessages()
            case .upstream: try self.session.tapServerMessages()
            }
        } catch {
            self.protocolViolation(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let reason: String
        switch self.side {
        case _ where self.session.isShuttingDown:
            reason = "pgreel shut down"
        case .client:
            reason = self.session.clientSentTerminate ? "client closed the session" : "client disconnected"
        case .upstream:
            reason = "server closed the connection"
        }
        self.finish(reason: reason)
        self.partner?.partnerCloseAfterFlush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let who = self.side == .client ? "client" : "server"
        self.finish(reason: "\(who) connection error: \(error)")
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.partner?.partnerBecameWritable()
        }
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        if self.partner?.partnerWritable ?? false, !(self.side == .client && self.session.isRecordingBacklogged) {
            context.read()
        } else {
            self.pendingRead = true
        }
    }

    /// Resumes reading if a read was held back (the partner drained, or the session writer caught up).
    func resumeIfPaused() {
        guard self.pendingRead, let context = self.context else { return }
        guard self.partner?.partnerWritable ?? false else { return }
        if self.side == .client, self.session.isRecordingBacklogged { return }
        self.pendingRead = false
        context.read()
    }

    // MARK: Partner calls

    private func partnerWrite(_ buffer: ByteBuffer) {
        self.context?.write(self.wrapOutboundOut(buffer), promise: nil)
    }

    private func partnerFlush() {
        self.context?.flush()
    }

    private var partnerWritable: Bool {
        self.context?.channel.isWritable ?? false
    }

    private func partnerBecameWritable() {
        self.resumeIfPaused()
    }

    private func partnerCloseAfterFlush() {
        guard let context = self.context else { return }
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer())).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    // MARK: Ending

    private func finish(reason: String) {
        if let onEnd = self.onEnd ?? self.partner?.onEnd {
            self.onEnd = nil
            self.partner?.onEnd = nil
            onEnd(reason)
        }
    }

    /// The session file could not be written (disk full, I/O error, file too large): the session is closed with
    /// FATAL 58030 rather than go on unrecorded (docs/security.md). Runs on the session's event loop.
    func recordingFailed(_ message: String) {
        let clientHandler = self.side == .client ? self : self.partner
        let upstreamHandler = self.side == .upstream ? self : self.partner
        self.finish(reason: "recording failed: \(message)")
        if let clientContext = clientHandler?.context {
            var buffer = clientContext.channel.allocator.buffer(capacity: 128)
            ErrorFields.fatal("58030", "pgreel could not record this session: \(message)").encode(into: &buffer)
            let channel = clientContext.channel
            clientContext.writeAndFlush(self.wrapOutboundOut(buffer)).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
        upstreamHandler?.context?.close(promise: nil)
    }

    /// A malformed message: the client gets FATAL 08P01 (as PostgreSQL answers one), both sides close.
    private func protocolViolation(_ error: any Error) {
        let message = (error as? ProtocolViolation)?.message ?? "\(error)"
        let clientHandler = self.side == .client ? self : self.partner
        let reason: String
        switch self.side {
        case .client: reason = "protocol violation by the client: \(message)"
        case .upstream: reason = "protocol violation by the server: \(message)"
        }
        self.finish(reason: reason)
        if let clientContext = clientHandler?.context {
            var buffer = clientContext.channel.allocator.buffer(capacity: 64)
            ErrorFields.protocolViolation(self.side == .client ? message : "server sent an invalid message: \(message)")
                .encode(into: &buffer)
            let channel = clientContext.channel
            clientContext.writeAndFlush(self.wrapOutboundOut(buffer)).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
        let upstreamHandler = self.side == .upstream ? self : self.partner
        upstreamHandler?.context?.close(promise: nil)
    }
}

import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import NIOTLS

/// Everything a session needs from the server it belongs to.
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
}

/// Runs the startup phase of a client connection (SSL/GSS answer, cancel routing, authentication, upstream
/// connection), then replaces itself with the relay.
final class ClientConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        case startupPacket
        case messages
        case connecting
        case done
    }

    private let environment: SessionEnvironment
    private let sessionID: String
    private var machine: ClientStartupStateMachine
    private var phase: Phase = .startupPacket
    private var startupBuffer = ByteBuffer()
    /// Before authentication only password messages are valid, so nothing longer is buffered (as PostgreSQL,
    /// which reads them with PG_MAX_AUTH_TOKEN_LENGTH): an unauthenticated client cannot make the proxy hold 1 GB.
    private var accumulator = MessageAccumulator(direction: .frontend, maxLength: MessageLimits.authToken)
    private var clientAddress = "unknown"
    private var applicationName: String?
    /// Plain text, TLS handshake under way (no plain-text error can be sent then), or TLS running.
    private var tlsState: TLSState = .none
    private var authTimer: Scheduled<Void>?
    /// Whether this connection holds a server-wide slot of the limiter.
    private var holdsSlot = false

    private enum TLSState {
        case none
        case handshaking
        case established
    }

    init(environment: SessionEnvironment, sessionID: String) {
        self.environment = environment
        self.sessionID = sessionID
        let credentials = environment.credentials
        let encryption = environment.tls.map {
            ClientEncryptionPolicy(tlsAvailable: true, tlsRequired: $0.required, channelBinding: $0.channelBinding)
        }
        self.machine = ClientStartupStateMachine(lookup: { credentials[$0] }, encryption: encryption ?? .unavailable)
    }

    func channelActive(context: ChannelHandlerContext) {
        if let remote = context.channel.remoteAddress {
            self.clientAddress = "\(remote.ipAddress ?? "local"):\(remote.port ?? 0)"
        }
        self.publish(.connectionOpened(clientAddress: self.clientAddress))
        self.authTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.environment.authTimeout) {
            self.authenticationTimedOut(context: context)
        }
        context.fireChannelActive()
    }

    /// As PostgreSQL's authentication_timeout: FATAL 57014, then close. During a TLS handshake no message can be
    /// sent (the client expects TLS records), so the connection just closes.
    private func authenticationTimedOut(context: ChannelHandlerContext) {
        self.authTimer = nil
        guard self.phase == .startupPacket || self.phase == .messages else { return }
        if self.tlsState == .handshaking {
            self.phase = .done
            self.publish(.connectionClosed(reason: "authentication timeout during the TLS handshake"))
            context.close(promise: nil)
            return
        }
        self.perform(.fail(.fatal("57014", "canceling authentication due to timeout")), context: context)
    }

    private func cancelAuthTimer() {
        self.authTimer?.cancel()
        self.authTimer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        do {
            switch self.phase {
            case .startupPacket:
                self.startupBuffer.writeBuffer(&bytes)
                while self.phase == .startupPacket, let packet = try StartupPacket.decode(from: &self.startupBuffer) {
                    if case .startup = packet {
                        self.applicationName = packet.parameter("application_name")
                        if let user = packet.parameter("user") {
                            self.publish(
                                .authenticating(
                                    pseudoUser: user, database: packet.parameter("database") ?? user))
                        }
                        // As PostgreSQL: the server-wide limit is checked before authentication.
                        guard self.takeSlot(context: context) else {
                            self.perform(.fail(.fatal("53300", "sorry, too many clients already")), context: context)
                            break
                        }
                    }
                    self.perform(self.machine.startupPacket(packet), context: context)
                }
                // Bytes that came in the same read after the startup packet belong to the next phase, whichever it
                // is (a password message, or already the session when no password is asked).
                if self.phase != .startupPacket, self.startupBuffer.readableBytes > 0 {
                    self.accumulator.append(self.startupBuffer)
                    self.startupBuffer.clear()
                    if self.phase == .messages {
                        try self.processMessages(context: context)
                    }
                }
            case .messages:
                self.accumulator.append(bytes)
                try self.processMessages(context: context)
            case .connecting:
                // Reads are off while connecting; anything already in flight waits for the relay.
                self.accumulator.append(bytes)
            case .done:
                break
            }
        } catch {
            let message = (error as? ProtocolViolation)?.message ?? "\(error)"
            self.perform(.fail(.protocolViolation(message)), context: context)
        }
    }

    private func processMessages(context: ChannelHandlerContext) throws {
        while self.phase == .messages, let (id, payload) = try self.accumulator.next() {
            switch id {
            case FrontendMessageID.password:
                self.perform(self.machine.passwordMessage(payload), context: context)
            case FrontendMessageID.terminate:
                self.phase = .done
                context.close(promise: nil)
            default:
                self.perform(
                    .fail(
                        .protocolViolation(
                            "expected password response, got message type \(Int(id))")),
                    context: context)
            }
        }
    }

    private func perform(_ action: ClientStartupStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .wait:
            break
        case .refuseEncryption:
            var buffer = context.channel.allocator.buffer(capacity: 1)
            buffer.writeInteger(UInt8(ascii: "N"))
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        case .acceptEncryption:
            self.startTLS(context: context)
        case .forwardCancel(let pid, let key):
            self.phase = .done
            self.forwardCancel(processID: pid, secretKey: key, context: context)
        case .sendAuthentication(let request, let negotiate):
            self.phase = .messages
            var buffer = context.channel.allocator.buffer(capacity: 64)
            if let negotiate {
                NegotiateProtocolVersion.encode(minorVersion: 0, unsupportedOptions: negotiate, into: &buffer)
            }
            request.encode(into: &buffer)
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        case .connectUpstream(let credential, let database, let parameters, let negotiate):
            self.cancelAuthTimer()
            let user = credential.pseudoUser
            guard self.takeUserSlot(user, context: context) else {
                self.perform(
                    .fail(.fatal("53300", "too many connections for role \"\(user.name)\"")), context: context)
                return
            }
            self.connectUpstream(
                credential, database: database, parameters: parameters, negotiate: negotiate, context: context)
        case .fail(let error):
            self.phase = .done
            self.publish(.refused(pseudoUser: self.machine.pseudoUserName, error: error.recorded))
            self.sendFatal(error, context: context)
        }
    }

    /// Answers 'S' in clear text, then puts TLS in front of this handler. Bytes the client sent after its
    /// SSLRequest, before the handshake, were not protected by TLS: they are refused, never read as the startup
    /// (PostgreSQL's fix for CVE-2021-23214). Bytes arriving later go to the TLS handler, which fails on them.
    private func startTLS(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 1)
        buffer.writeInteger(UInt8(ascii: "S"))
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        guard self.startupBuffer.readableBytes == 0 else {
            self.startupBuffer.clear()
            self.perform(
                .fail(
                    .fatal(
                        "08P01", "received unencrypted data after SSL request",
                        detail: "This could be either a client-software bug or evidence of an attempted "
                            + "man-in-the-middle attack.")),
                context: context)
            return
        }
        guard let tls = self.environment.tls else { return }
        do {
            try context.pipeline.syncOperations.addHandler(tls.makeHandler(), position: .first)
            self.tlsState = .handshaking
        } catch {
            self.phase = .done
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            self.tlsState = .established
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A server-wide slot, given back when the connection closes.
    private func takeSlot(context: ChannelHandlerContext) -> Bool {
        guard !self.holdsSlot else { return true }
        let limiter = self.environment.limiter
        guard limiter.acquire() else { return false }
        self.holdsSlot = true
        context.channel.closeFuture.whenComplete { _ in limiter.release() }
        return true
    }

    /// One of the pseudo user's `max_connections` slots, given back when the connection closes.
    private func takeUserSlot(_ user: PseudoUser, context: ChannelHandlerContext) -> Bool {
        let limiter = self.environment.limiter
        guard limiter.acquire(user: user.name, limit: user.maxConnections) else { return false }
        let name = user.name
        context.channel.closeFuture.whenComplete { _ in limiter.release(user: name) }
        return true
    }

    private func sendFatal(_ error: ErrorFields, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 128)
        error.encode(into: &buffer)
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(buffer)).whenComplete { _ in
            channel.close(promise: nil)
        }
        self.publish(.connectionClosed(reason: "refused: \(error.message)"))
    }

    private func forwardCancel(processID: Int32, secretKey: Int32, context: ChannelHandlerContext) {
        // As PostgreSQL, the client gets no answer either way; the connection just closes.
        let channel = context.channel
        if let entry = self.environment.cancelKeys.lookup(processID: processID, proxyKey: secretKey) {
            self.publish(.cancelRequested(forwarded: true))
            UpstreamConnector.sendCancel(
                host: entry.upstreamHost, port: entry.upstreamPort, key: entry.upstreamKey, on: context.eventLoop
            ).whenComplete { _ in
                channel.close(promise: nil)
            }
        } else {
            self.publish(.cancelRequested(forwarded: false))
            context.close(promise: nil)
        }
    }

    private func connectUpstream(
        _ credential: ClientCredential, database: String, parameters: [(String, String)], negotiate: [String]?,
        context: ChannelHandlerContext
    ) {
        self.phase = .connecting
        try? context.channel.syncOptions?.setOption(.autoRead, value: false)
        let user = credential.pseudoUser
        let target = UpstreamTarget(
            host: user.upstream.host, port: user.upstream.port, user: user.upstream.user,
            password: user.upstream.password, database: database, parameters: parameters, tls: credential.upstreamTLS)
        let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let loopBoundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        UpstreamConnector.connect(target, on: context.eventLoop).whenComplete { result in
            let context = loopBoundContext.value
            let handler = loopBoundSelf.value
            switch result {
            case .success(let upstream):
                handler.upstreamReady(
                    upstream, credential: credential, database: database, negotiate: negotiate, context: context)
            case .failure(let error):
                handler.upstreamFailed(error, credential: credential, context: context)
            }
        }
    }

    private func upstreamFailed(_ error: any Error, credential: ClientCredential, context: ChannelHandlerContext) {
        self.phase = .done
        let masked = credential.pseudoUser.upstream.masked
        let fields: ErrorFields
        switch error as? UpstreamError {
        case .serverError(let serverFields):
            // The server's own refusal (database does not exist, too many connections ...) is meaningful as is.
            fields = serverFields
        case .some(let upstreamError):
            fields = .fatal("08006", "pgreel could not connect to the upstream \(masked): \(upstreamError)")
        case nil:
            fields = .fatal("08006", "pgreel could not connect to the upstream \(masked): \(error)")
        }
        self.publish(.refused(pseudoUser: credential.pseudoUser.name, error: fields.recorded))
        self.sendFatal(fields, context: context)
    }

    private func upstreamReady(
        _ upstream: UpstreamConnection, credential: ClientCredential, database: String, negotiate: [String]?,
        context: ChannelHandlerContext
    ) {
        guard context.channel.isActive else {
            upstream.channel.close(promise: nil)
            return
        }
        let user = credential.pseudoUser
        let upstreamKey = upstream.handshake.backendKey ?? BackendKeyData(processID: 0, secretKey: 0)
        let clientKey = self.environment.cancelKeys.register(
            upstreamKey: upstreamKey, host: user.upstream.host, port: user.upstream.port)

        var recorder: SessionRecorder?
        if let writer = self.environment.writer {
            do {
                recorder = try SessionRecorder.create(
                    directory: self.environment.sessionsDirectory, pseudoUser: user.name, startTime: Date(),
                    writer: writer)
            } catch {
                // Policy: a session that cannot be recorded is refused, never silently unrecorded.
                self.environment.cancelKeys.unregister(processID: clientKey.processID, proxyKey: clientKey.secretKey)
                upstream.channel.close(promise: nil)
                self.phase = .done
                let fields = ErrorFields.fatal("58030", "pgreel could not record this session: \(error)")
                self.publish(.recordingFailed(message: "\(error)"))
                self.sendFatal(fields, context: context)
                return
            }
        }

        let info = ProxyEvent.ConnectedInfo(
            pseudoUser: user.name, realUser: user.upstream.user, database: database, upstreamHost: user.upstream.host,
            upstreamPort: user.upstream.port, clientAddress: self.clientAddress,
            backendProcessID: upstreamKey.processID)
        self.publish(.connected(info))
        if let recorder { self.publish(.recordingStarted(path: recorder.path)) }

        // The greeting: SASLFinal (SCRAM), AuthenticationOk, the server's parameters, our key, ReadyForQuery.
        var greeting = context.channel.allocator.buffer(capacity: 512)
        if let negotiate {
            NegotiateProtocolVersion.encode(minorVersion: 0, unsupportedOptions: negotiate, into: &greeting)
        }
        if let serverFinal = self.machine.serverFinal {
            AuthenticationRequest.saslFinal(data: serverFinal).encode(into: &greeting)
        }
        AuthenticationRequest.ok.encode(into: &greeting)
        for notice in upstream.handshake.notices {
            notice.encode(into: &greeting, id: BackendMessageID.noticeResponse)
        }
        for parameter in upstream.handshake.parameters {
            parameter.encode(into: &greeting)
        }
        if upstream.handshake.backendKey != nil {
            clientKey.encode(into: &greeting)
        }
        ReadyForQuery.encode(upstream.handshake.transactionState, into: &greeting)
        context.writeAndFlush(self.wrapOutboundOut(greeting), promise: nil)

        let session = ProxySession(
            id: self.sessionID, info: info, recorder: recorder, bus: self.environment.bus,
            maxRecordedRows: self.environment.maxRecordedRows, shuttingDown: self.environment.shuttingDown)
        session.start(clientAddress: self.clientAddress, applicationName: self.applicationName)
        let (clientRelay, upstreamRelay) = RelayHandler.matchedPair(session: session)
        let cancelKeys = self.environment.cancelKeys
        let upstreamChannel = upstream.channel
        clientRelay.onEnd = { (reason: String) in
            cancelKeys.unregister(processID: clientKey.processID, proxyKey: clientKey.secretKey)
            session.end(reason: reason)
        }
        if let recorder {
            let loopBound = NIOLoopBound(clientRelay, eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            recorder.setDrainHandler {
                eventLoop.execute { loopBound.value.resumeIfPaused() }
            }
            let bus = self.environment.bus
            let id = self.sessionID
            // Policy: a session whose file cannot be written any more is closed (FATAL 58030), never continued
            // unrecorded; the operator sees the failure in the log.
            recorder.setFailureHandler { message in
                bus.publish(ProxyEvent(sessionID: id, kind: .recordingFailed(message: message)))
                eventLoop.execute { loopBound.value.recordingFailed(message) }
            }
        }
        do {
            try upstreamChannel.pipeline.syncOperations.addHandler(upstreamRelay)
            try context.pipeline.syncOperations.addHandler(clientRelay)
        } catch {
            upstreamChannel.close(promise: nil)
            context.close(promise: nil)
            return
        }
        self.phase = .done
        let pending = self.accumulator.takeRemaining()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        // Bytes that arrived before the relay existed go through it now, each followed by a read-complete so the
        // relay flushes them to the other side.
        if pending.readableBytes > 0 {
            context.channel.pipeline.fireChannelRead(pending)
            context.channel.pipeline.fireChannelReadComplete()
        }
        if upstream.leftover.readableBytes > 0 {
            upstreamChannel.pipeline.fireChannelRead(upstream.leftover)
            upstreamChannel.pipeline.fireChannelReadComplete()
        }
        try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        try? upstreamChannel.syncOptions?.setOption(.autoRead, value: true)
        context.channel.read()
        upstreamChannel.read()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.tlsState == .handshaking, self.phase != .done {
            self.phase = .done
            self.publish(.connectionClosed(reason: "TLS handshake failed: \(error)"))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.cancelAuthTimer()
        if self.phase != .done {
            self.phase = .done
            self.publish(.connectionClosed(reason: "client disconnected during startup"))
        }
        context.fireChannelInactive()
    }

    private func publish(_ kind: ProxyEvent.Kind) {
        let bus = self.environment.bus
        if bus.isObserved || kind.isProblem {
            bus.publish(ProxyEvent(sessionID: self.sessionID, kind: kind))
        }
    }
}

import Foundation
import NIOCore
import NIOSSL
import NIOTLS

/// Runs the startup phase of a client connection (SSL/GSS answer, cancel routing, authentication, upstream
/// connection), then replaces itself with the relay.
///
/// Shaped as postgres-nio's PostgresChannelHandler: every event goes to `ClientConnectionStateMachine`, and the
/// handler carries out the one action it returns (`run`), feeding the outcome back where the machine decides on it.
final class ClientConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var state: ClientConnectionStateMachine
    private var input = StartupInput()
    private var authTimer: Scheduled<Void>?
    private let environment: SessionEnvironment
    private let sessionID: String

    init(environment: SessionEnvironment, sessionID: String) {
        self.environment = environment
        self.sessionID = sessionID
        let credentials = environment.credentials
        let encryption = environment.tls.map {
            ClientEncryptionPolicy(tlsAvailable: true, tlsRequired: $0.required, channelBinding: $0.channelBinding)
        }
        self.state = ClientConnectionStateMachine(
            authentication: ClientStartupStateMachine(
                lookup: { credentials[$0] }, encryption: encryption ?? .unavailable),
            recording: environment.writer != nil)
    }

    // MARK: Events

    func channelActive(context: ChannelHandlerContext) {
        let address = context.channel.remoteAddress.map { "\($0.ipAddress ?? "local"):\($0.port ?? 0)" }
        self.run(self.state.connected(clientAddress: address ?? "unknown"), context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        self.input.append(&bytes)
        self.readInput(context: context)
    }

    /// Reads what the state expects from the bytes received so far, as long as there is some.
    private func readInput(context: ChannelHandlerContext) {
        do {
            while true {
                switch self.state.input {
                case .firstBytes:
                    guard let kind = self.input.classifyFirstBytes() else { return }
                    self.run(self.state.firstBytesReceived(kind), context: context)
                case .startupPackets:
                    guard let packet = try self.input.nextStartupPacket() else { return }
                    self.run(
                        self.state.startupPacketReceived(packet, unreadBytes: self.input.unreadBytes), context: context)
                case .messages:
                    guard let message = try self.input.nextMessage() else { return }
                    self.run(self.state.messageReceived(message), context: context)
                case .held:
                    // Reads are off while the upstream is opened; what was already in flight waits for the relay.
                    // During a TLS handshake nothing decrypted is read before the handshake is judged.
                    return
                case .ignored:
                    self.input.discard()
                    return
                }
            }
        } catch {
            let message = (error as? ProtocolViolation)?.message ?? "\(error)"
            self.run(self.state.protocolViolation(message), context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiatedProtocol) = event {
            self.run(self.state.tlsHandshakeCompleted(negotiatedProtocol: negotiatedProtocol), context: context)
            self.readInput(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.run(self.state.errorCaught(error), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.run(self.state.channelInactive(), context: context)
        context.fireChannelInactive()
    }

    // MARK: Actions

    private func run(_ action: ClientConnectionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .wait:
            break
        case .armAuthTimeout(let clientAddress):
            self.publish(.connectionOpened(clientAddress: clientAddress))
            self.authTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.environment.authTimeout) {
                self.authTimer = nil
                self.run(self.state.authTimeoutFired(), context: context)
            }
        case .disarmAuthTimeout(let reason):
            self.cancelAuthTimer()
            if let reason { self.publish(.connectionClosed(reason: reason)) }
        case .refuseEncryption:
            self.write([UInt8(ascii: "N")], context: context)
        case .startTLS:
            self.write([UInt8(ascii: "S")], context: context)
            self.addTLSHandler(context: context)
        case .startDirectTLS:
            guard self.addTLSHandler(context: context) else { return }
            // The ClientHello was read here, behind where TLS now sits: it goes through TLS from the front.
            let clientHello = self.input.takeUnread()
            context.channel.pipeline.fireChannelRead(clientHello)
            context.channel.pipeline.fireChannelReadComplete()
        case .acceptEncryptionThenRefuse(let error):
            self.write([UInt8(ascii: "S")], context: context)
            self.refuse(error, pseudoUser: nil, context: context)
        case .acquireServerSlot(let pseudoUser, let database):
            if let pseudoUser { self.publish(.authenticating(pseudoUser: pseudoUser, database: database)) }
            let limiter = self.environment.limiter
            let acquired = limiter.acquire()
            if acquired {
                context.channel.closeFuture.whenComplete { _ in limiter.release() }
            }
            self.run(self.state.serverSlotAcquired(acquired), context: context)
        case .sendAuthentication(let request, let negotiate):
            var buffer = context.channel.allocator.buffer(capacity: 64)
            negotiate?.encode(into: &buffer)
            request.encode(into: &buffer)
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        case .acquireUserSlot(let user):
            self.cancelAuthTimer()
            let limiter = self.environment.limiter
            let name = user.name
            let acquired = limiter.acquire(user: name, limit: user.maxConnections)
            if acquired {
                context.channel.closeFuture.whenComplete { _ in limiter.release(user: name) }
            }
            self.run(self.state.userSlotAcquired(acquired), context: context)
        case .connectUpstream(let target):
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            self.environment.connectUpstream(target, context.eventLoop).whenComplete { result in
                let (handler, context) = loopBound.value
                switch result {
                case .success(let upstream):
                    handler.run(handler.state.upstreamConnected(upstream), context: context)
                case .failure(let error):
                    handler.run(handler.state.upstreamFailed(error), context: context)
                }
            }
        case .createRecording(let pseudoUser):
            // The machine asks for a file only when a writer exists.
            guard let writer = self.environment.writer else {
                self.run(self.state.recordingFailed("no session file writer"), context: context)
                return
            }
            do {
                let recorder = try SessionRecorder.create(
                    directory: self.environment.sessionsDirectory, pseudoUser: pseudoUser, startTime: Date(),
                    writer: writer)
                self.run(self.state.recordingCreated(recorder), context: context)
            } catch {
                self.run(self.state.recordingFailed("\(error)"), context: context)
            }
        case .registerCancelKey(let upstreamKey, let clientKeyLength, let host, let port):
            let clientKey = self.environment.cancelKeys.register(
                upstreamKey: upstreamKey, clientKeyLength: clientKeyLength, host: host, port: port)
            self.run(self.state.cancelKeyRegistered(clientKey), context: context)
        case .startSession(let start):
            self.startSession(start, context: context)
        case .lookUpCancelKey(let processID, let secretKey):
            let entry = self.environment.cancelKeys.lookup(processID: processID, proxyKey: secretKey)
            self.run(self.state.cancelKeyLookedUp(entry), context: context)
        case .forwardCancel(let entry):
            self.publish(.cancelRequested(forwarded: true))
            let channel = context.channel
            self.environment.sendCancel(entry, context.eventLoop).whenComplete { _ in
                channel.close(promise: nil)
            }
        case .dropCancel:
            self.publish(.cancelRequested(forwarded: false))
            context.close(promise: nil)
        case .refuse(let error, let pseudoUser):
            self.refuse(error, pseudoUser: pseudoUser, context: context)
        case .refuseWithoutAnswer(let error):
            self.publish(.refused(pseudoUser: nil, error: error.recorded))
            self.publish(.connectionClosed(reason: "refused: \(error.message)"))
            context.close(promise: nil)
        case .refuseUnrecorded(let error, let message, let upstream):
            upstream.close(promise: nil)
            self.publish(.recordingFailed(message: message))
            self.sendFatal(error, context: context)
        case .closeUpstream(let upstream):
            upstream.close(promise: nil)
        case .close(let reason):
            if let reason { self.publish(.connectionClosed(reason: reason)) }
            context.close(promise: nil)
        }
    }

    /// Greets the client, starts the session and puts a relay pair in place of the startup handlers. Both channels
    /// are on this event loop, so the relay needs no locks.
    private func startSession(_ start: ClientConnectionStateMachine.SessionStart, context: ChannelHandlerContext) {
        self.publish(.connected(start.info))
        if let recorder = start.recorder { self.publish(.recordingStarted(path: recorder.path)) }
        var greeting = context.channel.allocator.buffer(capacity: 512)
        start.greeting.encode(into: &greeting)
        context.writeAndFlush(self.wrapOutboundOut(greeting), promise: nil)

        let session = ProxySession(
            id: self.sessionID, info: start.info, recorder: start.recorder, bus: self.environment.bus,
            maxRecordedRows: self.environment.maxRecordedRows, shuttingDown: self.environment.shuttingDown)
        session.start(clientAddress: start.clientAddress, applicationName: start.applicationName)
        let (clientRelay, upstreamRelay) = RelayHandler.matchedPair(session: session)
        let cancelKeys = self.environment.cancelKeys
        let clientKey = start.clientKey
        clientRelay.onEnd = { (reason: String) in
            cancelKeys.unregister(processID: clientKey.processID, proxyKey: clientKey.secretKey)
            session.end(reason: reason)
        }
        if let recorder = start.recorder {
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
        let upstreamChannel = start.upstream.channel
        do {
            try upstreamChannel.pipeline.syncOperations.addHandler(upstreamRelay)
            try context.pipeline.syncOperations.addHandler(clientRelay)
        } catch {
            upstreamChannel.close(promise: nil)
            context.close(promise: nil)
            return
        }
        let pending = self.input.takeUnread()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        // Bytes that arrived before the relay existed go through it now, each followed by a read-complete so the
        // relay flushes them to the other side.
        if pending.readableBytes > 0 {
            context.channel.pipeline.fireChannelRead(pending)
            context.channel.pipeline.fireChannelReadComplete()
        }
        if start.upstream.leftover.readableBytes > 0 {
            upstreamChannel.pipeline.fireChannelRead(start.upstream.leftover)
            upstreamChannel.pipeline.fireChannelReadComplete()
        }
        try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        try? upstreamChannel.syncOptions?.setOption(.autoRead, value: true)
        context.channel.read()
        upstreamChannel.read()
    }

    // MARK: Helpers

    /// Puts TLS in front of this handler; false (and the machine told) when that failed.
    @discardableResult
    private func addTLSHandler(context: ChannelHandlerContext) -> Bool {
        // The machine starts TLS only when it is configured; adding a handler fails only on a closing channel.
        guard let tls = self.environment.tls,
            (try? context.pipeline.syncOperations.addHandler(tls.makeHandler(), position: .first)) != nil
        else {
            self.run(self.state.tlsSetupFailed(), context: context)
            return false
        }
        return true
    }

    private func cancelAuthTimer() {
        self.authTimer?.cancel()
        self.authTimer = nil
    }

    private func write(_ bytes: [UInt8], context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
    }

    private func refuse(_ error: ErrorFields, pseudoUser: String?, context: ChannelHandlerContext) {
        self.publish(.refused(pseudoUser: pseudoUser, error: error.recorded))
        self.sendFatal(error, context: context)
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

    private func publish(_ kind: ProxyEvent.Kind) {
        let bus = self.environment.bus
        if bus.isObserved || kind.isProblem {
            bus.publish(ProxyEvent(sessionID: self.sessionID, kind: kind))
        }
    }
}

import NIOCore
import NIOSSL
import NIOTLS

/// Runs the upstream startup on a fresh channel (SSL negotiation, TLS handshake, startup, authentication), then
/// removes itself and hands the channel over through `promise`.
///
/// Every event goes to `UpstreamStartupStateMachine`; the handler carries out the action it returns (`run`).
final class UpstreamStartupHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var state: UpstreamStartupStateMachine
    private var accumulator = MessageAccumulator(direction: .backend)
    private let target: UpstreamTarget
    private let promise: EventLoopPromise<UpstreamConnection>

    init(target: UpstreamTarget, promise: EventLoopPromise<UpstreamConnection>) {
        self.target = target
        self.promise = promise
        self.state = UpstreamStartupStateMachine(target: target)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.run(self.state.connected(), context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.state.input {
        case .passOn:
            context.fireChannelRead(data)
        case .unexpected:
            // Nothing arrives in clear text once TLS runs; the TLS handler passes nothing on before the handshake.
            self.run(self.state.unexpectedData(), context: context)
        case .sslAnswer:
            var bytes = self.unwrapInboundIn(data)
            guard let answer = bytes.readInteger(as: UInt8.self) else { return }
            self.run(self.state.sslAnswerReceived(answer, unreadBytes: bytes.readableBytes), context: context)
        case .messages:
            self.accumulator.append(self.unwrapInboundIn(data))
            do {
                while self.state.input == .messages, let (id, payload) = try self.accumulator.next() {
                    self.run(self.state.message(id: id, payload: payload), context: context)
                }
            } catch {
                self.run(self.state.messageDecodingFailed(error), context: context)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiatedProtocol) = event {
            let tlsHandler = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)
            let certificate = try? tlsHandler?.peerCertificate?.toDERBytes()
            self.run(
                self.state.tlsEstablished(
                    version: tlsHandler?.tlsVersion, peerCertificateDER: certificate,
                    negotiatedProtocol: negotiatedProtocol),
                context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.run(self.state.closed(), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.run(self.state.errorCaught(error), context: context)
    }

    private func run(_ action: UpstreamStartupStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .send(let buffer):
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        case .establishTLS:
            do {
                guard let handler = try self.target.tls.makeHandler(host: self.target.host) else {
                    self.run(self.state.tlsSetupFailed(nil), context: context)
                    return
                }
                try context.pipeline.syncOperations.addHandler(handler, position: .first)
            } catch {
                self.run(self.state.tlsSetupFailed(error), context: context)
            }
        case .ready(let handshake):
            // Hold reads until the relay is in place, so nothing reaches an empty pipeline.
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
            let leftover = self.accumulator.takeRemaining()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            self.promise.succeed(UpstreamConnection(channel: context.channel, handshake: handshake, leftover: leftover))
        case .fail(let error):
            self.promise.fail(error)
            context.close(promise: nil)
        }
    }
}

import NIOCore
import NIOPosix

// relay-floor LISTEN_PORT UPSTREAM_PORT [THREADS]: accepts on 127.0.0.1:LISTEN_PORT and relays every connection,
// byte for byte, to 127.0.0.1:UPSTREAM_PORT with the channel options pgreel uses (TCP_NODELAY, 16 reads per turn,
// the partner's writability gating reads). What it costs per transaction is what any swift-nio proxy pays before
// doing anything with the bytes.

/// One half of a relayed connection (the GlueHandler pattern of swift-nio-examples).
final class Glue: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    var partner: Glue?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    static func pair() -> (Glue, Glue) {
        let first = Glue()
        let second = Glue()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.partner?.context?.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.partner?.context?.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.partner?.context?.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let partner = self.partner, partner.pendingRead {
            partner.pendingRead = false
            partner.context?.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        if self.partner?.context?.channel.isWritable ?? false {
            context.read()
        } else {
            self.pendingRead = true
        }
    }
}

let arguments = CommandLine.arguments
guard arguments.count >= 3, let listenPort = Int(arguments[1]), let upstreamPort = Int(arguments[2]) else {
    print("usage: relay-floor LISTEN_PORT UPSTREAM_PORT [THREADS]")
    exit(2)
}
let threads = arguments.count > 3 ? Int(arguments[3]) ?? System.coreCount : System.coreCount
let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)

let server = try ServerBootstrap(group: group)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelOption(.maxMessagesPerRead, value: 16)
    .childChannelOption(.autoRead, value: false)
    .childChannelInitializer { client in
        ClientBootstrap(group: client.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: upstreamPort)
            .flatMap { upstream in
                // Both channels live on the client's event loop, so the handlers go in synchronously.
                client.eventLoop.makeCompletedFuture {
                    let (clientSide, upstreamSide) = Glue.pair()
                    try client.pipeline.syncOperations.addHandler(clientSide)
                    try upstream.pipeline.syncOperations.addHandler(upstreamSide)
                    try client.syncOptions?.setOption(.autoRead, value: true)
                }
            }
    }
    .bind(host: "127.0.0.1", port: listenPort)
    .wait()
print("relay-floor: 127.0.0.1:\(listenPort) -> 127.0.0.1:\(upstreamPort), \(threads) event loop(s)")
try server.closeFuture.wait()

import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import ProxyEngine

/// Counts the `read` calls that reach the front of a pipeline, where a socket channel would read from its socket:
/// how a test sees a relay hold reading back.
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer

    private(set) var reads = 0

    func read(context: ChannelHandlerContext) {
        self.reads += 1
        context.read()
    }
}

extension EmbeddedChannel {
    /// An active channel (as an accepted or connected socket is) on `loop`.
    static func active(_ handlers: [any ChannelHandler] = [], loop: EmbeddedEventLoop) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handlers: handlers, loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_000)).wait()
        return channel
    }

    /// Everything written and flushed so far, as one buffer.
    func writtenBytes() throws -> ByteBuffer {
        var all = ByteBuffer()
        while var chunk = try self.readOutbound(as: ByteBuffer.self) {
            all.writeBuffer(&chunk)
        }
        return all
    }

    /// The backend messages written so far (a client's view of what the proxy sent it).
    func backendMessages() throws -> [RawMessage] {
        try Self.decode(self.writtenBytes(), direction: .backend)
    }

    /// The frontend messages written so far (a server's view).
    func frontendMessages() throws -> [RawMessage] {
        try Self.decode(self.writtenBytes(), direction: .frontend)
    }

    static func decode(_ bytes: ByteBuffer, direction: MessageFramer.Direction) throws -> [RawMessage] {
        var bytes = bytes
        var decoder = RawMessageDecoder(direction: direction)
        var messages: [RawMessage] = []
        while let message = try decoder.decode(buffer: &bytes) { messages.append(message) }
        #expect(bytes.readableBytes == 0, "a partial message was written")
        return messages
    }
}

/// Builds wire bytes with the project's own encoders.
func wire(_ encode: (inout ByteBuffer) -> Void) -> ByteBuffer {
    var buffer = ByteBuffer()
    encode(&buffer)
    return buffer
}

/// One backend message as a state machine receives it (its type and payload), from what `encode` writes.
func backendMessage(_ encode: (inout ByteBuffer) -> Void) throws -> (UInt8, ByteBuffer) {
    var buffer = wire(encode)
    var decoder = RawMessageDecoder(direction: .backend)
    let message = try #require(try decoder.decode(buffer: &buffer))
    return (message.id, message.payload)
}

extension [RawMessage] {
    var ids: [Character] { self.map { Character(Unicode.Scalar($0.id)) } }

    /// The fields of the first ErrorResponse.
    func error() throws -> ErrorFields {
        let message = try #require(
            self.first { $0.id == BackendMessageID.errorResponse }, "no ErrorResponse in \(self.ids)")
        return try ErrorFields.decode(from: message.payload)
    }
}

/// A relayed session of two EmbeddedChannels on one loop, as ClientConnectionHandler leaves it.
struct RelayPair {
    let loop = EmbeddedEventLoop()
    let client: EmbeddedChannel
    let upstream: EmbeddedChannel
    let clientRelay: RelayHandler
    let upstreamRelay: RelayHandler
    let clientReads = ReadCounter()
    let upstreamReads = ReadCounter()
    let session: ProxySession
    /// The reasons `onEnd` was called with (it must be once).
    let endings = NIOLockedValueBox<[String]>([])

    init() throws {
        let info = ProxyEvent.ConnectedInfo(
            pseudoUser: "seed", realUser: "postgres", database: "app", upstreamHost: "127.0.0.1", upstreamPort: 5432,
            clientAddress: "127.0.0.1:40000", backendProcessID: 77)
        self.session = ProxySession(
            id: "session_test", info: info, recorder: nil, bus: EventBus(), maxRecordedRows: 100,
            shuttingDown: NIOLockedValueBox(false))
        (self.clientRelay, self.upstreamRelay) = RelayHandler.matchedPair(session: self.session)
        let endings = self.endings
        let session = self.session
        self.clientRelay.onEnd = { reason in
            endings.withLockedValue { $0.append(reason) }
            session.end(reason: reason)
        }
        self.client = try .active([self.clientReads, self.clientRelay], loop: self.loop)
        self.upstream = try .active([self.upstreamReads, self.upstreamRelay], loop: self.loop)
    }
}

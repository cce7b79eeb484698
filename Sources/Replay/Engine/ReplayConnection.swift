import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ProxyEngine

/// A small async frontend connection for replay: send frontend messages, receive backend messages one by one.
///
/// It reuses `UpstreamConnector` for the startup and authentication, so replay connects exactly as the proxy does.
/// Reading is pulled: the socket is read only while someone waits for a message and none is buffered, so a huge
/// result is processed as it arrives and never piles up in memory.
public final class ReplayConnection: Sendable {
    /// What the server said during the startup (ParameterStatus, backend key).
    public let handshake: UpstreamHandshake
    private let channel: any Channel
    private let inbox: ReplayInbox

    private init(channel: any Channel, handshake: UpstreamHandshake, inbox: ReplayInbox) {
        self.channel = channel
        self.handshake = handshake
        self.inbox = inbox
    }

    /// Connects and authenticates. Throws `UpstreamError` (unreachable, authentication failed ...) on failure.
    public static func open(
        _ target: UpstreamTarget, eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next()
    ) async throws -> ReplayConnection {
        let upstream = try await UpstreamConnector.connect(target, on: eventLoop).get()
        let inbox = ReplayInbox()
        let channel = upstream.channel
        let leftover = upstream.leftover
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(ReplayInboundHandler(inbox: inbox))
            if leftover.readableBytes > 0 {
                channel.pipeline.syncOperations.fireChannelRead(NIOAny(leftover))
            }
        }.get()
        return ReplayConnection(channel: channel, handshake: upstream.handshake, inbox: inbox)
    }

    /// Asks the server to cancel what this connection runs now: a CancelRequest with the connection's backend key,
    /// on a connection of its own (as psql's Ctrl-C). False when the server gave no key. Whether anything was
    /// cancelled shows in the answer being read (57014), as for any client.
    public func cancelRunningQuery(host: String, port: Int) async -> Bool {
        guard let key = self.handshake.backendKey else { return false }
        do {
            try await UpstreamConnector.sendCancel(host: host, port: port, key: key, on: self.channel.eventLoop).get()
            return true
        } catch {
            return false
        }
    }

    /// Queues `buffer` (one or more encoded messages) for writing and returns without waiting for the write:
    /// waiting would cost two thread hops per query. A failed write closes the connection, which the next
    /// `receive` reports. The next `receive` is what waits.
    public func send(_ buffer: ByteBuffer) {
        self.channel.writeAndFlush(buffer, promise: nil)
    }

    /// Writes `buffer` and waits until it is handed to the socket, so that a long stream (COPY data) is sent at
    /// the pace the server takes it, not buffered whole.
    public func sendAndWait(_ buffer: ByteBuffer) async throws {
        try await self.channel.writeAndFlush(buffer).get()
    }

    /// The next backend message and when its bytes arrived (read on the event loop, as the proxy stamps what it
    /// relays, so replayed and recorded durations are measured alike); throws when the connection is closed or
    /// broken.
    public func receive() async throws -> ReceivedMessage {
        if let message = try self.inbox.takeBuffered() {
            return message
        }
        return try await withCheckedThrowingContinuation { continuation in
            if self.inbox.wait(continuation) {
                let channel = self.channel
                channel.eventLoop.execute { channel.read() }
            }
        }
    }

    /// Says goodbye (Terminate) and closes the connection; never fails.
    public func close() async {
        var buffer = self.channel.allocator.buffer(capacity: 5)
        EmptyMessage.encode(id: FrontendMessageID.terminate, into: &buffer)
        try? await self.channel.writeAndFlush(buffer).get()
        try? await self.channel.close().get()
    }

    /// True until the connection is closed or broken.
    public var isActive: Bool { self.channel.isActive }
}

/// A backend message and the instant its bytes were read from the socket.
public struct ReceivedMessage: Sendable {
    public var message: RawMessage
    public var arrived: ContinuousClock.Instant
}

/// Why a replay connection stopped working.
public struct ReplayConnectionClosed: Error, Sendable, CustomStringConvertible {
    public var reason: String

    public var description: String { self.reason }
}

/// Messages received and not yet taken, the task waiting for one, and whether a socket read is under way.
/// Shared between the event loop (which fills it) and the replay task (which empties it).
final class ReplayInbox: Sendable {
    private struct State {
        var messages = CircularBuffer<ReceivedMessage>()
        var waiter: CheckedContinuation<ReceivedMessage, any Error>?
        var failure: ReplayConnectionClosed?
        var readInFlight = false
    }

    private let state = NIOLockedValueBox(State())

    /// A buffered message, nil when none is buffered; throws once the connection has failed and all is taken.
    func takeBuffered() throws -> ReceivedMessage? {
        try self.state.withLockedValue { state in
            if let message = state.messages.popFirst() { return message }
            if let failure = state.failure { throw failure }
            return nil
        }
    }

    /// Parks `continuation` until a message comes (or resumes it at once); true when the caller must start a read.
    func wait(_ continuation: CheckedContinuation<ReceivedMessage, any Error>) -> Bool {
        enum Action {
            case resume(Result<ReceivedMessage, any Error>)
            case read
            case none
        }
        let action = self.state.withLockedValue { state -> Action in
            if let message = state.messages.popFirst() { return .resume(.success(message)) }
            if let failure = state.failure { return .resume(.failure(failure)) }
            state.waiter = continuation
            if state.readInFlight { return .none }
            state.readInFlight = true
            return .read
        }
        switch action {
        case .resume(let result):
            continuation.resume(with: result)
            return false
        case .read:
            return true
        case .none:
            return false
        }
    }

    /// Event loop: one decoded message.
    func deliver(_ message: ReceivedMessage) {
        let waiter = self.state.withLockedValue { state -> CheckedContinuation<ReceivedMessage, any Error>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.messages.append(message)
            return nil
        }
        waiter?.resume(returning: message)
    }

    /// Event loop: a read finished; true when someone still waits, and a new read has been claimed for them.
    func readCompleted() -> Bool {
        self.state.withLockedValue { state in
            state.readInFlight = state.waiter != nil
            return state.readInFlight
        }
    }

    /// Event loop: the connection is gone. A waiting task fails now, later ones after the buffer is drained.
    func fail(_ reason: String) {
        let waiter = self.state.withLockedValue { state -> CheckedContinuation<ReceivedMessage, any Error>? in
            if state.failure == nil { state.failure = ReplayConnectionClosed(reason: reason) }
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume(throwing: ReplayConnectionClosed(reason: reason))
    }
}

/// Splits the bytes from the server into messages and hands them to the inbox.
final class ReplayInboundHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let inbox: ReplayInbox
    private var processor = NIOSingleStepByteToMessageProcessor(RawMessageDecoder(direction: .backend))

    init(inbox: ReplayInbox) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // One instant for every message of the read, as the proxy's tap takes the time a read's first bytes came.
        let arrived = ContinuousClock.now
        do {
            try self.processor.process(buffer: self.unwrapInboundIn(data)) { message in
                self.inbox.deliver(ReceivedMessage(message: message, arrived: arrived))
            }
        } catch {
            self.inbox.fail("the server sent an invalid message: \(error)")
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.inbox.readCompleted() {
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.inbox.fail("the server closed the connection")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.inbox.fail("the connection failed: \(error)")
        context.close(promise: nil)
    }
}

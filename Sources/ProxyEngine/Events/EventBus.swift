import NIOConcurrencyHelpers

/// A lossy broadcast of ProxyEvents: the dashboard and the headless log subscribe, the proxy publishes.
///
/// Each subscriber has its own bounded buffer. When a subscriber falls behind, new events are dropped for it
/// (and counted) instead of slowing the proxy: the session file is the lossless path, not this.
public final class EventBus: Sendable {
    /// What a subscriber wants: everything, or only the rare events an operator must see (`--quiet`).
    public enum Interest: Sendable {
        case everything
        case problemsOnly
    }

    private struct Subscriber {
        var id: Int
        var interest: Interest
        var continuation: AsyncStream<ProxyEvent>.Continuation
    }

    private struct State {
        var subscribers: [Subscriber] = []
        var nextID = 0
        var dropped = 0
    }

    private let state = NIOLockedValueBox(State())
    private let hasSubscribers = NIOLockedValueBox(false)

    public init() {}

    /// A stream of the events published from now on, keeping at most `bufferSize` unread ones.
    public func subscribe(bufferSize: Int = 10_000, interest: Interest = .everything) -> AsyncStream<ProxyEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: ProxyEvent.self, bufferingPolicy: .bufferingOldest(bufferSize))
        let id = self.state.withLockedValue { state in
            state.nextID += 1
            state.subscribers.append(Subscriber(id: state.nextID, interest: interest, continuation: continuation))
            return state.nextID
        }
        if interest == .everything {
            self.hasSubscribers.withLockedValue { $0 = true }
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            let observed = self.state.withLockedValue { state in
                state.subscribers.removeAll { $0.id == id }
                return state.subscribers.contains { $0.interest == .everything }
            }
            self.hasSubscribers.withLockedValue { $0 = observed }
        }
        return stream
    }

    /// Whether anyone listens to everything; publishers skip building the frequent events when nobody does.
    /// Problem events (see `ProxyEvent.Kind.isProblem`) are published regardless.
    public var isObserved: Bool { self.hasSubscribers.withLockedValue { $0 } }

    public func publish(_ event: ProxyEvent) {
        let isProblem = event.kind.isProblem
        self.state.withLockedValue { state in
            for subscriber in state.subscribers where subscriber.interest == .everything || isProblem {
                if case .dropped = subscriber.continuation.yield(event) {
                    state.dropped += 1
                }
            }
        }
    }

    /// Events dropped because a subscriber was too slow, since the bus started.
    public var droppedCount: Int { self.state.withLockedValue { $0.dropped } }

    /// Ends every subscriber's stream (shutdown).
    public func finish() {
        let subscribers = self.state.withLockedValue { $0.subscribers }
        for subscriber in subscribers { subscriber.continuation.finish() }
    }
}

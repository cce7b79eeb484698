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
        var mailboxes: [EventMailbox] = []
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
                return Self.observesEverything(state)
            }
            self.hasSubscribers.withLockedValue { $0 = observed }
        }
        return stream
    }

    /// A subscription read in batches (`EventMailbox.takeAll`), for a reader that polls anyway, like the
    /// dashboard's terminal loop: publishing to it wakes nobody.
    public func mailbox(capacity: Int = 50_000, interest: Interest = .everything) -> EventMailbox {
        let mailbox = EventMailbox(capacity: capacity, interest: interest)
        self.state.withLockedValue { $0.mailboxes.append(mailbox) }
        if interest == .everything {
            self.hasSubscribers.withLockedValue { $0 = true }
        }
        return mailbox
    }

    /// Ends a mailbox subscription: nothing more is delivered to it.
    public func unsubscribe(_ mailbox: EventMailbox) {
        mailbox.close()
        let observed = self.state.withLockedValue { state in
            state.mailboxes.removeAll { $0 === mailbox }
            return Self.observesEverything(state)
        }
        self.hasSubscribers.withLockedValue { $0 = observed }
    }

    private static func observesEverything(_ state: State) -> Bool {
        state.subscribers.contains { $0.interest == .everything }
            || state.mailboxes.contains { $0.interest == .everything }
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
            for mailbox in state.mailboxes where mailbox.interest == .everything || isProblem {
                if !mailbox.deliver(event) {
                    state.dropped += 1
                }
            }
        }
    }

    /// Events dropped because a subscriber was too slow, since the bus started.
    public var droppedCount: Int { self.state.withLockedValue { $0.dropped } }

    /// Ends every subscriber's stream (shutdown).
    public func finish() {
        let (subscribers, mailboxes) = self.state.withLockedValue { ($0.subscribers, $0.mailboxes) }
        for subscriber in subscribers { subscriber.continuation.finish() }
        for mailbox in mailboxes { mailbox.close() }
    }
}

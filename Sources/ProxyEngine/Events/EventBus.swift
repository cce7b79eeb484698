import NIOConcurrencyHelpers

/// A lossy broadcast of ProxyEvents: the dashboard and the headless log subscribe, the proxy publishes.
///
/// Each subscriber has its own bounded `EventMailbox`. When a subscriber falls behind, new events are dropped for
/// it (and counted) instead of slowing the proxy: the session file is the lossless path, not this.
public final class EventBus: Sendable {
    /// What a subscriber wants: everything, or only the rare events an operator must see (`--quiet`).
    public enum Interest: Sendable {
        case everything
        case problemsOnly
    }

    private struct State {
        var mailboxes: [EventMailbox] = []
        var dropped = 0
    }

    private let state = NIOLockedValueBox(State())
    private let hasSubscribers = NIOLockedValueBox(false)

    public init() {}

    /// A subscription read in batches (`EventMailbox.takeAll`/`swapEvents`) by a reader that polls anyway, like the
    /// dashboard's terminal loop or the headless log: publishing to it wakes nobody.
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
            return state.mailboxes.contains { $0.interest == .everything }
        }
        self.hasSubscribers.withLockedValue { $0 = observed }
    }

    /// Whether anyone listens to everything; publishers skip building the frequent events when nobody does.
    /// Problem events (see `ProxyEvent.Kind.isProblem`) are published regardless.
    public var isObserved: Bool { self.hasSubscribers.withLockedValue { $0 } }

    public func publish(_ event: ProxyEvent) {
        let isProblem = event.kind.isProblem
        self.state.withLockedValue { state in
            for mailbox in state.mailboxes where mailbox.interest == .everything || isProblem {
                if !mailbox.deliver(event) {
                    state.dropped += 1
                }
            }
        }
    }

    /// Events dropped because a subscriber was too slow, since the bus started.
    public var droppedCount: Int { self.state.withLockedValue { $0.dropped } }

    /// Closes every subscriber's mailbox (shutdown).
    public func finish() {
        let mailboxes = self.state.withLockedValue { $0.mailboxes }
        for mailbox in mailboxes { mailbox.close() }
    }
}

import NIOConcurrencyHelpers

/// A bus subscription read in batches: the publisher appends under a lock and never wakes anyone; the reader
/// takes everything that arrived whenever it is ready (the dashboard: once per loop turn, at most ~30 times a
/// second).
///
/// Why not an `AsyncStream` for the dashboard: a stream resumes its waiting reader for each event, and under a
/// flood those wake-ups (a thread switch each) cost the proxy more than the events themselves. Bounded: past
/// `capacity` unread events, new ones are dropped and counted, so a reader that stalls never grows memory.
public final class EventMailbox: Sendable {
    private struct State {
        var events: [ProxyEvent] = []
        var dropped = 0
        var closed = false
    }

    public let capacity: Int
    public let interest: EventBus.Interest
    private let state = NIOLockedValueBox(State())

    init(capacity: Int, interest: EventBus.Interest) {
        self.capacity = max(capacity, 1)
        self.interest = interest
    }

    /// Publisher side: false when the event was dropped (mailbox full).
    func deliver(_ event: ProxyEvent) -> Bool {
        self.state.withLockedValue { state in
            guard !state.closed else { return true }
            guard state.events.count < self.capacity else {
                state.dropped += 1
                return false
            }
            state.events.append(event)
            return true
        }
    }

    /// Everything that arrived since the last call, oldest first.
    public func takeAll() -> [ProxyEvent] {
        var events: [ProxyEvent] = []
        self.swapEvents(&events)
        return events
    }

    /// Empties `buffer` and swaps it with the events that arrived since the last call, so two arrays take turns
    /// and neither side allocates once they have grown: the lock is held for the swap alone. That matters because
    /// the reader (the dashboard's terminal thread) runs at a lower priority than the publishers (the proxy's
    /// event loops): were it preempted inside the lock, say in an allocation, the proxy would wait for it.
    public func swapEvents(_ buffer: inout [ProxyEvent]) {
        buffer.removeAll(keepingCapacity: true)
        self.state.withLockedValue { state in
            swap(&state.events, &buffer)
        }
    }

    /// Events dropped because the mailbox was full.
    public var droppedCount: Int { self.state.withLockedValue { $0.dropped } }

    /// True once the bus finished (shutdown) or the subscription was cancelled.
    public var isClosed: Bool { self.state.withLockedValue { $0.closed } }

    func close() {
        self.state.withLockedValue { $0.closed = true }
    }
}

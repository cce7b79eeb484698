import Foundation
import ProxyEngine

/// One query the dashboard knows about, from the moment it was sent upstream until its result (if any) arrives.
public struct QueryEntry: Sendable, Equatable {
    /// How the query ended, as far as the dashboard knows. Indirect: a result is a large value, and the history
    /// moves entries around (appends, updates, copies for the frozen view); boxed it moves as one reference.
    public indirect enum Outcome: Sendable, Equatable {
        case running
        case finished(RecordedResult)
        /// The result never reached the dashboard (its event was dropped, or the session ended first).
        case unknown
    }

    /// The dashboard's own number for the entry, increasing; stable while the entry is in the history.
    public var seq: Int
    public var sessionID: String
    /// The short session number shown as `#n`.
    public var sessionNumber: Int
    public var pseudoUser: String
    public var realUser: String
    public var query: RecordedQuery
    public var startedAt: Date
    public var outcome: Outcome
    /// Roughly the memory the result's values take (see `DashboardModel.approximateBytes`).
    public var resultBytes: Int
    /// True when the result's rows were let go to stay within the memory limit (the summary remains).
    public var rowsReleased: Bool
    /// Whether the entry passes the current filter and session choice (kept up to date by the reducer).
    public var isVisible: Bool

    public init(
        seq: Int, sessionID: String, sessionNumber: Int, pseudoUser: String, realUser: String, query: RecordedQuery,
        startedAt: Date, outcome: Outcome, resultBytes: Int,
        rowsReleased: Bool, isVisible: Bool
    ) {
        self.seq = seq
        self.sessionID = sessionID
        self.sessionNumber = sessionNumber
        self.pseudoUser = pseudoUser
        self.realUser = realUser
        self.query = query
        self.startedAt = startedAt
        self.outcome = outcome
        self.resultBytes = resultBytes
        self.rowsReleased = rowsReleased
        self.isVisible = isVisible
    }

    public var result: RecordedResult? {
        if case .finished(let result) = self.outcome { return result }
        return nil
    }
}

/// The last `capacity` queries, oldest first, addressed by `seq`. A ring: appending to a full history drops the
/// oldest entry in O(1), so memory stays flat however many queries go by.
public struct QueryHistory: Sendable, Equatable {
    public let capacity: Int
    private var storage: [QueryEntry] = []
    /// Index in `storage` of the oldest entry once the ring is full.
    private var head = 0
    /// The seq of the oldest entry kept, and the seq the next entry gets.
    public private(set) var firstSeq = 1
    public private(set) var nextSeq = 1
    /// How many entries are visible, kept up to date by every change (the pane title shows it every frame).
    public private(set) var visibleCount = 0

    public init(capacity: Int) {
        self.capacity = max(capacity, 1)
        self.storage.reserveCapacity(min(self.capacity, 1024))
    }

    public var count: Int { self.storage.count }
    public var isEmpty: Bool { self.storage.isEmpty }

    public func contains(_ seq: Int) -> Bool {
        seq >= self.firstSeq && seq < self.nextSeq
    }

    public subscript(seq: Int) -> QueryEntry? {
        guard self.contains(seq) else { return nil }
        return self.storage[self.index(of: seq)]
    }

    /// Appends an entry, giving it the next seq; returns the entry that fell out, if the ring was full.
    @discardableResult
    public mutating func append(_ entry: QueryEntry) -> QueryEntry? {
        var entry = entry
        entry.seq = self.nextSeq
        self.nextSeq += 1
        if entry.isVisible { self.visibleCount += 1 }
        if self.storage.count < self.capacity {
            self.storage.append(entry)
            return nil
        }
        let evicted = self.storage[self.head]
        if evicted.isVisible { self.visibleCount -= 1 }
        self.storage[self.head] = entry
        self.head = (self.head + 1) % self.capacity
        self.firstSeq += 1
        return evicted
    }

    /// Changes the entry with `seq` in place; does nothing if it already left the history.
    public mutating func update(_ seq: Int, _ body: (inout QueryEntry) -> Void) {
        guard self.contains(seq) else { return }
        let index = self.index(of: seq)
        let wasVisible = self.storage[index].isVisible
        body(&self.storage[index])
        if self.storage[index].isVisible != wasVisible { self.visibleCount += wasVisible ? -1 : 1 }
    }

    /// Changes every entry in place (e.g. a new filter).
    public mutating func updateAll(_ body: (inout QueryEntry) -> Void) {
        var visible = 0
        for index in self.storage.indices {
            body(&self.storage[index])
            if self.storage[index].isVisible { visible += 1 }
        }
        self.visibleCount = visible
    }

    /// The nearest visible entry after `seq` (or the first visible one when `seq` is nil).
    public func visible(after seq: Int?) -> Int? {
        var candidate = max((seq ?? (self.firstSeq - 1)) + 1, self.firstSeq)
        while candidate < self.nextSeq {
            if self.storage[self.index(of: candidate)].isVisible { return candidate }
            candidate += 1
        }
        return nil
    }

    /// The nearest visible entry before `seq` (or the newest visible one when `seq` is nil).
    public func visible(before seq: Int?) -> Int? {
        var candidate = min((seq ?? self.nextSeq) - 1, self.nextSeq - 1)
        while candidate >= self.firstSeq {
            if self.storage[self.index(of: candidate)].isVisible { return candidate }
            candidate -= 1
        }
        return nil
    }

    /// Moves `steps` visible entries from `seq` (negative: towards older ones), stopping at either end.
    public func visible(from seq: Int, moving steps: Int) -> Int {
        var current = seq
        if steps > 0 {
            for _ in 0..<steps {
                guard let next = self.visible(after: current) else { break }
                current = next
            }
        } else {
            for _ in 0..<(-steps) {
                guard let previous = self.visible(before: current) else { break }
                current = previous
            }
        }
        return current
    }

    private func index(of seq: Int) -> Int {
        let offset = seq - self.firstSeq
        return self.storage.count < self.capacity ? offset : (self.head + offset) % self.capacity
    }
}

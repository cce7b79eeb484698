import Foundation
import ProxyEngine
import Replay

/// How a query of the step-through replay stands, as its status column shows it.
public enum ReplayRowStatus: Sendable, Equatable, CaseIterable {
    /// Not replayed yet (`·`; `▶` on the next one).
    case pending
    /// Replayed, equal to the recording (`✓`), or left out as recorded.
    case matched
    /// Replayed and different from the recording (`✗`).
    case mismatched
    /// The replay failed where the recording did not, or the step could not run at all (`!`).
    case error
    /// Not executed: skipped with `s`, or not replayable (`⊘`).
    case skipped
    /// Replayed, but the file holds no result to compare with (`?`, a file cut off).
    case notCompared

    public var symbol: String {
        switch self {
        case .pending: return "·"
        case .matched: return "✓"
        case .mismatched: return "✗"
        case .error: return "!"
        case .skipped: return "⊘"
        case .notCompared: return "?"
        }
    }

    public var label: String {
        switch self {
        case .pending: return "pending"
        case .matched: return "matched"
        case .mismatched: return "mismatched"
        case .error: return "error"
        case .skipped: return "skipped"
        case .notCompared: return "not compared"
        }
    }

    var style: CellStyle {
        switch self {
        case .pending, .skipped: return .dim
        case .matched: return .success
        case .mismatched, .error: return .failure
        case .notCompared: return .running
        }
    }
}

/// One recorded query in the replay view: the recording, and what replaying it gave so far.
public struct ReplayRow: Sendable, Equatable {
    /// Its position in `ReplayScript.items` (what `QueryStep.index` names).
    public var itemIndex: Int
    /// 1-based position of the query event in the file.
    public var eventNumber: Int
    public var timestamp: Date
    public var query: RecordedQuery
    /// nil when the file holds no result for this query.
    public var recorded: RecordedResult?
    /// The replay's verdict, once it ran (or was skipped).
    public var step: QueryStep?
    /// Which cells differ, per result set (`CellDifferences.marks(of:options:)`), once it ran.
    public var marks: [CellDifferences] = []
    /// Why the step could not run (the connection broke); it can be tried again.
    public var failure: String?
    /// Running stops before this query.
    public var breakpoint = false

    public init(
        itemIndex: Int, eventNumber: Int, timestamp: Date, query: RecordedQuery, recorded: RecordedResult?,
        step: QueryStep? = nil, failure: String? = nil, breakpoint: Bool = false
    ) {
        self.itemIndex = itemIndex
        self.eventNumber = eventNumber
        self.timestamp = timestamp
        self.query = query
        self.recorded = recorded
        self.step = step
        self.failure = failure
        self.breakpoint = breakpoint
    }

    public var status: ReplayRowStatus {
        guard let step = self.step else { return self.failure != nil ? .error : .pending }
        switch step.status {
        case .matched: return .matched
        case .mismatched: return step.unexpectedError ? .error : .mismatched
        case .executed: return step.unexpectedError ? .error : .notCompared
        case .skipped: return .skipped
        }
    }
}

/// How many queries stand where: the status bar's counts.
public struct ReplayStatusCounts: Sendable, Equatable {
    public private(set) var counts: [ReplayRowStatus: Int] = [:]

    public init() {}

    public subscript(status: ReplayRowStatus) -> Int {
        self.counts[status] ?? 0
    }

    mutating func add(_ status: ReplayRowStatus, _ delta: Int = 1) {
        self.counts[status, default: 0] += delta
    }

    mutating func move(from old: ReplayRowStatus, to new: ReplayRowStatus) {
        guard old != new else { return }
        self.add(old, -1)
        self.add(new, 1)
    }
}

import Foundation
import ProxyEngine

/// One step of a replay: an event of the session file and what replaying it gave.
public enum ReplayStep: Sendable, Equatable {
    /// A session_activity event: nothing is sent, it is shown.
    case activity(ReplayScript.ActivityItem)
    /// A query, replayed (or not) and compared.
    case query(QueryStep)

    public var eventNumber: Int {
        switch self {
        case .activity(let item): return item.eventNumber
        case .query(let step): return step.eventNumber
        }
    }
}

/// How a replayed query turned out.
public enum QueryStatus: String, Sendable, Equatable, Codable {
    /// Executed (or, for a recorded "not executed" pipeline query, left out as the server did) and equal to the
    /// recording.
    case matched
    /// Executed and different from the recording; `QueryStep.difference` says how.
    case mismatched
    /// Executed with nothing to compare: the file holds no result for it (cut off).
    case executed
    /// Not executed: skipped by the user, not replayable (COPY data truncated), or refused by a safety mode.
    case skipped
}

/// A replayed query: the recording, the replay, and the verdict.
public struct QueryStep: Sendable, Equatable {
    /// Position in the script (0-based), for `ReplaySession`'s bookkeeping.
    public var index: Int
    /// 1-based position of the query event in the file.
    public var eventNumber: Int
    /// When the query was recorded.
    public var timestamp: Date
    public var query: RecordedQuery
    /// nil when the file holds no result for this query.
    public var recorded: RecordedResult?
    /// nil when the query was not executed.
    public var replayed: RecordedResult?
    /// True when the query was sent to the target.
    public var executed: Bool { self.replayed != nil }
    public var status: QueryStatus
    /// For `.mismatched`: the first difference.
    public var difference: ResultDifference?
    /// For `.mismatched` with ordered rows: how many of the compared rows differ.
    public var differingRows: Int
    /// For `.skipped`: why.
    public var skipReason: String?
    /// What was special about this query's replay or comparison (emulated COMMIT, rows not compared ...).
    public var notes: [String]
    /// Set when the replay was slower than the recording by more than the latency rule allows.
    public var latencyRegression: LatencyRegression?
    /// `--id-mode map`: the learned ids put into this query before it was sent.
    public var substitutions: [IDMap.Substitution] = []
    /// `--id-mode map`: the ids this query's answer taught (recorded → replayed).
    public var learnedIDs: [IDMap.Substitution] = []

    public init(
        index: Int, eventNumber: Int, timestamp: Date, query: RecordedQuery, recorded: RecordedResult?,
        replayed: RecordedResult?, status: QueryStatus, difference: ResultDifference? = nil, differingRows: Int = 0,
        skipReason: String? = nil, notes: [String] = []
    ) {
        self.index = index
        self.eventNumber = eventNumber
        self.timestamp = timestamp
        self.query = query
        self.recorded = recorded
        self.replayed = replayed
        self.status = status
        self.difference = difference
        self.differingRows = differingRows
        self.skipReason = skipReason
        self.notes = notes
    }

    /// The replay failed (ErrorResponse).
    public var failed: Bool { self.executed && self.replayed?.error != nil }

    /// A failure the recording did not have: the recording succeeded, or there is no recording to tell.
    public var unexpectedError: Bool {
        guard self.failed else { return false }
        guard let recorded = self.recorded else { return true }
        return recorded.error == nil
    }
}

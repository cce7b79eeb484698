import Foundation
import ProxyEngine

/// A session file as a replay walks through it: its activities and its queries, each query paired with its
/// recorded result.
///
/// Results are paired by query number, not by position: in a pipeline several queries are sent before the first
/// result comes back, so a file may hold query 1, query 2, result 1, result 2. A query whose result is missing
/// (the recording was cut off) is still replayed, with nothing to compare it with.
public struct ReplayScript: Sendable, Equatable {
    public enum Item: Sendable, Equatable {
        case activity(ActivityItem)
        case query(QueryItem)

        /// When the recording saw it happen.
        public var timestamp: Date {
            switch self {
            case .activity(let item): return item.timestamp
            case .query(let item): return item.timestamp
            }
        }

        /// 1-based position of the event in the file.
        public var eventNumber: Int {
            switch self {
            case .activity(let item): return item.eventNumber
            case .query(let item): return item.eventNumber
            }
        }
    }

    public struct ActivityItem: Sendable, Equatable {
        public var eventNumber: Int
        public var timestamp: Date
        public var activity: SessionActivity
    }

    public struct QueryItem: Sendable, Equatable {
        public var eventNumber: Int
        public var timestamp: Date
        public var query: RecordedQuery
        /// nil when the file holds no result for this query (cut off before it was written).
        public var recorded: RecordedResult?
    }

    public var items: [Item]
    /// How many events the file holds (query results included).
    public var eventCount: Int
    /// The `connection` activity's details: where and as whom the session ran.
    public var connection: ActivityDetails?
    /// The `session_start` activity's details.
    public var sessionStart: ActivityDetails?

    public init(events: [SessionEvent]) {
        var items: [Item] = []
        // Query numbers whose item still waits for its result, oldest first, by number.
        var unpaired: [Int: [Int]] = [:]
        var connection: ActivityDetails?
        var sessionStart: ActivityDetails?
        for (index, event) in events.enumerated() {
            switch event.payload {
            case .activity(let activity):
                if activity.activity == SessionActivity.connection, connection == nil {
                    connection = activity.details
                }
                if activity.activity == SessionActivity.sessionStart, sessionStart == nil {
                    sessionStart = activity.details
                }
                items.append(
                    .activity(ActivityItem(eventNumber: index + 1, timestamp: event.timestamp, activity: activity)))
            case .query(let query):
                unpaired[query.queryNumber, default: []].append(items.count)
                items.append(
                    .query(QueryItem(eventNumber: index + 1, timestamp: event.timestamp, query: query, recorded: nil)))
            case .result(let result):
                guard var waiting = unpaired[result.queryNumber], !waiting.isEmpty else { continue }
                let position = waiting.removeFirst()
                unpaired[result.queryNumber] = waiting
                if case .query(var item) = items[position] {
                    item.recorded = result
                    items[position] = .query(item)
                }
            }
        }
        self.items = items
        self.eventCount = events.count
        self.connection = connection
        self.sessionStart = sessionStart
    }

    /// The number of queries to replay.
    public var queryCount: Int {
        self.items.reduce(0) { count, item in
            if case .query = item { return count + 1 }
            return count
        }
    }

    /// A summary of nothing replayed yet: only the number of queries.
    public var emptySummary: ReplaySummary {
        var summary = ReplaySummary()
        summary.queries = self.queryCount
        return summary
    }

    /// The time of the first event, the origin of `--realtime` pacing.
    public var firstTimestamp: Date? { self.items.first?.timestamp }
}

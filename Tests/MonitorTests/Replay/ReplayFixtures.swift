import Foundation
import Monitor
import ProxyEngine
import Replay
import Testing

/// A recorded session for the replay view's tests, and a stand-in for the replay session that answers its commands
/// with results given by the test (the comparison itself is the real `ResultComparison`).
enum ReplayFixtures {
    static let path = "sessions/pseudo_user_2025-10-07_21-30-15.json"
    static let target = "postgres://postgres:***@127.0.0.1:5432/postgres"

    static let countRows = RecordedResultSet(
        columns: ["count"], columnTypes: [20], rows: [["3"]], rowCount: 1, commandTag: "SELECT 1")
    static let tableRows = RecordedResultSet(
        columns: ["id", "name", "value", "created_at"], columnTypes: [23, 25, 23, 1114],
        rows: [
            ["1", "test1", "150", "2025-10-07 22:42:12.977496"], ["2", "test2", "200", "2025-10-07 22:42:12.977496"],
            ["3", "test3", "300", "2025-10-07 22:42:12.977496"],
        ], rowCount: 3, commandTag: "SELECT 3")
    static let missingTable = RecordedError(
        severity: "ERROR", code: "42P01", message: "relation \"nope\" does not exist", position: "15")

    /// The five queries: a count, an UPDATE, the table, a recorded error, one value.
    static let queries: [(sql: String, result: RecordedResult)] = [
        ("SELECT count(*) FROM test_data;", RecordedResult(queryNumber: 1, result: countRows, durationMS: 0.41)),
        (
            "UPDATE test_data SET value = value WHERE id = 3;",
            RecordedResult(queryNumber: 2, result: RecordedResultSet(commandTag: "UPDATE 1"), durationMS: 1.2)
        ),
        ("SELECT * FROM test_data ORDER BY id;", RecordedResult(queryNumber: 3, result: tableRows, durationMS: 0.52)),
        ("SELECT * FROM nope;", RecordedResult(queryNumber: 4, error: missingTable, durationMS: 0.2)),
        (
            "SELECT value FROM test_data WHERE id = 1;",
            RecordedResult(
                queryNumber: 5,
                result: RecordedResultSet(
                    columns: ["value"], columnTypes: [23], rows: [["150"]], rowCount: 1, commandTag: "SELECT 1"),
                durationMS: 0.3)
        ),
    ]

    static func events(queries: [(sql: String, result: RecordedResult)] = Self.queries) -> [SessionEvent] {
        var time = EventScript.start
        func at(_ seconds: TimeInterval) -> Date {
            time = time.addingTimeInterval(seconds)
            return time
        }
        var events = [
            SessionEvent(
                timestamp: time,
                payload: .activity(
                    SessionActivity(
                        activity: SessionActivity.sessionStart,
                        details: ActivityDetails(sessionID: "session_1", pseudoUser: "pseudo_user", startTime: time)))),
            SessionEvent(
                timestamp: at(0.01),
                payload: .activity(
                    SessionActivity(
                        activity: SessionActivity.connection,
                        details: ActivityDetails(
                            pseudoUser: "pseudo_user", realUser: "postgres", database: "postgres",
                            realDBHost: "127.0.0.1", realDBPort: "5432")))),
        ]
        for (index, query) in queries.enumerated() {
            events.append(
                SessionEvent(
                    timestamp: at(0.5), payload: .query(RecordedQuery(queryNumber: index + 1, sql: query.sql))))
            events.append(SessionEvent(timestamp: at(0.001), payload: .result(query.result)))
        }
        events.append(
            SessionEvent(
                timestamp: at(1),
                payload: .activity(
                    SessionActivity(activity: SessionActivity.sessionEnd, details: ActivityDetails(queryCount: 5)))))
        return events
    }

    static func setup(
        queries: [(sql: String, result: RecordedResult)] = Self.queries, cut: String? = nil,
        safety: ReplayOptions.Safety = .none, comparison: ComparisonOptions = ComparisonOptions()
    ) -> ReplayViewState.Setup {
        ReplayViewState.Setup(
            path: Self.path, script: ReplayScript(events: Self.events(queries: queries)), cut: cut,
            target: Self.target, targetSource: "the recorded connection", safety: safety, comparison: comparison,
            openedAt: EventScript.start.addingTimeInterval(60))
    }

    /// A replay view opened and connected.
    static func connectedState(
        size: ScreenSize = .minimum, queries: [(sql: String, result: RecordedResult)] = Self.queries
    ) -> ReplayViewState {
        var state = ReplayViewState(setup: Self.setup(queries: queries), size: size)
        _ = state.apply(.connected)
        return state
    }

    /// What the target answers: the recording, except query 3's row 2 (the value changed to 151).
    static func changedRow(_ row: ReplayRow) -> RecordedResult {
        var result = row.recorded ?? RecordedResult(queryNumber: row.query.queryNumber)
        if row.query.queryNumber == 3 {
            result.result.rows[1][2] = "151"
        }
        result.durationMS = 0.38
        return result
    }

    /// The step a replay session returns for `row` when the target answers `replayed` (nil: skipped).
    static func step(
        for row: ReplayRow, replayed: RecordedResult?, options: ComparisonOptions = ComparisonOptions()
    ) -> QueryStep {
        guard let replayed else {
            return QueryStep(
                index: row.itemIndex, eventNumber: row.eventNumber, timestamp: row.timestamp, query: row.query,
                recorded: row.recorded, replayed: nil, status: .skipped, skipReason: "skipped by the user")
        }
        var step = QueryStep(
            index: row.itemIndex, eventNumber: row.eventNumber, timestamp: row.timestamp, query: row.query,
            recorded: row.recorded, replayed: replayed, status: .executed)
        if let recorded = row.recorded {
            let outcome = ResultComparison.compare(recorded: recorded, replayed: replayed, options: options)
            step.status = outcome.matches ? .matched : .mismatched
            step.difference = outcome.difference
            step.differingRows = outcome.differingRows
            step.notes = outcome.notes
            // As the real session judges it (the view never sends ahead).
            step.latencyRegression = LatencyRule().regression(
                recordedMS: recorded.durationMS, replayedMS: replayed.durationMS)
        }
        return step
    }
}

/// Plays the replay session for a view: carries out its commands at once, answering each step with `answer`.
struct FakeReplaySession {
    var answer: (ReplayRow) -> RecordedResult? = ReplayFixtures.changedRow
    /// Commands carried out, in order.
    var log: [ReplayViewCommand] = []
    /// Where the fake session stands: the next row it executes.
    var position = 0

    /// Presses `key` and carries out what it asks, and what follows from that, until nothing is left.
    mutating func press(_ key: ViewKey, on state: inout ReplayViewState) {
        self.run(state.handle(key), on: &state)
    }

    mutating func run(_ commands: [ReplayViewCommand], on state: inout ReplayViewState) {
        var queue = commands
        while !queue.isEmpty {
            let command = queue.removeFirst()
            self.log.append(command)
            queue += state.apply(self.event(for: command, state: state))
            if case .setSafety = command {
                // The driver reconnects in the new mode.
                queue += state.apply(.connected)
            }
        }
    }

    /// The one event a command gives, without carrying out what follows (to act between steps).
    mutating func event(for command: ReplayViewCommand, state: ReplayViewState) -> ReplayViewEvent {
        switch command {
        case .connect:
            return .connected
        case .step, .skip:
            guard self.position < state.rows.count else { return .reachedEnd }
            let row = state.rows[self.position]
            self.position += 1
            let replayed = command == .step ? self.answer(row) : nil
            let step = ReplayFixtures.step(for: row, replayed: replayed, options: state.comparison)
            return .stepped(
                step, elapsedMS: 0.5, marks: CellDifferences.marks(of: step, options: state.comparison))
        case .restart:
            self.position = 0
            return .restarted(at: EventScript.start.addingTimeInterval(120))
        case .setSafety(let safety):
            return .safetyChanged(safety)
        case .writeReport(let path, _):
            return .reportWritten(path: path)
        case .close:
            return .closed
        case .cancel:
            // Steps here end as soon as they start: there is never one left to cancel.
            return .cancelFailed
        }
    }
}

extension ReplayViewState {
    var screen: ScreenBuffer { ReplayViewRenderer.render(self, size: self.size) }

    mutating func press(_ keys: ViewKey...) {
        for key in keys { _ = self.handle(key) }
    }
}

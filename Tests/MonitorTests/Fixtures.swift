import Foundation
import Monitor
import ProxyEngine
import Testing

/// Builds proxy events the way the engine publishes them, on a fixed clock, so tests are deterministic.
struct EventScript {
    /// 2025-10-07 21:30:15.123 UTC, the seed's example time.
    static let start = Date(timeIntervalSince1970: 1_759_872_615.123)
    var time = EventScript.start

    mutating func advance(_ seconds: TimeInterval) {
        self.time = self.time.addingTimeInterval(seconds)
    }

    func event(_ session: String, _ kind: ProxyEvent.Kind) -> ProxyEvent {
        ProxyEvent(sessionID: session, time: self.time, kind: kind)
    }

    /// connectionOpened, authenticating, connected, session_start, idle.
    mutating func connect(
        _ session: String, user: String = "pseudo_user", realUser: String = "postgres", port: Int = 53422
    ) -> [ProxyEvent] {
        let address = "127.0.0.1:\(port)"
        let info = ProxyEvent.ConnectedInfo(
            pseudoUser: user, realUser: realUser, database: "postgres", upstreamHost: "127.0.0.1",
            upstreamPort: 5432, clientAddress: address, backendProcessID: 4242)
        let start = SessionEvent(
            timestamp: self.time,
            payload: .activity(
                SessionActivity(
                    activity: SessionActivity.sessionStart,
                    details: ActivityDetails(sessionID: session, pseudoUser: user, applicationName: "psql"))))
        return [
            self.event(session, .connectionOpened(clientAddress: address)),
            self.event(session, .authenticating(pseudoUser: user, database: "postgres")),
            self.event(session, .connected(info)),
            self.event(session, .recorded(start)),
            self.event(session, .transactionState(.idle)),
        ]
    }

    func query(_ session: String, _ number: Int, _ sql: String) -> ProxyEvent {
        let query = RecordedQuery(queryNumber: number, sql: sql)
        return self.event(session, .recorded(SessionEvent(timestamp: self.time, payload: .query(query))))
    }

    func result(_ session: String, _ result: RecordedResult) -> ProxyEvent {
        self.event(session, .recorded(SessionEvent(timestamp: self.time, payload: .result(result))))
    }

    /// A query, its result 'duration' later, and ReadyForQuery.
    mutating func run(
        _ session: String, _ number: Int, _ sql: String, result: RecordedResultSet = RecordedResultSet(),
        error: RecordedError? = nil, duration: Double = 0.42, transaction: TransactionState = .idle
    ) -> [ProxyEvent] {
        let query = self.query(session, number, sql)
        self.advance(duration / 1000)
        let done = self.result(
            session, RecordedResult(queryNumber: number, result: result, error: error, durationMS: duration))
        self.advance(0.5)
        return [query, done, self.event(session, .transactionState(transaction))]
    }

    mutating func close(_ session: String) -> ProxyEvent {
        self.event(session, .connectionClosed(reason: "client disconnected"))
    }

    /// The seed's five queries in session `s1`, each half a second apart.
    mutating func seedSession(_ session: String = "session_1795912708134905346") -> [ProxyEvent] {
        var events = self.connect(session)
        events += self.run(session, 1, "SELECT * FROM test_data;", result: Self.seedRows, duration: 0.4)
        events += self.run(
            session, 2, "INSERT INTO test_data (name, value) VALUES ('new_record', 999);",
            result: RecordedResultSet(commandTag: "INSERT 0 1"), duration: 1.8)
        events += self.run(
            session, 3, "UPDATE test_data SET value = 1000 WHERE name = 'new_record';",
            result: RecordedResultSet(commandTag: "UPDATE 1"), duration: 1.2)
        events += self.run(
            session, 4, "SELECT * FROM test_data WHERE value > 500;",
            result: RecordedResultSet(
                columns: ["id", "name", "value", "created_at"], columnTypes: [23, 25, 23, 1114],
                rows: [["4", "new_record", "1000", "2025-10-07 21:30:16.101"]], rowCount: 1, commandTag: "SELECT 1"),
            duration: 0.35)
        events += self.run(
            session, 5, "DELETE FROM test_data WHERE name = 'new_record';",
            result: RecordedResultSet(commandTag: "DELETE 1"), duration: 0.9)
        return events
    }

    static let seedRows = RecordedResultSet(
        columns: ["id", "name", "value", "created_at"], columnTypes: [23, 25, 23, 1114],
        rows: [
            ["1", "test1", "150", "2025-10-07 22:42:12.977496"],
            ["2", "test2", "200", "2025-10-07 22:42:12.977496"],
            ["3", "test3", "300", "2025-10-07 22:42:12.977496"],
        ], rowCount: 3, commandTag: "SELECT 3")
}

extension DashboardState {
    static func make(
        size: ScreenSize = .minimum, historyLimit: Int = 10_000, resultMemoryLimit: Int = 64 << 20,
        warnings: [String] = []
    ) -> DashboardState {
        let settings = DashboardSettings(
            listenAddress: "127.0.0.1:5433", maskedUpstreams: ["postgres://postgres:***@127.0.0.1:5432/postgres"],
            sessionsDirectory: "./sessions", historyLimit: historyLimit, resultMemoryLimit: resultMemoryLimit,
            connectHint: "psql -h 127.0.0.1 -p 5433 -U pseudo_user -d postgres", warnings: warnings)
        return DashboardState(settings: settings, now: EventScript.start, size: size)
    }

    mutating func press(_ keys: ViewKey...) {
        for key in keys { self.handle(key) }
    }

    mutating func type(_ text: String) {
        for character in text { self.handle(.character(character)) }
    }

    var screen: ScreenBuffer { DashboardRenderer.render(self, size: self.size) }
}

/// Compares a rendered screen with its expected text, line by line, with a readable difference.
func expectScreen(
    _ screen: ScreenBuffer, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    let actual = screen.text
    func lines(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            var line = String($0)
            while line.last == " " { line.removeLast() }
            return line
        }
        while lines.last == "" { lines.removeLast() }
        return lines
    }
    let expectedLines = lines(expected)
    let actualLines = lines(actual)
    guard actualLines != expectedLines else { return }
    var report = ["screen differs (- expected, + actual):"]
    for index in 0..<max(actualLines.count, expectedLines.count) {
        let want = index < expectedLines.count ? expectedLines[index] : "<none>"
        let got = index < actualLines.count ? actualLines[index] : "<none>"
        if want != got {
            report.append(String(format: "%2d - ", index) + want)
            report.append(String(format: "%2d + ", index) + got)
        }
    }
    report.append("actual screen:\n" + actual)
    Issue.record(Comment(rawValue: report.joined(separator: "\n")), sourceLocation: sourceLocation)
}

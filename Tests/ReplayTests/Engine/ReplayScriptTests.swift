import Foundation
import ProxyEngine
import Testing

@testable import Replay

/// Turning a session file into replay steps, and choosing the target.
@Suite struct ReplayScriptTests {
    static let start = Date(timeIntervalSince1970: 1_759_872_615)

    static func event(_ seconds: Double, _ payload: SessionEvent.Payload) -> SessionEvent {
        SessionEvent(timestamp: Self.start.addingTimeInterval(seconds), payload: payload)
    }

    static let connection = ActivityDetails(
        pseudoUser: "pseudo_user", realUser: "postgres", database: "shop", realDBHost: "db.internal",
        realDBPort: "6543")

    static let events: [SessionEvent] = [
        event(
            0,
            .activity(SessionActivity(activity: "session_start", details: ActivityDetails(applicationName: "psql")))
        ),
        event(0, .activity(SessionActivity(activity: "connection", details: connection))),
        // A pipeline: two queries before their results, which come back in order.
        event(1, .query(RecordedQuery(queryNumber: 1, sql: "SELECT 1"))),
        event(1, .query(RecordedQuery(queryNumber: 2, sql: "SELECT 2"))),
        event(2, .result(RecordedResult(queryNumber: 1, result: RecordedResultSet(commandTag: "SELECT 1")))),
        event(2, .result(RecordedResult(queryNumber: 2, result: RecordedResultSet(commandTag: "SELECT 2")))),
        // Cut off before its result.
        event(3, .query(RecordedQuery(queryNumber: 3, sql: "SELECT 3"))),
    ]

    @Test func queriesArePairedWithTheirResultsByNumber() {
        let script = ReplayScript(events: Self.events)
        #expect(script.eventCount == 7)
        #expect(script.queryCount == 3)
        #expect(script.items.map(\.eventNumber) == [1, 2, 3, 4, 7])
        let queries = script.items.compactMap { item -> ReplayScript.QueryItem? in
            if case .query(let query) = item { return query }
            return nil
        }
        #expect(queries.map { $0.recorded?.result.commandTag } == ["SELECT 1", "SELECT 2", nil])
        #expect(script.connection == Self.connection)
        #expect(script.sessionStart?.applicationName == "psql")
        #expect(script.firstTimestamp == Self.start)
    }

    @Test func theTargetIsTheOptionThenTheEnvironmentThenTheRecording() throws {
        let script = ReplayScript(events: Self.events)
        let environment = ["DATABASE_URL": "postgres://env@envhost:5444/envdb", "PGPASSWORD": "from-env"]
        let option = try ReplayTarget.resolve(
            dbURL: "postgres://u:secret@h:5555/d", environment: environment, script: script, path: "f.json",
            safety: .none)
        #expect(option.source == .option)
        #expect(option.masked == "postgres://u:***@h:5555/d")
        #expect(option.upstream.password == "secret")

        let fromEnvironment = try ReplayTarget.resolve(
            dbURL: nil, environment: environment, script: script, path: "f.json", safety: .none)
        #expect(fromEnvironment.source == .environment)
        #expect(fromEnvironment.upstream.host == "envhost")
        #expect(fromEnvironment.upstream.password == "from-env")

        let recorded = try ReplayTarget.resolve(
            dbURL: nil, environment: ["PGPASSWORD": "pw", "DATABASE_URL": ""], script: script, path: "f.json",
            safety: .readOnly)
        #expect(recorded.source == .recording)
        #expect(recorded.masked == "postgres://postgres:***@db.internal:6543/shop")
        #expect(recorded.upstream.password == "pw")
        let parameters = Dictionary(recorded.upstream.parameters, uniquingKeysWith: { first, _ in first })
        #expect(parameters["default_transaction_read_only"] == "on")
        #expect(parameters["application_name"] == "psql")
        #expect(parameters["client_encoding"] == "UTF8")
    }

    @Test func aFileWithoutConnectionNeedsATarget() {
        let script = ReplayScript(events: [Self.events[2]])
        #expect(throws: ReplayError.noTarget(path: "x.json")) {
            try ReplayTarget.resolve(dbURL: nil, environment: [:], script: script, path: "x.json", safety: .none)
        }
        #expect(ReplayError.noTarget(path: "x.json").preventedReplay)
        do {
            _ = try ReplayTarget.resolve(
                dbURL: "mysql://u:hunter2@h/d", environment: [:], script: script, path: "x.json", safety: .none)
            Issue.record("an invalid URL must be refused")
        } catch {
            #expect(!error.description.contains("hunter2"))
            #expect(error.description.hasPrefix("--db-url: "))
        }
    }
}

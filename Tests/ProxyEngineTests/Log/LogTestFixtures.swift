import Foundation

@testable import ProxyEngine

/// The seed's five-query session (EXAMPLE_WORKFLOW.txt, steps 2 and 3) as the engine publishes it.
enum SeedSession {
    static let sessionID = "session_xxx"
    /// 2025-10-07T21:30:15.123Z
    static let start = Date(timeIntervalSince1970: 1_759_872_615.123)

    static func at(_ seconds: Double) -> Date {
        self.start.addingTimeInterval(seconds)
    }

    static func event(_ kind: ProxyEvent.Kind, at seconds: Double = 0) -> ProxyEvent {
        ProxyEvent(sessionID: self.sessionID, time: self.at(seconds), kind: kind)
    }

    static func recorded(_ payload: SessionEvent.Payload, at seconds: Double) -> ProxyEvent {
        self.event(.recorded(SessionEvent(timestamp: self.at(seconds), payload: payload)), at: seconds)
    }

    static let createdAt = "2025-10-07 22:42:12.977496"

    static func query(_ number: Int, _ sql: String, at seconds: Double) -> [ProxyEvent] {
        let query = RecordedQuery(queryNumber: number, sql: sql)
        return [self.recorded(.query(query), at: seconds)]
    }

    static func result(
        _ number: Int, columns: [String] = [], rows: [[String?]] = [], tag: String, durationMS: Double,
        at seconds: Double
    ) -> ProxyEvent {
        let set = RecordedResultSet(
            columns: columns, columnTypes: columns.map { _ in 25 }, rows: rows, rowCount: rows.count, commandTag: tag
        )
        return self.recorded(
            .result(RecordedResult(queryNumber: number, result: set, durationMS: durationMS)), at: seconds)
    }

    static var events: [ProxyEvent] {
        let columns = ["id", "name", "value", "created_at"]
        let connected = ProxyEvent.ConnectedInfo(
            pseudoUser: "pseudo_user", realUser: "postgres", database: "postgres", upstreamHost: "localhost",
            upstreamPort: 5432, clientAddress: "127.0.0.1:52144", backendProcessID: 4242
        )
        var events: [ProxyEvent] = [
            self.event(.connectionOpened(clientAddress: "127.0.0.1:52144")),
            self.event(.authenticating(pseudoUser: "pseudo_user", database: "postgres")),
            self.recorded(
                .activity(
                    SessionActivity(
                        activity: SessionActivity.sessionStart,
                        details: ActivityDetails(
                            sessionID: self.sessionID, pseudoUser: "pseudo_user", startTime: self.start)
                    )
                ),
                at: 0
            ),
            self.event(.connected(connected)),
            self.recorded(
                .activity(
                    SessionActivity(
                        activity: SessionActivity.connection,
                        details: ActivityDetails(
                            pseudoUser: "pseudo_user", realUser: "postgres", database: "postgres",
                            realDBHost: "localhost", realDBPort: "5432"
                        )
                    )
                ),
                at: 0
            ),
            self.event(.recordingStarted(path: "sessions/pseudo_user_2025-10-07_21-30-15.json")),
            self.event(.transactionState(.idle)),
        ]
        events += self.query(1, "SELECT * FROM test_data;", at: 0)
        events.append(
            self.result(
                1, columns: columns,
                rows: [
                    ["1", "test1", "150", self.createdAt], ["2", "test2", "200", self.createdAt],
                    ["3", "test3", "300", self.createdAt],
                ],
                tag: "SELECT 3", durationMS: 1.234, at: 0.002
            )
        )
        events.append(self.event(.transactionState(.idle), at: 0.002))
        events += self.query(2, "INSERT INTO test_data (name, value) VALUES ('new_record', 999);", at: 7.333)
        events.append(self.result(2, tag: "INSERT 0 1", durationMS: 0.81, at: 7.334))
        events += self.query(3, "UPDATE test_data SET value = 1000 WHERE name = 'new_record';", at: 12.5)
        events.append(self.result(3, tag: "UPDATE 1", durationMS: 0.66, at: 12.501))
        events += self.query(4, "SELECT * FROM test_data WHERE value > 500;", at: 20)
        events.append(
            self.result(
                4, columns: columns, rows: [["4", "new_record", "1000", "2025-10-07 21:30:22.456789"]],
                tag: "SELECT 1", durationMS: 0.5, at: 20.001
            )
        )
        events += self.query(5, "DELETE FROM test_data WHERE name = 'new_record';", at: 31.877)
        events.append(self.result(5, tag: "DELETE 1", durationMS: 1234.5, at: 31.879))
        events.append(self.event(.connectionClosed(reason: "client disconnected"), at: 40))
        return events
    }
}

import Foundation

@testable import ProxyEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Helpers shared by the session file tests.
enum SessionFixtures {
    /// A fresh directory under the system's temporary directory; remove it with `removeDirectory`.
    static func makeTemporaryDirectory() -> String {
        var template = Array((NSTemporaryDirectory() + "/pgreel-session-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func removeDirectory(_ path: String) {
        // Restore write permission first so that read-only test directories can be removed.
        _ = chmod(path, 0o700)
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A timestamp from its text, exactly as the reader makes it.
    static func date(_ text: String) -> Date {
        guard let date = SessionTimestamp.parse(text) else { fatalError("bad test timestamp \(text)") }
        return date
    }

    static let start = Self.date("2025-10-07T21:30:15.123456Z")

    /// One of each kind of event with every field set, and some with the minimum.
    static func everyKindOfEvent() -> [SessionEvent] {
        let time = Self.start
        let sessionStart = SessionEvent(
            timestamp: time,
            payload: .activity(
                SessionActivity(
                    activity: SessionActivity.sessionStart,
                    details: ActivityDetails(
                        sessionID: "session_1759881348861829000", pseudoUser: "pseudo_user", startTime: time,
                        formatVersion: sessionFormatVersion, proxyVersion: "0.1.0", clientAddress: "127.0.0.1:51234",
                        applicationName: "psql"
                    )
                )
            )
        )
        let connection = SessionEvent(
            timestamp: Self.date("2025-10-07T21:30:15.200000Z"),
            payload: .activity(
                SessionActivity(
                    activity: SessionActivity.connection,
                    details: ActivityDetails(
                        pseudoUser: "pseudo_user", realUser: "postgres", database: "postgres",
                        realDBHost: "localhost", realDBPort: "5432"
                    )
                )
            )
        )
        let simpleQuery = SessionEvent(
            timestamp: Self.date("2025-10-07T21:30:16.000001Z"),
            payload: .query(RecordedQuery(queryNumber: 1, sql: "SELECT * FROM test_data;"))
        )
        let simpleResult = SessionEvent(
            timestamp: Self.date("2025-10-07T21:30:16.004321Z"),
            payload: .result(
                RecordedResult(
                    queryNumber: 1,
                    result: RecordedResultSet(
                        columns: ["id", "name", "value", "created_at"], columnTypes: [23, 25, 23, 1114],
                        rows: [
                            ["1", "test1", "150", "2025-10-07 22:42:12.977496"],
                            ["2", "", nil, "2025-10-07 22:42:12.977496"],
                        ],
                        rowCount: 2, commandTag: "SELECT 2"
                    ),
                    durationMS: 4.32
                )
            )
        )
        let extendedQuery = SessionEvent(
            timestamp: Self.date("2025-10-07T21:30:17Z"),
            payload: .query(
                RecordedQuery(
                    queryNumber: 2, sql: "SELECT $1::int, $2::bytea, $3::text", queryProtocol: .extended,
                    statementName: "", portalName: "p1",
                    parameters: [
                        RecordedParameter(value: "42", format: .text),
                        RecordedParameter(value: "AAEC/w==", format: .binary),
                        RecordedParameter(value: nil, format: .text),
                    ],
                    parameterTypes: [23, 0, 4_294_967_295], resultFormats: [0, 1, -1], maxRows: 100, redacted: true
                )
            )
        )
        let failedResult = SessionEvent(
            timestamp: Self.date("2025-10-07T21:30:17.5Z"),
            payload: .result(
                RecordedResult(
                    queryNumber: 2,
                    result: RecordedResultSet(
                        columns: ["a"], columnTypes: [23], rows: [["1"]], rowCount: 5000, commandTag: nil,
                        rowsTruncated: true, rowsDigest: "sha256:" + String(repeating: "ab", count: 32)
                    ),
                    resultSets: [
                        RecordedResultSet(commandTag: "BEGIN"),
                        RecordedResultSet(
                            columns: ["a"], columnTypes: [23], rows: [["1"]], rowCount: 5000, commandTag: nil,
                            rowsTruncated: true, rowsDigest: "sha256:00"
                        ),
                    ],
                    error: RecordedError(
                        severity: "ERROR", code: "42P01", message: "relation \"nope\" does not exist",
                        detail: "some detail", hint: "a hint", position: "15"
                    ),
                    notices: [RecordedError(severity: "NOTICE", code: "00000", message: "hello")],
                    durationMS: 1234.5,
                    copyData: ["1\tone\n", "2\ttwo\n"], copyDataEncoding: .base64, copyDataTruncated: true
                )
            )
        )
        let minimalResult = SessionEvent(
            timestamp: Self.date("2025-10-07T21:30:18Z"),
            payload: .result(RecordedResult(queryNumber: 3, result: RecordedResultSet(commandTag: "INSERT 0 1")))
        )
        let sessionEnd = SessionEvent(
            timestamp: Self.date("2025-10-07T21:31:00.999999Z"),
            payload: .activity(
                SessionActivity(
                    activity: SessionActivity.sessionEnd,
                    details: ActivityDetails(
                        reason: "client disconnected", endTime: Self.date("2025-10-07T21:31:00.999999Z"),
                        durationMS: 45876.543, queryCount: 3
                    )
                )
            )
        )
        return [
            sessionStart, connection, simpleQuery, simpleResult, extendedQuery, failedResult, minimalResult,
            sessionEnd,
        ]
    }

    /// A query event numbered `number`, for bulk tests.
    static func query(_ number: Int, sql: String? = nil) -> SessionEvent {
        SessionEvent(
            timestamp: Self.start.addingTimeInterval(Double(number) / 1000),
            payload: .query(RecordedQuery(queryNumber: number, sql: sql ?? "SELECT \(number)"))
        )
    }

    /// The session file shown in the seed's EXAMPLE_WORKFLOW.txt, completed with its closing `]`
    /// (Tests/Fixtures/seed-example.json, shared with the integration tests).
    static let seedExample = SeedExampleFile.text

    static func write(_ text: String, to path: String) {
        let created = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        precondition(created, "cannot write test file \(path)")
    }

    static func contents(of path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    /// The permission bits of a file or directory.
    static func mode(of path: String) -> mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return info.st_mode & 0o7777
    }
}

/// A value shared with handlers that run on the writer thread.
final class LockedBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) {
        self.stored = value
    }

    var value: Value {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.stored
    }

    func update(_ change: (inout Value) -> Void) {
        self.lock.lock()
        defer { self.lock.unlock() }
        change(&self.stored)
    }
}

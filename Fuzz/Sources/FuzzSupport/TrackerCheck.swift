import Foundation
import NIOCore
import ProxyEngine

/// Drives a `SessionTracker` with a session the fuzzer writes: a sequence of frontend and backend messages, most
/// of them well-formed (built from a few bytes each, with the few statement and portal names that make a pipeline
/// interesting), some raw. The tracker may refuse a malformed message (the relay then closes the session); it
/// must never crash, and what it records must stay consistent:
///
/// - queries are numbered 1, 2, 3 ... in order, and `queryCount` says how many;
/// - every result answers a recorded query, and no query gets two results.
public enum TrackerCheck {
    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        var tracker = SessionTracker(maxRecordedRows: Int(input.byte() % 4))
        var clock: UInt64 = 1_000
        var queries: [Int] = []
        var answered = Set<Int>()
        let now = Date(timeIntervalSince1970: 1_700_000_000)

        func collect() {
            for output in tracker.takeOutputs() {
                switch output {
                case .query(let query, _):
                    require(query.queryNumber == queries.count + 1, "query numbered \(query.queryNumber)")
                    queries.append(query.queryNumber)
                case .result(let result, _):
                    require(queries.contains(result.queryNumber), "result for unknown query \(result.queryNumber)")
                    require(answered.insert(result.queryNumber).inserted, "two results for \(result.queryNumber)")
                    require(result.result.rowCount >= result.result.rows.count, "more rows kept than counted")
                default:
                    break
                }
            }
        }

        var steps = 0
        while !input.isAtEnd, steps < 512 {
            steps += 1
            clock += 1_000
            let (frontend, id, payload) = MessageScript.next(&input)
            do {
                if frontend {
                    try tracker.frontend(id: id, payload: payload, now: now, monotonic: clock)
                } else {
                    try tracker.backend(id: id, payload: payload, now: now, monotonic: clock)
                }
            } catch {
                // The relay closes the session on a malformed message.
                break
            }
            if input.byte() % 16 == 0 {
                if frontend {
                    tracker.oversizedFrontendMessage(id: id)
                } else {
                    tracker.oversizedBackendMessage(id: id)
                }
            }
            collect()
        }
        tracker.sessionEnded(reason: "fuzz", now: now, monotonic: clock + 1)
        collect()
        require(tracker.queryCount == queries.count, "queryCount \(tracker.queryCount) for \(queries.count) queries")
    }
}

/// Builds one message from a few fuzzer bytes: (is it from the client, type byte, payload).
public enum MessageScript {
    static let names = ["", "s1", "p1", "a"]
    static let sql = [
        "SELECT 1", "SELECT * FROM t; SELECT 2", "", "COPY t FROM STDIN", "COPY t TO STDOUT",
        "ALTER ROLE x PASSWORD 'secret'", "BEGIN", "COMMIT", "SELECT $1::int, $2",
    ]

    public static func next(_ input: inout FuzzInput) -> (Bool, UInt8, ByteBuffer) {
        let op = input.byte()
        var body = ByteBuffer()
        if op >= 0xE0 {
            // A raw message of any type the tracker looks at.
            let frontend = op & 1 == 0
            let ids = frontend ? Array("QPBEDCSFdcf".utf8) : Array("TDCIEN sZGHWdc123ntAV".utf8)
            let id = ids[input.choose(ids.count)]
            body.writeBytes(input.take(input.choose(24)))
            return (frontend, id, body)
        }
        let name = { (input: inout FuzzInput) in Self.names[input.choose(Self.names.count)] }
        switch op % 30 {
        case 0:
            body.writeCString(Self.sql[input.choose(Self.sql.count)])
            return (true, FrontendMessageID.query, body)
        case 1:
            body.writeCString(name(&input))
            body.writeCString(Self.sql[input.choose(Self.sql.count)])
            let count = input.choose(3)
            body.writeInteger(Int16(count))
            for _ in 0..<count { body.writeInteger(UInt32(input.byte())) }
            return (true, FrontendMessageID.parse, body)
        case 2:
            body.writeCString(name(&input))
            body.writeCString(name(&input))
            let formats = input.choose(3)
            body.writeInteger(Int16(formats))
            for _ in 0..<formats { body.writeInteger(Int16(input.choose(3))) }
            let values = input.choose(4)
            body.writeInteger(Int16(values))
            for _ in 0..<values {
                if input.byte() % 5 == 0 {
                    body.writeInteger(Int32(-1))
                } else {
                    let bytes = input.take(input.choose(6))
                    body.writeInteger(Int32(bytes.count))
                    body.writeBytes(bytes)
                }
            }
            let results = input.choose(3)
            body.writeInteger(Int16(results))
            for _ in 0..<results { body.writeInteger(Int16(input.choose(2))) }
            return (true, FrontendMessageID.bind, body)
        case 3, 4:
            body.writeInteger(input.byte() % 2 == 0 ? UInt8(ascii: "S") : UInt8(ascii: "P"))
            body.writeCString(name(&input))
            return (true, op % 30 == 3 ? FrontendMessageID.describe : FrontendMessageID.close, body)
        case 5:
            body.writeCString(name(&input))
            body.writeInteger(Int32(input.choose(3)))
            return (true, FrontendMessageID.execute, body)
        case 6, 7:
            return (true, FrontendMessageID.sync, body)
        case 8:
            body.writeBytes(input.take(input.choose(12)))
            return (true, FrontendMessageID.functionCall, body)
        case 9:
            body.writeBytes(input.take(input.choose(12)))
            return (true, FrontendMessageID.copyData, body)
        case 10:
            return (true, input.byte() % 2 == 0 ? FrontendMessageID.copyDone : FrontendMessageID.copyFail, body)
        case 11:
            let count = input.choose(4)
            body.writeInteger(Int16(count))
            for index in 0..<count {
                body.writeCString("c\(index)")
                body.writeMultipleIntegers(UInt32(0), Int16(0), UInt32(23), Int16(4), Int32(-1), Int16(input.choose(2)))
            }
            return (false, BackendMessageID.rowDescription, body)
        case 12, 13, 14:
            let count = input.choose(4)
            body.writeInteger(Int16(count))
            for _ in 0..<count {
                if input.byte() % 6 == 0 {
                    body.writeInteger(Int32(-1))
                } else {
                    let bytes = input.take(input.choose(8))
                    body.writeInteger(Int32(bytes.count))
                    body.writeBytes(bytes)
                }
            }
            return (false, BackendMessageID.dataRow, body)
        case 15, 16:
            body.writeCString(["SELECT 1", "INSERT 0 1", "COPY 2", "BEGIN", ""][input.choose(5)])
            return (false, BackendMessageID.commandComplete, body)
        case 17:
            return (false, input.byte() % 2 == 0 ? BackendMessageID.emptyQueryResponse : BackendMessageID.portalSuspended, body)
        case 18, 19:
            let fields = ErrorFields(severity: op % 2 == 0 ? "ERROR" : "FATAL", code: "42601", message: "m")
            var message = ByteBuffer()
            fields.encode(into: &message, id: op % 30 == 18 ? BackendMessageID.errorResponse : BackendMessageID.noticeResponse)
            message.moveReaderIndex(forwardBy: 5)
            return (false, op % 30 == 18 ? BackendMessageID.errorResponse : BackendMessageID.noticeResponse, message)
        case 20, 21:
            body.writeInteger(Array("ITE".utf8)[input.choose(3)])
            return (false, BackendMessageID.readyForQuery, body)
        case 22:
            body.writeInteger(Int8(0))
            body.writeInteger(Int16(1))
            body.writeInteger(Int16(0))
            let ids = [BackendMessageID.copyInResponse, BackendMessageID.copyOutResponse, BackendMessageID.copyBothResponse]
            return (false, ids[input.choose(3)], body)
        case 23:
            body.writeBytes(input.take(input.choose(12)))
            return (false, BackendMessageID.copyData, body)
        case 24:
            return (false, BackendMessageID.copyDone, body)
        case 25, 26:
            let ids = [
                BackendMessageID.parseComplete, BackendMessageID.bindComplete, BackendMessageID.closeComplete,
                BackendMessageID.noData,
            ]
            return (false, ids[input.choose(4)], body)
        case 27:
            body.writeInteger(Int16(1))
            body.writeInteger(UInt32(23))
            return (false, BackendMessageID.parameterDescription, body)
        case 28:
            body.writeInteger(Int32(42))
            body.writeCString("channel")
            body.writeCString("payload")
            return (false, BackendMessageID.notificationResponse, body)
        default:
            body.writeInteger(Int32(1))
            body.writeInteger(UInt8(input.byte()))
            return (false, BackendMessageID.functionCallResponse, body)
        }
    }
}

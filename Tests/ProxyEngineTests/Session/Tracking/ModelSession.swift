import Foundation
import NIOCore

@testable import ProxyEngine

/// A well-formed session built from a few integers: what a client sends and what a real PostgreSQL answers, in the
/// order they cross the proxy. Property tests generate the integers; shrinking them shrinks the session.
///
/// Each integer is one step: `code % 10` picks the kind (simple query with rows, an error after some rows, several
/// statements in one Query, an empty query, an extended-protocol pipeline, a pipeline whose first Execute fails,
/// COPY FROM STDIN, COPY TO STDOUT, a query with a notice then a NOTIFY, a transaction block) and `code / 10` its
/// size.
struct ModelSession {
    enum Side {
        case client
        case server
    }

    /// One flight of bytes: everything one side sends before it waits for the other.
    struct Phase {
        var side: Side
        var bytes: ByteBuffer
    }

    private(set) var phases: [Phase] = []
    /// Queries the tracker must record: one per Query message, one per Execute.
    private(set) var expectedQueries = 0
    /// For each query in order: the SQL it must be recorded with (nil: not checked, e.g. a redacted one) and the
    /// command tag of its result.
    private(set) var expected: [(sql: String?, tag: String?)] = []

    init(steps: [Int]) {
        for (index, code) in steps.enumerated() {
            self.step = index
            self.add(kind: code % 10, size: code / 10)
        }
    }

    private var step = 0

    private mutating func expect(_ sql: String?, _ tag: String?) {
        self.expected.append((sql, tag))
        self.expectedQueries += 1
    }

    private mutating func send(_ side: Side, _ write: (inout ByteBuffer) -> Void) {
        var bytes = ByteBuffer()
        write(&bytes)
        if let last = self.phases.last, last.side == side {
            self.phases[self.phases.count - 1].bytes.writeImmutableBuffer(bytes)
        } else {
            self.phases.append(Phase(side: side, bytes: bytes))
        }
    }

    private static func tag(_ tag: String, into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: BackendMessageID.commandComplete) { $0.writeCString(tag) }
    }

    private static let columns = [RowDescription.Column(name: "id", typeOID: 23), .init(name: "name", typeOID: 25)]

    private static func rows(_ count: Int, into buffer: inout ByteBuffer) {
        for row in 0..<count {
            DataRow.encode(["\(row)", row % 3 == 0 ? nil : "name \(row)"], into: &buffer)
        }
    }

    private mutating func add(kind: Int, size: Int) {
        switch kind {
        case 0:
            let rows = size % 6
            self.expect("SELECT id, name FROM t LIMIT \(rows)", "SELECT \(rows)")
            self.send(.client) { QueryMessage.encode("SELECT id, name FROM t LIMIT \(rows)", into: &$0) }
            self.send(.server) {
                RowDescription(columns: Self.columns).encode(into: &$0)
                Self.rows(rows, into: &$0)
                Self.tag("SELECT \(rows)", into: &$0)
                ReadyForQuery.encode(.idle, into: &$0)
            }
        case 1:
            self.expect("SELECT 1 / (3 - id) FROM t", nil)
            self.send(.client) { QueryMessage.encode("SELECT 1 / (3 - id) FROM t", into: &$0) }
            self.send(.server) {
                RowDescription(columns: [.init(name: "?column?", typeOID: 23)]).encode(into: &$0)
                for row in 0..<(size % 3) { DataRow.encode(["\(row)"], into: &$0) }
                ErrorFields(severity: "ERROR", code: "22012", message: "division by zero").encode(into: &$0)
                ReadyForQuery.encode(.idle, into: &$0)
            }
        case 2:
            self.expect("SELECT 1; UPDATE t SET x = 1; SELECT 2", "SELECT 1")
            self.send(.client) { QueryMessage.encode("SELECT 1; UPDATE t SET x = 1; SELECT 2", into: &$0) }
            self.send(.server) {
                RowDescription(columns: [.init(name: "a", typeOID: 23)]).encode(into: &$0)
                DataRow.encode(["1"], into: &$0)
                Self.tag("SELECT 1", into: &$0)
                Self.tag("UPDATE \(size % 4)", into: &$0)
                RowDescription(columns: [.init(name: "b", typeOID: 23)]).encode(into: &$0)
                DataRow.encode(["2"], into: &$0)
                Self.tag("SELECT 1", into: &$0)
                ReadyForQuery.encode(.idle, into: &$0)
            }
        case 3:
            self.expect("", nil)
            self.send(.client) { QueryMessage.encode("", into: &$0) }
            self.send(.server) {
                EmptyMessage.encode(id: BackendMessageID.emptyQueryResponse, into: &$0)
                ReadyForQuery.encode(.idle, into: &$0)
            }
        case 4, 5:
            // A pipeline: Parse, then (Bind, [Describe,] Execute) per run, one Sync. Kind 5 fails at the first
            // Execute, and the server skips the rest until Sync.
            // The unnamed statement (replaced by every Parse, as drivers use it) or a new named one.
            let runs = 1 + size % 3
            let fails = kind == 5
            let name = size % 2 == 0 ? "" : "s\(self.step)"
            let sql = "SELECT id, name FROM t WHERE id < $1 -- step \(self.step)"
            for run in 0..<runs { self.expect(sql, fails ? nil : "SELECT \(run)") }
            self.send(.client) {
                ParseMessage(name: name, sql: sql, parameterTypes: [23])
                    .encode(into: &$0)
                for run in 0..<runs {
                    BindMessage(
                        portal: "", statement: name, parameterFormats: [], parameters: [Array("\(run)".utf8)],
                        resultFormats: []
                    ).encode(into: &$0)
                    if run == 0 { TargetedMessage(target: .portal, name: "").encode(id: FrontendMessageID.describe, into: &$0) }
                    ExecuteMessage(portal: "", maxRows: 0).encode(into: &$0)
                }
                EmptyMessage.encode(id: FrontendMessageID.sync, into: &$0)
            }
            self.send(.server) {
                EmptyMessage.encode(id: BackendMessageID.parseComplete, into: &$0)
                for run in 0..<runs {
                    EmptyMessage.encode(id: BackendMessageID.bindComplete, into: &$0)
                    if run == 0 { RowDescription(columns: Self.columns).encode(into: &$0) }
                    if fails {
                        ErrorFields(severity: "ERROR", code: "57014", message: "canceling statement").encode(into: &$0)
                        break
                    }
                    Self.rows(run, into: &$0)
                    Self.tag("SELECT \(run)", into: &$0)
                }
                ReadyForQuery.encode(.idle, into: &$0)
            }
        case 6:
            let lines = size % 4
            self.expect("COPY t FROM STDIN", "COPY \(lines)")
            self.send(.client) { QueryMessage.encode("COPY t FROM STDIN", into: &$0) }
            self.send(.server) {
                $0.writeMessage(id: BackendMessageID.copyInResponse) {
                    $0.writeInteger(Int8(0))
                    $0.writeInteger(Int16(1))
                    $0.writeInteger(Int16(0))
                }
            }
            self.send(.client) {
                for line in 0..<lines { $0.writeMessage(id: FrontendMessageID.copyData) { $0.writeString("\(line)\tx\n") } }
                EmptyMessage.encode(id: FrontendMessageID.copyDone, into: &$0)
            }
            self.send(.server) {
                Self.tag("COPY \(lines)", into: &$0)
                ReadyForQuery.encode(.idle, into: &$0)
            }
        case 7:
            let lines = size % 5
            self.expect("COPY t TO STDOUT", "COPY \(lines)")
            self.send(.client) { QueryMessage.encode("COPY t TO STDOUT", into: &$0) }
            self.send(.server) {
                $0.writeMessage(id: BackendMessageID.copyOutResponse) {
                    $0.writeInteger(Int8(0))
                    $0.writeInteger(Int16(1))
                    $0.writeInteger(Int16(0))
                }
                for line in 0..<lines { $0.writeMessage(id: BackendMessageID.copyData) { $0.writeString("\(line)\tx\n") } }
                EmptyMessage.encode(id: BackendMessageID.copyDone, into: &$0)
                Self.tag("COPY \(lines)", into: &$0)
                ReadyForQuery.encode(.idle, into: &$0)
            }
        case 8:
            self.expect("NOTIFY c, 'hello'", "NOTIFY")
            self.send(.client) { QueryMessage.encode("NOTIFY c, 'hello'", into: &$0) }
            self.send(.server) {
                ErrorFields(severity: "NOTICE", code: "00000", message: "hello")
                    .encode(into: &$0, id: BackendMessageID.noticeResponse)
                Self.tag("NOTIFY", into: &$0)
                ReadyForQuery.encode(.idle, into: &$0)
                $0.writeMessage(id: BackendMessageID.notificationResponse) {
                    $0.writeInteger(Int32(4242))
                    $0.writeCString("c")
                    $0.writeCString("hello")
                }
            }
        default:
            self.expect("BEGIN", "BEGIN")
            self.expect(nil, "ALTER ROLE")
            self.expect("COMMIT", "COMMIT")
            self.send(.client) { QueryMessage.encode("BEGIN", into: &$0) }
            self.send(.server) {
                Self.tag("BEGIN", into: &$0)
                ReadyForQuery.encode(.inTransaction, into: &$0)
            }
            self.send(.client) { QueryMessage.encode("ALTER ROLE app PASSWORD 'secret\(size)'", into: &$0) }
            self.send(.server) {
                Self.tag("ALTER ROLE", into: &$0)
                ReadyForQuery.encode(.inTransaction, into: &$0)
            }
            self.send(.client) { QueryMessage.encode("COMMIT", into: &$0) }
            self.send(.server) {
                Self.tag("COMMIT", into: &$0)
                ReadyForQuery.encode(.idle, into: &$0)
            }
        }
    }
}

/// Chunk sizes from a seed (splitmix64): mostly 1 to 8 bytes, sometimes up to 512, so that headers and payloads
/// are split everywhere.
struct ChunkPlan {
    private var state: UInt64

    init(seed: Int) {
        self.state = UInt64(bitPattern: Int64(seed))
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func chunkSize() -> Int {
        let z = self.next()
        return z % 4 == 0 ? Int((z >> 8) % 512) + 1 : Int((z >> 8) % 8) + 1
    }

    /// `buffer` cut into chunks.
    mutating func split(_ buffer: ByteBuffer) -> [ByteBuffer] {
        var buffer = buffer
        var chunks: [ByteBuffer] = []
        while buffer.readableBytes > 0 {
            chunks.append(buffer.readSlice(length: min(self.chunkSize(), buffer.readableBytes))!)
        }
        return chunks
    }
}

/// What the relay's tap makes of a session: the frontend and backend framers feeding one tracker, exactly as
/// `ProxySession` wires them, with a fixed clock so that two runs compare equal.
struct TapOutcome: Equatable {
    var outputs: [SessionTracker.Output] = []
    var error: ProtocolViolation?
    var queryCount = 0

    var queries: [RecordedQuery] {
        self.outputs.compactMap { if case .query(let query, _) = $0 { return query } else { return nil } }
    }

    var results: [RecordedResult] {
        self.outputs.compactMap { if case .result(let result, _) = $0 { return result } else { return nil } }
    }

    /// Feeds the phases in order, each cut into chunks by `plan` (nil: each phase in one piece), then ends the
    /// session. A ProtocolViolation stops the feed as the relay would close the session; any other error is a
    /// bug and is returned as a failure to the caller.
    static func tap(_ phases: [ModelSession.Phase], plan: ChunkPlan?, maxRows: Int = 2) throws -> TapOutcome {
        var plan = plan
        var tracker = SessionTracker(maxRecordedRows: maxRows)
        var frontend = MessageFramer(direction: .frontend)
        var backend = MessageFramer(direction: .backend)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        var outcome = TapOutcome()
        feed: do {
            for phase in phases {
                var chunks = [phase.bytes]
                if var current = plan {
                    chunks = current.split(phase.bytes)
                    plan = current
                }
                for chunk in chunks {
                    switch phase.side {
                    case .client:
                        try frontend.feed(chunk, wants: SessionTracker.wantsFrontend) { frame in
                            switch frame {
                            case .message(let id, let payload):
                                try tracker.frontend(id: id, payload: payload, now: now, monotonic: 0)
                            case .oversized(let id, _):
                                tracker.oversizedFrontendMessage(id: id)
                            }
                        }
                    case .server:
                        try backend.feed(chunk, wants: SessionTracker.wantsBackend) { frame in
                            switch frame {
                            case .message(let id, let payload):
                                try tracker.backend(id: id, payload: payload, now: now, monotonic: 0)
                            case .oversized(let id, _):
                                tracker.oversizedBackendMessage(id: id)
                            }
                        }
                    }
                    outcome.outputs += tracker.takeOutputs()
                }
            }
        } catch let violation as ProtocolViolation {
            outcome.error = violation
        }
        tracker.sessionEnded(reason: "test", now: now, monotonic: 0)
        outcome.outputs += tracker.takeOutputs()
        outcome.queryCount = tracker.queryCount
        return outcome
    }
}

/// Damage done to a stream: a flipped bit, a cut, or a message length replaced by a wrong one.
enum StreamMutation {
    /// Lengths that break framing in every way the protocol allows: negative, under 4, off by one, over the limits.
    static let badLengths: [Int32] = [-1, 0, 3, 4, 10_001, 65_536, 0x3FFF_FFFF, 0x4000_0000, .max, .min]

    /// Applies `codes` (one mutation per integer) to `phases`.
    static func apply(_ codes: [Int], to phases: [ModelSession.Phase]) -> [ModelSession.Phase] {
        var phases = phases
        for code in codes where !phases.isEmpty {
            let kind = code % 4
            let rest = code / 4
            let index = rest % phases.count
            var bytes = Array(phases[index].bytes.readableBytesView)
            guard !bytes.isEmpty else { continue }
            let position = (rest / phases.count) % bytes.count
            switch kind {
            case 0:
                bytes[position] ^= UInt8(1 << (rest % 8))
            case 1:
                // The connection drops: the rest of this flight and everything after it never arrive.
                bytes.removeSubrange(position...)
                phases.removeSubrange((index + 1)...)
            default:
                let headers = Self.headerOffsets(bytes)
                guard !headers.isEmpty else { continue }
                let header = headers[position % headers.count]
                let old = Int32(bytes[header + 1]) << 24 | Int32(bytes[header + 2]) << 16
                    | Int32(bytes[header + 3]) << 8 | Int32(bytes[header + 4])
                let choices = Self.badLengths + [old &- 1, old &+ 1]
                let length = UInt32(bitPattern: choices[(rest / 7) % choices.count])
                bytes[header + 1] = UInt8(length >> 24)
                bytes[header + 2] = UInt8(length >> 16 & 0xFF)
                bytes[header + 3] = UInt8(length >> 8 & 0xFF)
                bytes[header + 4] = UInt8(length & 0xFF)
            }
            phases[index].bytes = ByteBuffer(bytes: bytes)
        }
        return phases
    }

    /// Where each message of a well-formed flight starts.
    static func headerOffsets(_ bytes: [UInt8]) -> [Int] {
        var offsets: [Int] = []
        var offset = 0
        while offset + 5 <= bytes.count {
            offsets.append(offset)
            let length = Int(bytes[offset + 1]) << 24 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 8
                | Int(bytes[offset + 4])
            guard length >= 4 else { break }
            offset += 1 + length
        }
        return offsets
    }
}

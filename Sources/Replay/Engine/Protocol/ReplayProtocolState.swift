import Foundation
import NIOCore
import ProxyEngine

/// The replay's side of the protocol on one connection, as a value: the messages a recorded query is sent as, which
/// queries may go before the answers ahead of them are read, and what each answer leaves on the server (prepared
/// statements, suspended portals, the transaction state).
///
/// Pure, as `SessionTracker` on the recording side: no I/O and no clock (the caller passes the instants it saw), so
/// it is tested step by step; `QueryExecutor` (the actor) sends what it says and feeds it what the server answers,
/// and one replay, A/B targets, scaled copies and the step-through view all drive the same rules.
///
/// - Simple queries go as one Query message, as recorded (several statements stay one message).
/// - Extended queries go as Parse/Bind/Describe/Execute/Sync with the recorded statement and portal names,
///   parameter values, formats and type OIDs, so types resolve as they did. A named statement is parsed the first
///   time its name is seen and again whenever its SQL or types change (after a Close of the name, which is never
///   an error); the unnamed statement is parsed every time. Describe is added so that the replayed result has
///   column names even when the client never asked for them. A portal whose recorded Execute was suspended
///   (`max_rows`) is resumed with Execute alone, as the client did.
/// - Each extended query ends with its own Sync: the session file does not record where the client's Syncs were,
///   so each recorded query is its own unit.
struct ReplayProtocolState {
    /// What the messages of one query set up, for the bookkeeping once its answer is in.
    struct Sent: Sendable, Equatable {
        var parsed: ParseMessage?
        var portal: String?
    }

    /// A query whose messages went out before the answers ahead of it were read.
    struct InFlight: Sendable {
        /// The caller's name for the query (its position in the script).
        var key: Int
        var sent: Sent
        var sentAt: ContinuousClock.Instant
    }

    /// Why a recorded query cannot be sent again.
    struct NotReplayable: Error, Equatable {
        var message: String
    }

    let safety: ReplayOptions.Safety
    /// Named statements the target holds, as they were parsed.
    private(set) var prepared: [String: ParseMessage] = [:]
    /// Portals the replay left suspended, and those the recording left suspended.
    private var suspendedPortals: Set<String> = []
    private var recordedSuspendedPortals: Set<String> = []
    private(set) var transactionState: TransactionState = .idle
    /// Queries sent ahead whose answers are not read yet, oldest first.
    private(set) var inFlight = CircularBuffer<InFlight>()
    /// When the last answer was read: a query sent ahead starts running on the server then, not when it was sent.
    private(set) var lastAnswer: ContinuousClock.Instant?

    init(safety: ReplayOptions.Safety) {
        self.safety = safety
    }

    // MARK: - Sending

    /// Why `query` is not sent at all (a masked password, `--read-only`), or nil.
    func refusal(_ query: RecordedQuery) -> String? {
        if query.redacted {
            // Sending the masked text would set a real password to "***".
            return "a password in it was masked when it was recorded, so it cannot be sent again"
        }
        if self.safety == .readOnly, let reason = Self.readOnlyRefusal(query.sql) {
            return reason
        }
        return nil
    }

    /// Appends the query's messages to `buffer`; fails when the recording lacks what they need.
    func encode(_ query: RecordedQuery, into buffer: inout ByteBuffer) -> Result<Sent, NotReplayable> {
        guard query.queryProtocol == .extended else {
            QueryMessage.encode(query.sql, into: &buffer)
            return .success(Sent())
        }
        let types = query.parameterTypes ?? []
        guard let statement = query.statementName else {
            // Only a Parse was recorded (it failed before any Execute): send the Parse alone.
            let parse = ParseMessage(name: "", sql: query.sql, parameterTypes: types)
            parse.encode(into: &buffer)
            EmptyMessage.encode(id: FrontendMessageID.sync, into: &buffer)
            return .success(Sent(parsed: parse))
        }
        let portal = query.portalName ?? ""
        let maxRows = query.maxRows ?? 0
        var sent = Sent(portal: portal)
        let resume =
            maxRows > 0 && self.recordedSuspendedPortals.contains(portal) && self.suspendedPortals.contains(portal)
        if !resume {
            let parse = ParseMessage(name: statement, sql: query.sql, parameterTypes: types)
            if statement.isEmpty || self.prepared[statement] != parse {
                if !statement.isEmpty {
                    TargetedMessage(target: .statement, name: statement).encode(
                        id: FrontendMessageID.close, into: &buffer)
                }
                parse.encode(into: &buffer)
                sent.parsed = parse
            }
            if !portal.isEmpty {
                TargetedMessage(target: .portal, name: portal).encode(id: FrontendMessageID.close, into: &buffer)
            }
            let parameters = query.parameters ?? []
            var values: [[UInt8]?] = []
            for (index, parameter) in parameters.enumerated() {
                guard let value = parameter.value else {
                    values.append(nil)
                    continue
                }
                switch parameter.format {
                case .text:
                    values.append(Array(value.utf8))
                case .binary:
                    guard let data = Data(base64Encoded: value) else {
                        return .failure(
                            NotReplayable(message: "binary parameter $\(index + 1) is not valid base64 in the file"))
                    }
                    values.append(Array(data))
                }
            }
            let formats: [Int16] = parameters.map { $0.format == .binary ? 1 : 0 }
            BindMessage(
                portal: portal, statement: statement,
                parameterFormats: formats.contains(1) ? formats : [], parameters: values,
                resultFormats: query.resultFormats ?? []
            ).encode(into: &buffer)
        }
        TargetedMessage(target: .portal, name: portal).encode(id: FrontendMessageID.describe, into: &buffer)
        ExecuteMessage(portal: portal, maxRows: maxRows).encode(into: &buffer)
        EmptyMessage.encode(id: FrontendMessageID.sync, into: &buffer)
        return .success(sent)
    }

    /// Whether `query` may be sent before the answers ahead of it are read. The server still runs queries one at a
    /// time, in order, each with its own Sync, so a failing one does not affect the next; what must not go ahead is
    /// anything whose messages depend on an earlier answer: a named statement not yet parsed (whether its Parse
    /// succeeds decides the next query's messages), a resumed portal, COPY (the server reads what follows as COPY
    /// data), DEALLOCATE or DISCARD (they drop statements the next queries use), anything not replayed as
    /// recorded, and everything under --rollback (savepoints depend on each answer).
    func canGoAhead(_ query: RecordedQuery, recorded: RecordedResult?) -> Bool {
        if self.safety == .rollback || self.refusal(query) != nil || recorded?.copyData != nil {
            return false
        }
        if Self.mayHoldBarrierWord(query.sql) {
            let words = SQLStatements.words(query.sql)
            if words.contains(where: { $0 == "COPY" || $0 == "DEALLOCATE" || $0 == "DISCARD" }) {
                return false
            }
        }
        guard query.queryProtocol == .extended else { return true }
        guard let statement = query.statementName, (query.maxRows ?? 0) == 0, (query.portalName ?? "").isEmpty else {
            return false
        }
        return statement.isEmpty
            || self.prepared[statement]
                == ParseMessage(name: statement, sql: query.sql, parameterTypes: query.parameterTypes ?? [])
    }

    /// Queries whose messages went out ahead (in order): their answers are read in that order.
    mutating func sentAhead(_ queries: [InFlight]) {
        self.inFlight.append(contentsOf: queries)
    }

    /// The query sent ahead whose answer is read next, removed from the queue.
    mutating func takeInFlight() -> InFlight? {
        self.inFlight.popFirst()
    }

    /// When a query sent at `sentAt` could start running on the server: once the answer ahead of it had arrived.
    /// Pipelined replay measures each query from there, so its duration is the server's time for it alone.
    func runStart(sentAt: ContinuousClock.Instant) -> ContinuousClock.Instant {
        guard let lastAnswer = self.lastAnswer else { return sentAt }
        return max(sentAt, lastAnswer)
    }

    // MARK: - Answers

    /// A query's answer was read to its ReadyForQuery at `at`: keeps the books on what its messages set up.
    mutating func answered(_ sent: Sent, cycle: AnswerCollector.Cycle, at instant: ContinuousClock.Instant) {
        self.lastAnswer = instant
        self.transactionState = cycle.transactionState
        if let parsed = sent.parsed, !parsed.name.isEmpty {
            self.prepared[parsed.name] = cycle.parseCompleted ? parsed : nil
        }
        if let portal = sent.portal {
            if cycle.portalSuspended {
                self.suspendedPortals.insert(portal)
            } else {
                self.suspendedPortals.remove(portal)
            }
        }
        if self.transactionState == .idle {
            // Portals live until the end of their transaction.
            self.suspendedPortals.removeAll()
        }
    }

    /// One of the replay's own commands (BEGIN, SAVEPOINT ...) was answered.
    mutating func commandAnswered(_ cycle: AnswerCollector.Cycle, at instant: ContinuousClock.Instant) {
        self.lastAnswer = instant
        self.transactionState = cycle.transactionState
    }

    /// After a simple query ran: DEALLOCATE or DISCARD in it drop the statements the target holds.
    mutating func simpleQueryRan(_ sql: String) {
        if Self.mayHoldBarrierWord(sql) {
            let words = SQLStatements.words(sql)
            if words.contains("DEALLOCATE") || words.contains("DISCARD") {
                self.prepared.removeAll()
            }
        }
    }

    /// Remembers whether the recording left the query's portal suspended, so the next Execute resumes it.
    mutating func noteRecordedPortal(_ query: RecordedQuery, recorded: RecordedResult?) {
        guard query.queryProtocol == .extended, let recorded else { return }
        let portal = query.portalName ?? ""
        if (query.maxRows ?? 0) > 0, recorded.error == nil, recorded.result.commandTag == nil {
            self.recordedSuspendedPortals.insert(portal)
        } else {
            self.recordedSuspendedPortals.remove(portal)
        }
    }

    // MARK: - Rules on SQL text

    private static let barrierWords: [[UInt8]] = [Array("copy".utf8), Array("deallocate".utf8), Array("discard".utf8)]

    /// A quick look for COPY, DEALLOCATE or DISCARD in any case, before the exact (and slower) word scan.
    static func mayHoldBarrierWord(_ sql: String) -> Bool {
        let candidates = Self.barrierWords
        return sql.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            for index in bytes.indices {
                let first = bytes[index] | 0x20
                guard first == UInt8(ascii: "c") || first == UInt8(ascii: "d") else { continue }
                for word in candidates where word[0] == first && index + word.count <= bytes.count {
                    var same = true
                    for offset in 1..<word.count where bytes[index + offset] | 0x20 != word[offset] {
                        same = false
                        break
                    }
                    if same { return true }
                }
            }
            return false
        } ?? true
    }

    /// `--read-only`: a statement that could switch the session or a transaction back to read-write is not sent.
    static func readOnlyRefusal(_ sql: String) -> String? {
        let words = SQLStatements.words(sql).map { $0.uppercased() }
        for (index, word) in words.enumerated() {
            if word == "READ", index + 1 < words.count, words[index + 1] == "WRITE" {
                return "--read-only: it asks for READ WRITE"
            }
            if word == "TRANSACTION_READ_ONLY" || word == "DEFAULT_TRANSACTION_READ_ONLY" {
                return "--read-only: it changes \(word.lowercased())"
            }
        }
        return nil
    }

    /// The recorded COPY FROM STDIN data as bytes; nil when the query recorded none.
    static func copyData(of recorded: RecordedResult?) -> Result<[ByteBuffer]?, NotReplayable> {
        guard let recorded, let chunks = recorded.copyData else { return .success(nil) }
        if recorded.copyDataTruncated {
            return .failure(
                NotReplayable(
                    message: "its COPY data was not fully recorded (copy_data_truncated), so it cannot be sent again"))
        }
        let base64 = recorded.copyDataEncoding == .base64
        var buffers: [ByteBuffer] = []
        buffers.reserveCapacity(chunks.count)
        for chunk in chunks {
            if base64 {
                guard let data = Data(base64Encoded: chunk) else {
                    return .failure(NotReplayable(message: "its COPY data is not valid base64 in the file"))
                }
                buffers.append(ByteBuffer(bytes: data))
            } else {
                buffers.append(ByteBuffer(string: chunk))
            }
        }
        return .success(buffers)
    }
}

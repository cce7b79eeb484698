import Foundation
import NIOCore
import ProxyEngine

/// What replaying one recorded query gave.
struct Execution: Sendable {
    /// The replayed result; nil when the query was not sent.
    var result: RecordedResult?
    /// Why the query was not sent.
    var skipped: String?
    /// Things worth knowing about how it was replayed.
    var notes: [String] = []
}

/// Sends recorded queries to the target with the protocol they were recorded with, and collects the answers.
///
/// - Simple queries go as one Query message, as recorded (several statements stay one message).
/// - Extended queries go as Parse/Bind/Describe/Execute/Sync with the recorded statement and portal names,
///   parameter values, formats and type OIDs, so types resolve as they did. A named statement is parsed the first
///   time its name is seen and again whenever its SQL or types change (after a Close of the name, which is never
///   an error); the unnamed statement is parsed every time. Describe is added so that the replayed result has
///   column names even when the client never asked for them. A portal whose recorded Execute was suspended
///   (`max_rows`) is resumed with Execute alone, as the client did.
/// - COPY FROM STDIN sends the recorded data; COPY TO STDOUT collects the rows.
///
/// Each extended query ends with its own Sync: the session file does not record where the client's Syncs were,
/// so each recorded query is its own unit (a recorded "not executed" query is handled by `ReplaySession`); several
/// may still be sent before their answers are read (`sendAhead`, docs/replay.md "Pipelining").
actor QueryExecutor {
    private let connection: ReplayConnection
    private let target: String
    private let safety: ReplayOptions.Safety
    /// Named statements the target holds, as they were parsed.
    private var prepared: [String: ParseMessage] = [:]
    /// Portals the replay left suspended, and those the recording left suspended.
    private var suspendedPortals: Set<String> = []
    private var recordedSuspendedPortals: Set<String> = []
    private var rollback: RollbackTransaction?
    private(set) var transactionState: TransactionState = .idle
    /// Queries sent before the answers of those ahead of them were read (pipelining), oldest first.
    private var sentAhead = CircularBuffer<SentAhead>()
    /// When the last answer was read: a query sent ahead starts running on the server then, not when it was sent.
    private var lastAnswer = ContinuousClock.now

    init(connection: ReplayConnection, target: String, safety: ReplayOptions.Safety) {
        self.connection = connection
        self.target = target
        self.safety = safety
        self.rollback = safety == .rollback ? RollbackTransaction() : nil
    }

    /// Opens the replay's transaction for `--rollback`.
    func start() async throws(ReplayError) {
        guard self.rollback != nil else { return }
        if let error = try await self.command("BEGIN") {
            throw .connectionLost(target: self.target, reason: "BEGIN failed: \(error.message)")
        }
    }

    /// Rolls back the replay's transaction (`--rollback`) and closes the connection.
    func finish() async {
        if self.rollback != nil, self.connection.isActive {
            _ = try? await self.command("ROLLBACK")
        }
        await self.connection.close()
    }

    /// Replays one query. Throws only when the connection is lost or `--rollback` cannot be kept; everything the
    /// server answers, errors included, is in the result.
    func execute(_ query: RecordedQuery, recorded: RecordedResult?, keepRows: Int, key: Int)
        async throws(ReplayError) -> Execution
    {
        defer { self.noteRecordedPortal(query, recorded: recorded) }
        if let ahead = self.sentAhead.first {
            if ahead.key == key {
                self.sentAhead.removeFirst()
                let start = max(ahead.sentAt, self.lastAnswer)
                return try await self.answer(query, sent: ahead.sent, copy: nil, start: start, keepRows: keepRows)
            }
            // Not the query that was sent next (the caller skipped one): read what was sent, to stay in step.
            try await self.discardSentAhead()
        }
        if query.redacted {
            // Sending the masked text would set a real password to "***".
            return Execution(skipped: "a password in it was masked when it was recorded, so it cannot be sent again")
        }
        if self.safety == .readOnly, let reason = Self.readOnlyRefusal(query.sql) {
            return Execution(skipped: reason)
        }
        let copy: [ByteBuffer]?
        switch Self.copyData(of: recorded) {
        case .success(let data): copy = data
        case .failure(let reason): return Execution(skipped: reason.message)
        }
        let execution: Execution
        if self.rollback != nil {
            execution = try await self.executeInRollback(query, copy: copy, keepRows: keepRows)
            if self.transactionState == .idle {
                throw .rollbackLost(
                    queryNumber: query.queryNumber, reason: "the server reports no transaction in progress")
            }
        } else {
            execution = try await self.run(query, copy: copy, savepoint: false, keepRows: keepRows)
        }
        if query.queryProtocol == .simple, Self.mayHoldBarrierWord(query.sql) {
            let words = SQLStatements.words(query.sql)
            if words.contains("DEALLOCATE") || words.contains("DISCARD") {
                self.prepared.removeAll()
            }
        }
        return execution
    }

    // MARK: - --rollback

    private func executeInRollback(_ query: RecordedQuery, copy: [ByteBuffer]?, keepRows: Int)
        async throws(ReplayError) -> Execution
    {
        let statements = query.queryProtocol == .simple ? SQLStatements.split(query.sql) : [query.sql]
        let commands = statements.map(TransactionCommand.classify)
        if statements.count > 1, commands.contains(where: { $0 != nil }) {
            return try await self.executePieces(query, statements: statements, commands: commands, keepRows: keepRows)
        }
        let aborted = self.transactionState == .failed
        switch self.rollback!.plan(commands.first ?? nil, aborted: aborted) {
        case .run(let savepoint):
            return try await self.run(query, copy: copy, savepoint: savepoint, keepRows: keepRows)
        case .emulate(let commandsToRun, let tag):
            let start = ContinuousClock.now
            let result = try await self.emulate(commandsToRun, tag: tag, queryNumber: query.queryNumber, since: start)
            return Execution(result: result, notes: [Self.emulationNote(query.sql, commandsToRun)])
        case .refuse(let reason):
            return Execution(skipped: reason)
        }
    }

    /// A multi-statement simple query holding transaction control: its statements run one by one, transaction
    /// control emulated, their result sets gathered into one result, stopping at the first error as the server
    /// does.
    private func executePieces(
        _ query: RecordedQuery, statements: [String], commands: [TransactionCommand?], keepRows: Int
    ) async throws(ReplayError) -> Execution {
        let start = ContinuousClock.now
        var sets: [RecordedResultSet] = []
        var notices: [RecordedError] = []
        var error: RecordedError?
        var skipped: String?
        pieces: for (statement, command) in zip(statements, commands) {
            let piece = RecordedQuery(queryNumber: query.queryNumber, sql: statement)
            let aborted = self.transactionState == .failed
            let result: RecordedResult
            switch self.rollback!.plan(command, aborted: aborted) {
            case .run(let savepoint):
                let execution = try await self.run(piece, copy: nil, savepoint: savepoint, keepRows: keepRows)
                guard let replayed = execution.result else { continue }
                result = replayed
            case .emulate(let commandsToRun, let tag):
                result = try await self.emulate(
                    commandsToRun, tag: tag, queryNumber: query.queryNumber, since: ContinuousClock.now)
            case .refuse(let reason):
                skipped = reason
                break pieces
            }
            sets += result.resultSets ?? [result.result]
            notices += result.notices ?? []
            if let failed = result.error {
                error = failed
                break
            }
        }
        if let skipped, sets.isEmpty {
            return Execution(skipped: skipped)
        }
        let result = RecordedResult(
            queryNumber: query.queryNumber, result: sets.last ?? RecordedResultSet(),
            resultSets: sets.count > 1 ? sets : nil, error: error, notices: notices.isEmpty ? nil : notices,
            durationMS: Self.milliseconds(since: start))
        var notes = ["--rollback: its statements ran one by one, transaction control as savepoints"]
        if let skipped { notes.append("stopped before a statement that was not replayed: \(skipped)") }
        return Execution(result: result, notes: notes)
    }

    /// Runs the commands standing for a recorded transaction statement and answers as the statement did.
    private func emulate(_ commands: [String], tag: String, queryNumber: Int, since start: ContinuousClock.Instant)
        async throws(ReplayError) -> RecordedResult
    {
        for command in commands {
            if let error = try await self.command(command) {
                return RecordedResult(
                    queryNumber: queryNumber, error: error, durationMS: Self.milliseconds(since: start))
            }
        }
        return RecordedResult(
            queryNumber: queryNumber, result: RecordedResultSet(commandTag: tag),
            durationMS: Self.milliseconds(since: start))
    }

    private static func emulationNote(_ sql: String, _ commands: [String]) -> String {
        let statement = SQLStatements.leadingWords(sql, count: 2).joined(separator: " ")
        if commands.isEmpty {
            return "--rollback: \(statement) was not sent (it changes nothing inside the replay's transaction)"
        }
        return "--rollback: \(statement) ran as " + commands.joined(separator: "; ")
    }

    // MARK: - Sending a query

    /// What the messages of one query set up, for the bookkeeping after its answer.
    private struct Sent {
        var parsed: ParseMessage?
        var portal: String?
    }

    /// What one ReadyForQuery cycle brought besides the result.
    private struct Cycle {
        var parseCompleted = false
        var portalSuspended = false
    }

    private func run(_ query: RecordedQuery, copy: [ByteBuffer]?, savepoint: Bool, keepRows: Int)
        async throws(ReplayError) -> Execution
    {
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        if savepoint {
            QueryMessage.encode("SAVEPOINT \(RollbackTransaction.statementSavepoint)", into: &buffer)
        }
        let sent: Sent
        switch self.encode(query, into: &buffer) {
        case .success(let encoded): sent = encoded
        case .failure(let reason): return Execution(skipped: reason.message)
        }
        self.send(buffer)
        if savepoint {
            var ignored = ReplayedResultBuilder(keepRows: 0)
            _ = try await self.collect(into: &ignored, copy: nil, extended: false)
        }
        let execution = try await self.answer(
            query, sent: sent, copy: copy, start: ContinuousClock.now, keepRows: keepRows)
        if savepoint {
            let savepointName = RollbackTransaction.statementSavepoint
            let cleanup =
                execution.result?.error != nil
                ? "ROLLBACK TO SAVEPOINT \(savepointName); RELEASE SAVEPOINT \(savepointName)"
                : "RELEASE SAVEPOINT \(savepointName)"
            if let error = try await self.command(cleanup) {
                throw .rollbackLost(queryNumber: query.queryNumber, reason: "\(cleanup) failed: \(error.message)")
            }
        }
        return execution
    }

    /// Reads the answer to a query whose messages were sent, and keeps the books on what they set up.
    private func answer(
        _ query: RecordedQuery, sent: Sent, copy: [ByteBuffer]?, start: ContinuousClock.Instant, keepRows: Int
    ) async throws(ReplayError) -> Execution {
        var builder = ReplayedResultBuilder(keepRows: keepRows)
        let cycle = try await self.collect(into: &builder, copy: copy, extended: query.queryProtocol == .extended)
        let durationMS = Self.milliseconds(since: start)

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
        return Execution(result: builder.result(queryNumber: query.queryNumber, durationMS: durationMS))
    }

    /// Why a recorded query cannot be sent again.
    struct NotReplayable: Error {
        var message: String
    }

    /// Encodes the query's messages; fails when the recording lacks what they need.
    private func encode(_ query: RecordedQuery, into buffer: inout ByteBuffer) -> Result<Sent, NotReplayable> {
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

    /// Remembers whether the recording left the query's portal suspended, so the next Execute resumes it.
    private func noteRecordedPortal(_ query: RecordedQuery, recorded: RecordedResult?) {
        guard query.queryProtocol == .extended, let recorded else { return }
        let portal = query.portalName ?? ""
        if (query.maxRows ?? 0) > 0, recorded.error == nil, recorded.result.commandTag == nil {
            self.recordedSuspendedPortals.insert(portal)
        } else {
            self.recordedSuspendedPortals.remove(portal)
        }
    }

    // MARK: - Pipelining

    /// A query whose messages went out before the answers ahead of it were read.
    private struct SentAhead {
        /// The caller's name for the query (its position in the script).
        var key: Int
        var sent: Sent
        var sentAt: ContinuousClock.Instant
    }

    /// Queries sent ahead whose answers are not read yet.
    var sentAheadCount: Int { self.sentAhead.count }

    /// Sends the leading queries of `queries` that can go before the answers ahead of them are read, in one
    /// write, and returns how many went. The server still runs them one at a time, in order, each with its own
    /// Sync, so a failing one does not affect the next; what must not go ahead is anything whose messages depend
    /// on an earlier answer: a named statement not yet parsed (whether its Parse succeeds decides the next
    /// query's messages), a resumed portal, COPY (the server reads what follows as COPY data), DEALLOCATE or
    /// DISCARD (they drop statements the next queries use), anything not replayed as recorded, and everything
    /// under --rollback (savepoints depend on each answer).
    func sendAhead(_ queries: [(key: Int, query: RecordedQuery, recorded: RecordedResult?)]) async throws(ReplayError)
        -> Int
    {
        guard self.rollback == nil else { return 0 }
        var buffer = ByteBufferAllocator().buffer(capacity: 256 * max(queries.count, 1))
        var ahead: [SentAhead] = []
        for (key, query, recorded) in queries {
            guard self.canGoAhead(query, recorded: recorded) else { break }
            let mark = buffer.writerIndex
            guard case .success(let sent) = self.encode(query, into: &buffer) else {
                buffer.moveWriterIndex(to: mark)
                break
            }
            ahead.append(SentAhead(key: key, sent: sent, sentAt: .now))
        }
        guard !ahead.isEmpty else { return 0 }
        self.send(buffer)
        self.sentAhead.append(contentsOf: ahead)
        return ahead.count
    }

    private func canGoAhead(_ query: RecordedQuery, recorded: RecordedResult?) -> Bool {
        if query.redacted || recorded?.copyData != nil {
            return false
        }
        if self.safety == .readOnly, Self.readOnlyRefusal(query.sql) != nil {
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

    /// Reads and drops the answers to every query sent ahead.
    func discardSentAhead() async throws(ReplayError) {
        while self.sentAhead.popFirst() != nil {
            var ignored = ReplayedResultBuilder(keepRows: 0)
            _ = try await self.collect(into: &ignored, copy: nil, extended: true)
        }
    }

    // MARK: - Receiving

    /// Reads one answer up to ReadyForQuery into `builder`, sending COPY data when the server asks for it.
    private func collect(into builder: inout ReplayedResultBuilder, copy: [ByteBuffer]?, extended: Bool)
        async throws(ReplayError) -> Cycle
    {
        var cycle = Cycle()
        while true {
            let message: RawMessage
            do {
                message = try await self.connection.receive()
            } catch {
                throw .connectionLost(target: self.target, reason: "\(error)")
            }
            do {
                switch message.id {
                case BackendMessageID.rowDescription:
                    builder.rowDescription(try RowDescription.decode(from: message.payload))
                case BackendMessageID.dataRow:
                    try builder.dataRow(message.payload)
                case BackendMessageID.commandComplete:
                    builder.endStatement(tag: try CommandComplete.tag(of: message.payload))
                case BackendMessageID.emptyQueryResponse:
                    builder.endStatement(tag: nil)
                case BackendMessageID.portalSuspended:
                    builder.endStatement(tag: nil)
                    cycle.portalSuspended = true
                case BackendMessageID.errorResponse:
                    builder.error(try ErrorFields.decode(from: message.payload).recorded)
                case BackendMessageID.noticeResponse:
                    builder.notice(try ErrorFields.decode(from: message.payload).recorded)
                case BackendMessageID.copyInResponse:
                    try await self.sendCopy(copy, extended: extended)
                case BackendMessageID.copyOutResponse, BackendMessageID.copyBothResponse:
                    builder.copyOut()
                case BackendMessageID.copyData:
                    builder.copyData(message.payload)
                case BackendMessageID.parseComplete:
                    cycle.parseCompleted = true
                case BackendMessageID.readyForQuery:
                    self.transactionState = try ReadyForQuery.state(of: message.payload)
                    self.lastAnswer = ContinuousClock.now
                    return cycle
                default:
                    // BindComplete, CloseComplete, NoData, ParameterDescription, CopyDone, ParameterStatus,
                    // NotificationResponse: nothing to collect.
                    break
                }
            } catch let error as ReplayError {
                throw error
            } catch {
                throw .connectionLost(target: self.target, reason: "the server sent an invalid message: \(error)")
            }
        }
    }

    /// Answers CopyInResponse: the recorded data and CopyDone, or CopyFail when the file has no data. In the
    /// extended protocol the Sync sent after Execute was ignored during COPY, so another one ends the cycle.
    private func sendCopy(_ copy: [ByteBuffer]?, extended: Bool) async throws(ReplayError) {
        var buffer = ByteBufferAllocator().buffer(capacity: 1 << 16)
        if let copy {
            for chunk in copy {
                buffer.writeMessage(id: FrontendMessageID.copyData) { $0.writeImmutableBuffer(chunk) }
                if buffer.readableBytes >= 1 << 20 {
                    try await self.sendAndWait(buffer)
                    buffer.clear()
                }
            }
            EmptyMessage.encode(id: FrontendMessageID.copyDone, into: &buffer)
        } else {
            buffer.writeMessage(id: FrontendMessageID.copyFail) {
                $0.writeCString("pgreel replay: the session file holds no COPY data for this query")
            }
        }
        if extended {
            EmptyMessage.encode(id: FrontendMessageID.sync, into: &buffer)
        }
        self.send(buffer)
    }

    /// Runs one utility statement of the replay's own (BEGIN, SAVEPOINT ...) and returns its error, if any.
    private func command(_ sql: String) async throws(ReplayError) -> RecordedError? {
        var buffer = ByteBufferAllocator().buffer(capacity: sql.utf8.count + 8)
        QueryMessage.encode(sql, into: &buffer)
        self.send(buffer)
        var builder = ReplayedResultBuilder(keepRows: 0)
        _ = try await self.collect(into: &builder, copy: nil, extended: false)
        return builder.result(queryNumber: 0, durationMS: 0).error
    }

    private func send(_ buffer: ByteBuffer) {
        self.connection.send(buffer)
    }

    private func sendAndWait(_ buffer: ByteBuffer) async throws(ReplayError) {
        do {
            try await self.connection.sendAndWait(buffer)
        } catch {
            throw .connectionLost(target: self.target, reason: "\(error)")
        }
    }

    // MARK: - Helpers

    /// The recorded COPY FROM STDIN data as bytes; nil when the query recorded none.
    private static func copyData(of recorded: RecordedResult?) -> Result<[ByteBuffer]?, NotReplayable> {
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

    private static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        return (Double(seconds) * 1000 + Double(attoseconds) / 1e15).rounded(toPlaces: 3)
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let factor = pow(10.0, Double(places))
        return (self * factor).rounded() / factor
    }
}

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
    /// The server ended the session in its answer (a FATAL, then the connection closed): nothing more can run.
    var serverEnded = false
}

/// Sends recorded queries to the target with the protocol they were recorded with, and collects the answers: the
/// I/O around `ReplayProtocolState` (what to send, what may go ahead, what answers leave behind) and
/// `AnswerCollector` (one answer, message by message), plus `--rollback`'s orchestration (`RollbackTransaction`
/// decides, this runs its savepoints and emulated commands) and COPY data.
///
/// Several queries may be sent before their answers are read (`sendAhead`, docs/replay.md "Pipelining"); a
/// recorded "not executed" query is handled by `ReplaySession`.
actor QueryExecutor {
    nonisolated let connection: ReplayConnection
    private let target: String
    private var state: ReplayProtocolState
    private var rollback: RollbackTransaction?

    var transactionState: TransactionState { self.state.transactionState }

    init(connection: ReplayConnection, target: String, safety: ReplayOptions.Safety) {
        self.connection = connection
        self.target = target
        self.state = ReplayProtocolState(safety: safety)
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
        defer { self.state.noteRecordedPortal(query, recorded: recorded) }
        if let ahead = self.state.inFlight.first {
            if ahead.key == key {
                _ = self.state.takeInFlight()
                let start = self.state.runStart(sentAt: ahead.sentAt)
                return try await self.answer(query, sent: ahead.sent, copy: nil, start: start, keepRows: keepRows)
            }
            // Not the query that was sent next (the caller skipped one): read what was sent, to stay in step.
            try await self.discardSentAhead()
        }
        if let reason = self.state.refusal(query) {
            return Execution(skipped: reason)
        }
        let copy: [ByteBuffer]?
        switch ReplayProtocolState.copyData(of: recorded) {
        case .success(let data): copy = data
        case .failure(let reason): return Execution(skipped: reason.message)
        }
        let execution: Execution
        if self.rollback != nil {
            execution = try await self.executeInRollback(query, copy: copy, keepRows: keepRows)
            if self.state.transactionState == .idle {
                throw .rollbackLost(
                    queryNumber: query.queryNumber, reason: "the server reports no transaction in progress")
            }
        } else {
            execution = try await self.run(query, copy: copy, savepoint: false, keepRows: keepRows)
        }
        if query.queryProtocol == .simple {
            self.state.simpleQueryRan(query.sql)
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
        let aborted = self.state.transactionState == .failed
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
            let aborted = self.state.transactionState == .failed
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

    private func run(_ query: RecordedQuery, copy: [ByteBuffer]?, savepoint: Bool, keepRows: Int)
        async throws(ReplayError) -> Execution
    {
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        if savepoint {
            QueryMessage.encode("SAVEPOINT \(RollbackTransaction.statementSavepoint)", into: &buffer)
        }
        let sent: ReplayProtocolState.Sent
        switch self.state.encode(query, into: &buffer) {
        case .success(let encoded): sent = encoded
        case .failure(let reason): return Execution(skipped: reason.message)
        }
        self.send(buffer)
        if savepoint {
            var ignored = AnswerCollector(keepRows: 0)
            let cycle = try await self.collect(into: &ignored, copy: nil, extended: false)
            self.state.commandAnswered(cycle, at: cycle.ready ?? .now)
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
        _ query: RecordedQuery, sent: ReplayProtocolState.Sent, copy: [ByteBuffer]?, start: ContinuousClock.Instant,
        keepRows: Int
    ) async throws(ReplayError) -> Execution {
        var collector = AnswerCollector(keepRows: keepRows)
        let extended = query.queryProtocol == .extended
        let cycle = try await self.collect(into: &collector, copy: copy, extended: extended)
        let ready = cycle.ready ?? .now
        self.state.answered(sent, cycle: cycle, at: ready)
        // From when the server could start the query to the arrival of what ends it, as the recorder measures.
        let end = cycle.end(extended: extended) ?? ready
        return Execution(
            result: collector.result(
                queryNumber: query.queryNumber, durationMS: Self.milliseconds(max(end - start, .zero))),
            serverEnded: cycle.serverEnded)
    }

    // MARK: - Pipelining

    /// Queries sent ahead whose answers are not read yet.
    var sentAheadCount: Int { self.state.inFlight.count }

    /// Sends the leading queries of `queries` that may go before the answers ahead of them are read
    /// (`ReplayProtocolState.canGoAhead`), in one write, and returns how many went.
    func sendAhead(_ queries: [(key: Int, query: RecordedQuery, recorded: RecordedResult?)]) async throws(ReplayError)
        -> Int
    {
        var buffer = ByteBufferAllocator().buffer(capacity: 256 * max(queries.count, 1))
        var ahead: [ReplayProtocolState.InFlight] = []
        let now = ContinuousClock.now
        for (key, query, recorded) in queries {
            guard self.state.canGoAhead(query, recorded: recorded) else { break }
            let mark = buffer.writerIndex
            guard case .success(let sent) = self.state.encode(query, into: &buffer) else {
                buffer.moveWriterIndex(to: mark)
                break
            }
            ahead.append(ReplayProtocolState.InFlight(key: key, sent: sent, sentAt: now))
        }
        guard !ahead.isEmpty else { return 0 }
        self.send(buffer)
        self.state.sentAhead(ahead)
        return ahead.count
    }

    /// Reads and drops the answers to every query sent ahead.
    func discardSentAhead() async throws(ReplayError) {
        while let ahead = self.state.takeInFlight() {
            var ignored = AnswerCollector(keepRows: 0)
            let cycle = try await self.collect(into: &ignored, copy: nil, extended: true)
            self.state.answered(ahead.sent, cycle: cycle, at: cycle.ready ?? .now)
        }
    }

    // MARK: - Receiving

    /// Reads one answer up to ReadyForQuery into `collector`, sending COPY data when the server asks for it.
    private func collect(into collector: inout AnswerCollector, copy: [ByteBuffer]?, extended: Bool)
        async throws(ReplayError) -> AnswerCollector.Cycle
    {
        while true {
            let received: ReceivedMessage
            do {
                received = try await self.connection.receive()
            } catch {
                if let cycle = collector.connectionClosed() {
                    return cycle
                }
                throw .connectionLost(target: self.target, reason: "\(error)")
            }
            let progress: AnswerCollector.Progress
            do {
                progress = try collector.received(received.message, at: received.arrived)
            } catch {
                throw .connectionLost(target: self.target, reason: "the server sent an invalid message: \(error)")
            }
            switch progress {
            case .more:
                continue
            case .sendCopyData:
                try await self.sendCopy(copy, extended: extended)
            case .done(let cycle):
                return cycle
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
        try await self.query(sql, keepRows: 0).error
    }

    /// Runs SQL of the replay's own (not a recorded query) with the simple protocol and returns its answer, the
    /// first `keepRows` rows kept: the target's settings before a replay, the commands `--rollback` adds.
    func query(_ sql: String, keepRows: Int) async throws(ReplayError) -> RecordedResult {
        var buffer = ByteBufferAllocator().buffer(capacity: sql.utf8.count + 8)
        QueryMessage.encode(sql, into: &buffer)
        self.send(buffer)
        var collector = AnswerCollector(keepRows: keepRows)
        let cycle = try await self.collect(into: &collector, copy: nil, extended: false)
        self.state.commandAnswered(cycle, at: cycle.ready ?? .now)
        return collector.result(queryNumber: 0, durationMS: 0)
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

    private static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        Self.milliseconds(ContinuousClock.now - start)
    }

    static func milliseconds(_ elapsed: Duration) -> Double {
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

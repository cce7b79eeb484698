import NIOCore
import ProxyEngine
import Testing

@testable import Replay

/// The replay's protocol rules, step by step and without a server: which messages a recorded query goes as, what an
/// answer leaves behind, and which queries may be sent before the answers ahead of them.
@Suite struct ReplayProtocolStateTests {
    /// The message types `encode` wrote, in order (`Q`, `C`, `P`, `B`, `D`, `E`, `S`).
    static func messages(_ state: ReplayProtocolState, _ query: RecordedQuery) throws -> (String, ReplayProtocolState.Sent) {
        var buffer = ByteBuffer()
        let sent = try state.encode(query, into: &buffer).get()
        var ids = ""
        while let id = buffer.readInteger(as: UInt8.self), let length = buffer.readInteger(as: Int32.self) {
            ids.append(Character(UnicodeScalar(id)))
            buffer.moveReaderIndex(forwardBy: Int(length) - 4)
        }
        return (ids, sent)
    }

    static func extended(
        _ sql: String, statement: String = "", portal: String? = nil, parameters: [RecordedParameter] = [],
        maxRows: Int32? = nil
    ) -> RecordedQuery {
        RecordedQuery(
            queryNumber: 1, sql: sql, queryProtocol: .extended, statementName: statement, portalName: portal,
            parameters: parameters, maxRows: maxRows)
    }

    static let now = ContinuousClock.now

    @Test func aSimpleQueryIsOneQueryMessage() throws {
        let state = ReplayProtocolState(safety: .none)
        let (ids, sent) = try Self.messages(state, RecordedQuery(queryNumber: 1, sql: "SELECT 1; SELECT 2"))
        #expect(ids == "Q")
        #expect(sent == ReplayProtocolState.Sent())
    }

    @Test func aNamedStatementIsParsedOnceThenReusedAndParsedAgainWhenItsSQLChanges() throws {
        var state = ReplayProtocolState(safety: .none)
        let query = Self.extended("SELECT $1::int", statement: "s1", parameters: [RecordedParameter(value: "7", format: .text)])
        let (first, sent) = try Self.messages(state, query)
        #expect(first == "CPBDES", "Close of the name (never an error), Parse, Bind, Describe, Execute, Sync")
        #expect(!state.canGoAhead(query, recorded: nil), "whether its Parse succeeds decides the next messages")
        state.answered(sent, cycle: AnswerCollector.Cycle(parseCompleted: true), at: Self.now)
        #expect(state.prepared["s1"]?.sql == "SELECT $1::int")
        #expect(state.canGoAhead(query, recorded: nil))
        #expect(try Self.messages(state, query).0 == "BDES", "parsed already: Bind, Describe, Execute, Sync")

        let changed = Self.extended("SELECT $1::text", statement: "s1", parameters: [RecordedParameter(value: "7", format: .text)])
        #expect(try Self.messages(state, changed).0 == "CPBDES")
    }

    @Test func aFailedParseIsForgotten() throws {
        var state = ReplayProtocolState(safety: .none)
        let query = Self.extended("SELEC 1", statement: "bad")
        let (_, sent) = try Self.messages(state, query)
        state.answered(sent, cycle: AnswerCollector.Cycle(parseCompleted: false), at: Self.now)
        #expect(state.prepared["bad"] == nil)
        #expect(try Self.messages(state, query).0 == "CPBDES")
    }

    @Test func theUnnamedStatementIsParsedEveryTimeAndMayGoAhead() throws {
        var state = ReplayProtocolState(safety: .none)
        let query = Self.extended("SELECT 1")
        let (ids, sent) = try Self.messages(state, query)
        #expect(ids == "PBDES")
        state.answered(sent, cycle: AnswerCollector.Cycle(parseCompleted: true), at: Self.now)
        #expect(try Self.messages(state, query).0 == "PBDES")
        #expect(state.canGoAhead(query, recorded: nil))
        #expect(state.prepared.isEmpty)
    }

    @Test func aSuspendedPortalIsResumedWithExecuteAlone() throws {
        var state = ReplayProtocolState(safety: .none)
        let query = Self.extended("SELECT g FROM generate_series(1, 10) g", portal: "c1", maxRows: 3)
        let suspended = RecordedResult(queryNumber: 1, result: RecordedResultSet(rows: [["1"]], rowCount: 3))
        let (first, sent) = try Self.messages(state, query)
        #expect(first == "PCBDES", "Parse, Close of the portal, Bind, Describe, Execute, Sync")
        state.noteRecordedPortal(query, recorded: suspended)
        state.answered(
            sent, cycle: AnswerCollector.Cycle(parseCompleted: true, portalSuspended: true, transactionState: .inTransaction),
            at: Self.now)
        #expect(try Self.messages(state, query).0 == "DES", "the client resumed it: Describe, Execute, Sync")
        #expect(!state.canGoAhead(query, recorded: suspended), "a resumed portal waits for the answer before it")

        // Its transaction ended: portals are gone on the server, so it is bound again.
        state.commandAnswered(AnswerCollector.Cycle(transactionState: .idle), at: Self.now)
        state.answered(ReplayProtocolState.Sent(), cycle: AnswerCollector.Cycle(transactionState: .idle), at: Self.now)
        #expect(try Self.messages(state, query).0 == "PCBDES")
    }

    @Test func deallocateAndDiscardForgetThePreparedStatements() throws {
        var state = ReplayProtocolState(safety: .none)
        let query = Self.extended("SELECT 1", statement: "s1")
        let (_, sent) = try Self.messages(state, query)
        state.answered(sent, cycle: AnswerCollector.Cycle(parseCompleted: true), at: Self.now)
        state.simpleQueryRan("SELECT 2")
        #expect(state.prepared["s1"] != nil)
        state.simpleQueryRan("discard all")
        #expect(state.prepared.isEmpty)
        #expect(!state.canGoAhead(RecordedQuery(queryNumber: 2, sql: "DEALLOCATE ALL"), recorded: nil))
        #expect(!state.canGoAhead(RecordedQuery(queryNumber: 2, sql: "COPY t FROM STDIN"), recorded: nil))
        #expect(state.canGoAhead(RecordedQuery(queryNumber: 2, sql: "SELECT * FROM copyright"), recorded: nil))
    }

    @Test func whatIsNotReplayedAsRecordedNeverGoesAhead() {
        let readOnly = ReplayProtocolState(safety: .readOnly)
        #expect(readOnly.refusal(RecordedQuery(queryNumber: 1, sql: "BEGIN READ WRITE")) != nil)
        #expect(!readOnly.canGoAhead(RecordedQuery(queryNumber: 1, sql: "BEGIN READ WRITE"), recorded: nil))
        #expect(readOnly.canGoAhead(RecordedQuery(queryNumber: 1, sql: "SELECT 1"), recorded: nil))
        let masked = RecordedQuery(queryNumber: 1, sql: "ALTER ROLE x PASSWORD '***'", redacted: true)
        #expect(ReplayProtocolState(safety: .none).refusal(masked) != nil)
        #expect(!ReplayProtocolState(safety: .rollback).canGoAhead(RecordedQuery(queryNumber: 1, sql: "SELECT 1"), recorded: nil))
    }

    @Test func aBinaryParameterThatIsNotBase64CannotBeSent() {
        let state = ReplayProtocolState(safety: .none)
        var buffer = ByteBuffer()
        let query = Self.extended("SELECT $1", parameters: [RecordedParameter(value: "%%%", format: .binary)])
        #expect(throws: ReplayProtocolState.NotReplayable.self) { try state.encode(query, into: &buffer).get() }
    }

    /// Pipelined replay measures a query from the moment the server could start it: the answer ahead of it.
    @Test func aQuerySentAheadStartsWhenTheAnswerAheadOfItArrives() throws {
        var state = ReplayProtocolState(safety: .none)
        let sentAt = ContinuousClock.now
        #expect(state.runStart(sentAt: sentAt) == sentAt)
        state.sentAhead([
            ReplayProtocolState.InFlight(key: 1, sent: ReplayProtocolState.Sent(), sentAt: sentAt),
            ReplayProtocolState.InFlight(key: 2, sent: ReplayProtocolState.Sent(), sentAt: sentAt),
        ])
        let taken = state.takeInFlight()
        let first = try #require(taken)
        let arrived = sentAt + .milliseconds(5)
        state.answered(first.sent, cycle: AnswerCollector.Cycle(), at: arrived)
        let next = state.takeInFlight()
        let second = try #require(next)
        #expect(second.key == 2)
        #expect(state.runStart(sentAt: second.sentAt) == arrived)
        #expect(state.inFlight.isEmpty)
    }
}

/// One answer, message by message.
@Suite struct AnswerCollectorTests {
    static func message(_ id: UInt8, _ body: (inout ByteBuffer) -> Void = { _ in }) -> RawMessage {
        var payload = ByteBuffer()
        body(&payload)
        return RawMessage(id: id, payload: payload)
    }

    static let ready = Self.message(BackendMessageID.readyForQuery) { $0.writeInteger(UInt8(ascii: "T")) }

    @Test func rowsAndTagsMakeTheResultAndReadyForQueryEndsIt() throws {
        var collector = AnswerCollector(keepRows: 10)
        #expect(try collector.received(Self.message(BackendMessageID.parseComplete)) == .more)
        var description = ByteBuffer()
        RowDescription(columns: [.init(name: "n", typeOID: 23)]).encode(into: &description)
        description.moveReaderIndex(forwardBy: 5)  // the payload, without the type byte and length
        #expect(try collector.received(RawMessage(id: BackendMessageID.rowDescription, payload: description)) == .more)
        let row = Self.message(BackendMessageID.dataRow) {
            $0.writeInteger(Int16(1))
            $0.writeInteger(Int32(1))
            $0.writeString("7")
        }
        #expect(try collector.received(row) == .more)
        #expect(try collector.received(Self.message(BackendMessageID.commandComplete) { $0.writeCString("SELECT 1") }) == .more)
        #expect(
            try collector.received(Self.ready)
                == .done(AnswerCollector.Cycle(parseCompleted: true, transactionState: .inTransaction)))
        let result = collector.result(queryNumber: 4, durationMS: 1.5)
        #expect(result.result.columns == ["n"])
        #expect(result.result.rows == [["7"]])
        #expect(result.result.commandTag == "SELECT 1")
        #expect(result.durationMS == 1.5)
    }

    @Test func copyInAsksForDataAndPortalSuspendedIsNoted() throws {
        var collector = AnswerCollector(keepRows: 10)
        #expect(try collector.received(Self.message(BackendMessageID.copyInResponse)) == .sendCopyData)
        #expect(try collector.received(Self.message(BackendMessageID.portalSuspended)) == .more)
        guard case .done(let cycle) = try collector.received(Self.ready) else {
            Issue.record("not done")
            return
        }
        #expect(cycle.portalSuspended)
    }

    /// The replayed duration ends where the recorder ends it: an extended query at its CommandComplete (or error,
    /// or PortalSuspended), a simple query at ReadyForQuery.
    @Test func theAnswerSaysWhereTheDurationEnds() throws {
        let start = ContinuousClock.now
        var collector = AnswerCollector(keepRows: 1)
        _ = try collector.received(Self.message(BackendMessageID.commandComplete) { $0.writeCString("SELECT 0") }, at: start + .milliseconds(3))
        guard case .done(let cycle) = try collector.received(Self.ready, at: start + .milliseconds(4)) else {
            Issue.record("not done")
            return
        }
        #expect(cycle.end(extended: true) == start + .milliseconds(3))
        #expect(cycle.end(extended: false) == start + .milliseconds(4))
    }

    /// pg_terminate_backend: FATAL 57P01, then the connection closes with no ReadyForQuery. The answer is complete
    /// (the error is the result); a close with no FATAL before it is a lost connection.
    @Test func aFatalThenACloseEndsTheAnswer() throws {
        var fatal = ByteBuffer()
        ErrorFields.fatal("57P01", "terminating connection due to administrator command")
            .encode(into: &fatal)
        fatal.moveReaderIndex(forwardBy: 5)
        var collector = AnswerCollector(keepRows: 1)
        #expect(try collector.received(RawMessage(id: BackendMessageID.errorResponse, payload: fatal)) == .more)
        let closed = collector.connectionClosed()
        #expect(closed?.serverEnded == true)
        #expect(collector.result(queryNumber: 1, durationMS: 0).error?.code == "57P01")

        var error = ByteBuffer()
        ErrorFields(severity: "ERROR", code: "42P01", message: "no such table").encode(into: &error)
        error.moveReaderIndex(forwardBy: 5)
        var plain = AnswerCollector(keepRows: 1)
        _ = try plain.received(RawMessage(id: BackendMessageID.errorResponse, payload: error))
        #expect(plain.connectionClosed() == nil, "an ERROR is followed by ReadyForQuery: a close is a lost connection")
    }

    @Test func aMalformedMessageThrows() {
        var collector = AnswerCollector(keepRows: 10)
        #expect(throws: (any Error).self) {
            try collector.received(Self.message(BackendMessageID.readyForQuery))
        }
    }
}

import Foundation
import NIOCore

/// Turns the messages of one session into query and result events. A pure state machine: no I/O, no clock of its
/// own; the relay feeds it every tapped message with the time it saw it, and drains `outputs`.
///
/// It mirrors the server's own bookkeeping: every frontend message that will get an answer queues a `Unit`, and
/// backend messages complete units in order. That handles the simple protocol (one Query, several statements,
/// ReadyForQuery at the end), the extended protocol with pipelining (several Parse/Bind/Execute before one Sync,
/// and the server skipping everything until Sync after an error) and the COPY sub-protocol.
public struct SessionTracker {
    /// Indirect: a recorded query or result is a large value, and outputs are moved around several times on their
    /// way to the file; boxed, each move is one reference instead of a copy of every field.
    public indirect enum Output: Sendable, Equatable {
        case query(RecordedQuery, at: Date)
        case result(RecordedResult, at: Date)
        case transactionState(TransactionState)
        /// A notice or error that belongs to no query (e.g. an error at Sync, a notice between queries).
        case notice(RecordedError)
        case notification(channel: String, payload: String, processID: Int32)
    }

    /// Frontend message types the tracker needs to see.
    public static func wantsFrontend(_ id: UInt8) -> Bool {
        switch id {
        case FrontendMessageID.query, FrontendMessageID.parse, FrontendMessageID.bind, FrontendMessageID.execute,
            FrontendMessageID.sync, FrontendMessageID.close, FrontendMessageID.describe, FrontendMessageID.copyData,
            FrontendMessageID.copyDone, FrontendMessageID.copyFail, FrontendMessageID.functionCall:
            return true
        default:
            return false
        }
    }

    /// Backend message types the tracker needs to see.
    public static func wantsBackend(_ id: UInt8) -> Bool {
        switch id {
        case BackendMessageID.rowDescription, BackendMessageID.dataRow, BackendMessageID.commandComplete,
            BackendMessageID.emptyQueryResponse, BackendMessageID.errorResponse, BackendMessageID.noticeResponse,
            BackendMessageID.portalSuspended, BackendMessageID.readyForQuery, BackendMessageID.copyInResponse,
            BackendMessageID.copyOutResponse, BackendMessageID.copyBothResponse, BackendMessageID.copyData,
            BackendMessageID.copyDone, BackendMessageID.parseComplete, BackendMessageID.bindComplete,
            BackendMessageID.closeComplete, BackendMessageID.noData, BackendMessageID.parameterDescription,
            BackendMessageID.notificationResponse, BackendMessageID.functionCallResponse:
            return true
        default:
            return false
        }
    }

    private struct Statement {
        var sql: String
        var parameterTypes: [UInt32]
        var redacted: Bool
        var columns: [RowDescription.Column]?
    }

    private struct Portal {
        var statementName: String
        var statement: Statement
        var parameters: [RecordedParameter]
        var resultFormats: [Int16]
        var columns: [RowDescription.Column]?
    }

    /// A query whose answer is being collected. A class, so the rows and COPY data it accumulates are appended in
    /// place while it sits in the queue, never copied per message.
    private final class InFlight {
        var query: RecordedQuery
        let started: UInt64
        var resultFormats: [Int16] = []
        var columns: [RowDescription.Column]?
        var current: ResultSetBuilder?
        var finished: [RecordedResultSet] = []
        var notices: [RecordedError] = []
        var error: RecordedError?
        var copyIn: CopyInRecorder?

        init(query: RecordedQuery, started: UInt64) {
            self.query = query
            self.started = started
        }
    }

    private enum Unit {
        case simple(InFlight)
        case parse(name: String, statement: Statement)
        case bind(portal: String)
        case describe(TargetedMessage)
        case execute(InFlight)
        case close
        case sync
        case functionCall
    }

    public private(set) var outputs: [Output] = []
    public private(set) var queryCount = 0
    private let maxRows: Int
    private var statements: [String: Statement] = [:]
    private var portals: [String: Portal] = [:]
    private var pending = CircularBuffer<Unit>()
    /// The unit the backend is answering right now.
    private var active: Unit?
    /// The last Parse and what it decoded to. Drivers that do not name their statements (pgbench -M extended, many
    /// ORMs) send the same Parse before every query: comparing bytes is much cheaper than decoding it and scanning
    /// its SQL for passwords again.
    private var lastParse: (bytes: [UInt8], name: String, statement: Statement)?
    /// The same for RowDescription, which such drivers get again for every query (they Describe the portal).
    private var lastRowDescription: (bytes: [UInt8], description: RowDescription)?

    public init(maxRecordedRows: Int) {
        self.maxRows = maxRecordedRows
    }

    public mutating func takeOutputs() -> [Output] {
        defer { self.outputs.removeAll(keepingCapacity: true) }
        return self.outputs
    }

    /// Hands the outputs over by swapping arrays with the caller (who passes an empty one back in), so that neither
    /// side allocates per call on the relay's hot path.
    public mutating func swapOutputs(_ buffer: inout [Output]) {
        swap(&buffer, &self.outputs)
    }

    public var hasOutputs: Bool { !self.outputs.isEmpty }

    // MARK: - Frontend

    public mutating func frontend(id: UInt8, payload: ByteBuffer, now: Date, monotonic: UInt64) throws {
        switch id {
        case FrontendMessageID.query:
            let sql = try QueryMessage.sql(of: payload)
            let query = self.newQuery(sql: sql)
            self.outputs.append(.query(query, at: now))
            self.pending.append(.simple(InFlight(query: query, started: monotonic)))
        case FrontendMessageID.parse:
            if let last = self.lastParse, payload.hasSameBytes(as: last.bytes) {
                self.pending.append(.parse(name: last.name, statement: last.statement))
                break
            }
            let parse = try ParseMessage.decode(from: payload)
            let (sql, redacted) = PasswordRedactor.redact(parse.sql)
            let statement = Statement(sql: sql, parameterTypes: parse.parameterTypes, redacted: redacted)
            self.lastParse = (Array(payload.readableBytesView), parse.name, statement)
            self.pending.append(.parse(name: parse.name, statement: statement))
        case FrontendMessageID.bind:
            let bind = try BindMessage.decode(from: payload)
            // The newest Parse of that name wins, even before its ParseComplete: drivers send Parse, Bind, Execute
            // and Sync in one flight, and the unnamed statement of the previous query is still in `statements`.
            let statement = self.pendingStatement(named: bind.statement) ?? self.statements[bind.statement]
            if let statement {
                let parameters = bind.parameters.enumerated().map { index, value in
                    Self.recordedParameter(value, format: bind.format(ofParameter: index))
                }
                self.portals[bind.portal] = Portal(
                    statementName: bind.statement, statement: statement, parameters: parameters,
                    resultFormats: bind.resultFormats, columns: statement.columns)
            }
            self.pending.append(.bind(portal: bind.portal))
        case FrontendMessageID.describe:
            self.pending.append(.describe(try TargetedMessage.decode(from: payload)))
        case FrontendMessageID.execute:
            let execute = try ExecuteMessage.decode(from: payload)
            let portal = self.portals[execute.portal]
            var query = self.newQuery(
                sql: portal?.statement.sql ?? "", alreadyRedacted: portal?.statement.redacted ?? false)
            query.queryProtocol = .extended
            query.statementName = portal?.statementName
            query.portalName = execute.portal.isEmpty ? nil : execute.portal
            query.parameters = portal?.parameters
            query.parameterTypes = portal.map { $0.statement.parameterTypes.isEmpty ? nil : $0.statement.parameterTypes } ?? nil
            query.resultFormats = portal.map { $0.resultFormats.isEmpty ? nil : $0.resultFormats } ?? nil
            query.maxRows = execute.maxRows == 0 ? nil : execute.maxRows
            self.outputs.append(.query(query, at: now))
            let inFlight = InFlight(query: query, started: monotonic)
            inFlight.resultFormats = portal?.resultFormats ?? []
            inFlight.columns = portal?.columns
            self.pending.append(.execute(inFlight))
        case FrontendMessageID.close:
            let close = try TargetedMessage.decode(from: payload)
            switch close.target {
            case .statement: self.statements[close.name] = nil
            case .portal: self.portals[close.name] = nil
            }
            self.pending.append(.close)
        case FrontendMessageID.sync:
            self.pending.append(.sync)
        case FrontendMessageID.functionCall:
            self.pending.append(.functionCall)
        case FrontendMessageID.copyData:
            self.withCopyIn { $0.append(payload) }
        case FrontendMessageID.copyDone, FrontendMessageID.copyFail:
            break
        default:
            break
        }
    }

    // MARK: - Backend

    public mutating func backend(id: UInt8, payload: ByteBuffer, now: Date, monotonic: UInt64) throws {
        switch id {
        case BackendMessageID.dataRow:
            try self.withResultSet { try $0.append(row: payload) }
        case BackendMessageID.copyData:
            self.withResultSet { $0.append(copyRow: payload) }
        case BackendMessageID.rowDescription:
            if let last = self.lastRowDescription, payload.hasSameBytes(as: last.bytes) {
                self.rowDescription(last.description)
            } else {
                let description = try RowDescription.decode(from: payload)
                self.lastRowDescription = (Array(payload.readableBytesView), description)
                self.rowDescription(description)
            }
        case BackendMessageID.commandComplete:
            let tag = try CommandComplete.tag(of: payload)
            self.endStatement(tag: tag, now: now, monotonic: monotonic)
        case BackendMessageID.emptyQueryResponse, BackendMessageID.portalSuspended:
            self.endStatement(tag: nil, now: now, monotonic: monotonic)
        case BackendMessageID.copyInResponse:
            if let inFlight = self.activeQuery() {
                inFlight.copyIn = CopyInRecorder()
                inFlight.current = ResultSetBuilder(columns: nil, resultFormats: [], maxRows: self.maxRows)
            }
        case BackendMessageID.copyOutResponse, BackendMessageID.copyBothResponse:
            self.activeQuery()?.current = ResultSetBuilder(columns: nil, resultFormats: [], maxRows: self.maxRows)
        case BackendMessageID.errorResponse:
            self.error(try ErrorFields.decode(from: payload).recorded, now: now, monotonic: monotonic)
        case BackendMessageID.noticeResponse:
            let notice = try ErrorFields.decode(from: payload).recorded
            if let inFlight = self.activeQuery() {
                inFlight.notices.append(notice)
            } else {
                self.outputs.append(.notice(notice))
            }
        case BackendMessageID.notificationResponse:
            let notification = try NotificationResponse.decode(from: payload)
            self.outputs.append(
                .notification(
                    channel: notification.channel, payload: notification.payload, processID: notification.processID))
        case BackendMessageID.parseComplete:
            if case .parse(let name, let statement) = self.activate() {
                self.statements[name] = statement
                self.active = nil
            }
        case BackendMessageID.bindComplete, BackendMessageID.closeComplete:
            _ = self.activate()
            self.active = nil
        case BackendMessageID.parameterDescription:
            _ = self.activate()
        case BackendMessageID.noData:
            _ = self.activate()
            self.active = nil
        case BackendMessageID.functionCallResponse:
            _ = self.activate()
        case BackendMessageID.readyForQuery:
            try self.readyForQuery(ReadyForQuery.state(of: payload), now: now, monotonic: monotonic)
        default:
            break
        }
    }

    /// A DataRow too large to tap: counted in the result but not kept.
    public mutating func oversizedBackendMessage(id: UInt8) {
        if id == BackendMessageID.dataRow || id == BackendMessageID.copyData {
            self.withResultSet { $0.appendOversizedRow() }
        }
    }

    /// A CopyData from the client too large to tap: the recorded COPY data can no longer be complete.
    public mutating func oversizedFrontendMessage(id: UInt8) {
        if id == FrontendMessageID.copyData {
            self.withCopyIn { $0.markTruncated() }
        }
    }

    /// The session ends: every query still waiting for an answer is recorded as interrupted.
    public mutating func sessionEnded(reason: String, now: Date, monotonic: UInt64) {
        if let active = self.active {
            self.active = nil
            self.interrupt(active, reason: reason, now: now, monotonic: monotonic)
        }
        while let unit = self.pending.popFirst() {
            self.interrupt(unit, reason: reason, now: now, monotonic: monotonic)
        }
    }

    // MARK: - Internals

    /// Numbers a new query. Simple-protocol SQL is redacted here; extended-protocol SQL was redacted once at Parse
    /// (`alreadyRedacted` carries that result), so a prepared statement executed a million times is scanned once.
    private mutating func newQuery(sql: String, alreadyRedacted: Bool? = nil) -> RecordedQuery {
        self.queryCount += 1
        if let alreadyRedacted {
            return RecordedQuery(queryNumber: self.queryCount, sql: sql, redacted: alreadyRedacted)
        }
        let (redactedSQL, redacted) = PasswordRedactor.redact(sql)
        return RecordedQuery(queryNumber: self.queryCount, sql: redactedSQL, redacted: redacted)
    }

    /// A Bind may name a statement whose Parse is still in the pipeline, not yet confirmed by ParseComplete.
    private func pendingStatement(named name: String) -> Statement? {
        for unit in self.pending.reversed() {
            if case .parse(let parsed, let statement) = unit, parsed == name { return statement }
        }
        if case .parse(let parsed, let statement) = self.active, parsed == name { return statement }
        return nil
    }

    private static func recordedParameter(_ value: [UInt8]?, format: Int16) -> RecordedParameter {
        guard let value else { return RecordedParameter(value: nil, format: format == 1 ? .binary : .text) }
        if format == 1 {
            return RecordedParameter(value: Data(value).base64EncodedString(), format: .binary)
        }
        return RecordedParameter(value: String(decoding: value, as: UTF8.self), format: .text)
    }

    /// Makes the next pending unit the active one when none is, and returns it.
    private mutating func activate() -> Unit? {
        if self.active == nil {
            self.active = self.pending.popFirst()
        }
        return self.active
    }

    /// The active query (simple or execute), activating the next unit if needed; nil when the answer belongs to
    /// no query.
    private mutating func activeQuery() -> InFlight? {
        switch self.activate() {
        case .simple(let inFlight), .execute(let inFlight): return inFlight
        default: return nil
        }
    }

    private mutating func withResultSet(_ body: (inout ResultSetBuilder) throws -> Void) rethrows {
        guard let inFlight = self.activeQuery() else { return }
        if inFlight.current == nil {
            inFlight.current = ResultSetBuilder(
                columns: inFlight.columns, resultFormats: inFlight.resultFormats, maxRows: self.maxRows)
        }
        try body(&inFlight.current!)
    }

    private mutating func withCopyIn(_ body: (inout CopyInRecorder) -> Void) {
        guard let inFlight = self.activeQuery(), inFlight.copyIn != nil else { return }
        body(&inFlight.copyIn!)
    }

    private mutating func rowDescription(_ description: RowDescription) {
        // Describe answers with RowDescription (or NoData); so does a simple query before its rows.
        if case .describe(let target) = self.activate() {
            self.active = nil
            switch target.target {
            case .statement:
                if self.statements[target.name] != nil { self.statements[target.name]!.columns = description.columns }
            case .portal:
                if self.portals[target.name] != nil { self.portals[target.name]!.columns = description.columns }
                // The Execute for this portal may already be queued behind the Describe.
                self.updateQueuedExecutes(portal: target.name, columns: description.columns)
            }
            return
        }
        if let inFlight = self.activeQuery() {
            inFlight.columns = description.columns
            inFlight.current = ResultSetBuilder(
                columns: description.columns, resultFormats: inFlight.resultFormats, maxRows: self.maxRows)
        }
    }

    private mutating func updateQueuedExecutes(portal: String, columns: [RowDescription.Column]) {
        for unit in self.pending {
            if case .execute(let inFlight) = unit, (inFlight.query.portalName ?? "") == portal {
                inFlight.columns = columns
                return
            }
        }
    }

    /// CommandComplete, EmptyQueryResponse or PortalSuspended: one statement is done.
    private mutating func endStatement(tag: String?, now: Date, monotonic: UInt64) {
        switch self.activate() {
        case .simple(let inFlight):
            var builder =
                inFlight.current
                ?? ResultSetBuilder(columns: nil, resultFormats: [], maxRows: self.maxRows)
            inFlight.finished.append(builder.finish(commandTag: tag))
            inFlight.current = nil
            inFlight.columns = nil
        case .execute(let inFlight):
            var builder =
                inFlight.current
                ?? ResultSetBuilder(columns: inFlight.columns, resultFormats: inFlight.resultFormats, maxRows: self.maxRows)
            inFlight.finished.append(builder.finish(commandTag: tag))
            inFlight.current = nil
            self.active = nil
            self.complete(inFlight, now: now, monotonic: monotonic)
        default:
            self.active = nil
        }
    }

    private mutating func error(_ error: RecordedError, now: Date, monotonic: UInt64) {
        let unit = self.activate()
        self.active = nil
        switch unit {
        case .simple(let inFlight):
            Self.keepPartialRows(of: inFlight)
            inFlight.error = error
            // The rest of a multi-statement query is not run; ReadyForQuery follows.
            self.active = unit
        case .execute(let inFlight):
            Self.keepPartialRows(of: inFlight)
            inFlight.error = error
            self.complete(inFlight, now: now, monotonic: monotonic)
            self.skipUntilSync(after: error, now: now, monotonic: monotonic)
        case .parse(_, let statement):
            self.failedBeforeExecute(error, sql: statement.sql, redacted: statement.redacted, now: now, monotonic: monotonic)
        case .bind, .describe, .close:
            self.failedBeforeExecute(error, sql: nil, redacted: false, now: now, monotonic: monotonic)
        case .sync, .functionCall:
            // An error at Sync (a deferred constraint at commit) belongs to no single query.
            self.active = unit
            self.outputs.append(.notice(error))
        case nil:
            // Errors with nothing pending: FATAL at shutdown, idle-session timeout, a terminated backend.
            self.outputs.append(.notice(error))
        }
    }

    /// A statement that failed after sending rows keeps them (e.g. a division by zero on row 3).
    private static func keepPartialRows(of inFlight: InFlight) {
        guard var builder = inFlight.current else { return }
        let partial = builder.finish(commandTag: nil)
        if partial.rowCount > 0 || !partial.columns.isEmpty { inFlight.finished.append(partial) }
        inFlight.current = nil
    }

    /// An error at Parse, Bind or Describe: the next Execute in the same pipeline carries it; if there is none,
    /// the failed statement is recorded on its own so an audit still sees it.
    private mutating func failedBeforeExecute(
        _ error: RecordedError, sql: String?, redacted: Bool, now: Date, monotonic: UInt64
    ) {
        for index in self.pending.indices {
            if case .sync = self.pending[index] { break }
            if case .execute(let inFlight) = self.pending[index] {
                self.pending.remove(at: index)
                inFlight.error = error
                self.complete(inFlight, now: now, monotonic: monotonic)
                self.skipUntilSync(after: error, now: now, monotonic: monotonic)
                return
            }
        }
        if let sql {
            var query = self.newQuery(sql: sql, alreadyRedacted: redacted)
            query.queryProtocol = .extended
            self.outputs.append(.query(query, at: now))
            let inFlight = InFlight(query: query, started: monotonic)
            inFlight.error = error
            self.complete(inFlight, now: now, monotonic: monotonic)
        } else {
            self.outputs.append(.notice(error))
        }
        self.skipUntilSync(after: error, now: now, monotonic: monotonic)
    }

    /// Drops pending units up to the next Sync; queued Executes are recorded as not run.
    private mutating func skipUntilSync(after error: RecordedError, now: Date, monotonic: UInt64) {
        while let unit = self.pending.first {
            if case .sync = unit { return }
            self.pending.removeFirst()
            if case .execute(let inFlight) = unit {
                var skipped = error
                skipped.detail = RecordedError.notExecutedDetail
                inFlight.error = skipped
                self.complete(inFlight, now: now, monotonic: monotonic)
            }
        }
    }

    private mutating func readyForQuery(_ state: TransactionState, now: Date, monotonic: UInt64) throws {
        // ReadyForQuery ends a simple query, a function call, or a Sync.
        while let unit = self.activate() {
            self.active = nil
            switch unit {
            case .simple(let inFlight):
                self.complete(inFlight, now: now, monotonic: monotonic)
            case .sync, .functionCall:
                break
            case .execute(let inFlight):
                // Should not happen (the server answers Execute before Sync); record rather than lose it.
                self.complete(inFlight, now: now, monotonic: monotonic)
                continue
            default:
                continue
            }
            break
        }
        self.outputs.append(.transactionState(state))
    }

    private mutating func complete(_ inFlight: InFlight, now: Date, monotonic: UInt64) {
        if var builder = inFlight.current {
            inFlight.finished.append(builder.finish(commandTag: nil))
        }
        let last = inFlight.finished.last ?? RecordedResultSet()
        var result = RecordedResult(
            queryNumber: inFlight.query.queryNumber, result: last,
            resultSets: inFlight.finished.count > 1 ? inFlight.finished : nil, error: inFlight.error,
            notices: inFlight.notices.isEmpty ? nil : inFlight.notices,
            durationMS: Double(monotonic &- inFlight.started) / 1_000_000)
        if var copyIn = inFlight.copyIn {
            copyIn.finish()
            result.copyData = copyIn.chunks
            result.copyDataEncoding = copyIn.encoding
            result.copyDataTruncated = copyIn.truncated
        }
        self.outputs.append(.result(result, at: now))
    }

    private mutating func interrupt(_ unit: Unit, reason: String, now: Date, monotonic: UInt64) {
        switch unit {
        case .simple(let inFlight), .execute(let inFlight):
            // A server's own FATAL (57P01 terminated, 57P03 ...) explains the end better than ours: keep it.
            guard inFlight.error == nil else {
                self.complete(inFlight, now: now, monotonic: monotonic)
                return
            }
            inFlight.error = RecordedError(
                severity: "FATAL", code: "08006", message: "session ended before the query finished: \(reason)")
            self.complete(inFlight, now: now, monotonic: monotonic)
        default:
            break
        }
    }
}

extension ByteBuffer {
    /// True when the readable bytes are exactly `bytes` (one memcmp).
    fileprivate func hasSameBytes(as bytes: [UInt8]) -> Bool {
        guard self.readableBytes == bytes.count else { return false }
        guard !bytes.isEmpty else { return true }
        return self.withUnsafeReadableBytes { mine in
            bytes.withUnsafeBytes { theirs in memcmp(mine.baseAddress!, theirs.baseAddress!, bytes.count) == 0 }
        }
    }
}

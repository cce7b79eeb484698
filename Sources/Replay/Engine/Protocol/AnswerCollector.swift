import NIOCore
import ProxyEngine

/// Reads the target's answer to one query, message by message, up to its ReadyForQuery: the replayed result (in
/// the recorder's shape, `ReplayedResultBuilder`) and what the cycle set up (a statement parsed, a portal
/// suspended, the transaction state). Pure: the executor feeds it each backend message and acts on what it says.
struct AnswerCollector {
    /// What one ReadyForQuery cycle brought besides the result.
    struct Cycle: Sendable, Equatable {
        var parseCompleted = false
        var portalSuspended = false
        var transactionState: TransactionState = .idle
        /// When the last statement of the answer ended (CommandComplete, EmptyQueryResponse, PortalSuspended or
        /// ErrorResponse arrived), and when ReadyForQuery did: the recorder ends an extended query at the former
        /// and a simple one at the latter, and replay measures the same span (`end(extended:)`).
        var statementEnded: ContinuousClock.Instant?
        var ready: ContinuousClock.Instant?
        /// The server ended the session in this answer (an ErrorResponse of severity FATAL or PANIC, then the
        /// connection closed): there is no ReadyForQuery, and nothing more can be sent.
        var serverEnded = false

        /// Where the query's duration ends, as the recorder ends it.
        func end(extended: Bool) -> ContinuousClock.Instant? {
            extended ? self.statementEnded ?? self.ready : self.ready
        }
    }

    /// What the executor does after a message.
    enum Progress: Equatable {
        /// Read the next message.
        case more
        /// The server asks for COPY data (CopyInResponse): send it (or CopyFail), then read on.
        case sendCopyData
        /// ReadyForQuery: the answer is complete.
        case done(Cycle)
    }

    private(set) var builder: ReplayedResultBuilder
    private var cycle = Cycle()
    /// An ErrorResponse of severity FATAL or PANIC came: the server closes the connection after it.
    private var fatal = false

    init(keepRows: Int) {
        self.builder = ReplayedResultBuilder(keepRows: keepRows)
    }

    /// One backend message of the answer, read at `arrived`. Throws when the server sent a message that does not
    /// decode.
    mutating func received(_ message: RawMessage, at arrived: ContinuousClock.Instant? = nil) throws -> Progress {
        switch message.id {
        case BackendMessageID.commandComplete, BackendMessageID.emptyQueryResponse, BackendMessageID.portalSuspended,
            BackendMessageID.errorResponse:
            self.cycle.statementEnded = arrived
        default:
            break
        }
        switch message.id {
        case BackendMessageID.rowDescription:
            self.builder.rowDescription(try RowDescription.decode(from: message.payload))
        case BackendMessageID.dataRow:
            try self.builder.dataRow(message.payload)
        case BackendMessageID.commandComplete:
            self.builder.endStatement(tag: try CommandComplete.tag(of: message.payload))
        case BackendMessageID.emptyQueryResponse:
            self.builder.endStatement(tag: nil)
        case BackendMessageID.portalSuspended:
            self.builder.endStatement(tag: nil)
            self.cycle.portalSuspended = true
        case BackendMessageID.errorResponse:
            let error = try ErrorFields.decode(from: message.payload).recorded
            self.fatal = self.fatal || Self.endsTheSession(error)
            self.builder.error(error)
        case BackendMessageID.noticeResponse:
            self.builder.notice(try ErrorFields.decode(from: message.payload).recorded)
        case BackendMessageID.copyInResponse:
            return .sendCopyData
        case BackendMessageID.copyOutResponse, BackendMessageID.copyBothResponse:
            self.builder.copyOut()
        case BackendMessageID.copyData:
            self.builder.copyData(message.payload)
        case BackendMessageID.parseComplete:
            self.cycle.parseCompleted = true
        case BackendMessageID.readyForQuery:
            self.cycle.transactionState = try ReadyForQuery.state(of: message.payload)
            self.cycle.ready = arrived
            return .done(self.cycle)
        default:
            // BindComplete, CloseComplete, NoData, ParameterDescription, CopyDone, ParameterStatus,
            // NotificationResponse: nothing to collect.
            break
        }
        return .more
    }

    /// The connection closed before ReadyForQuery: the answer is complete when the server said why first (a FATAL
    /// such as 57P01 after pg_terminate_backend), which a recording of a session the server ended holds too; nil
    /// when the connection was lost with no word (the replay then stops with "lost the connection").
    mutating func connectionClosed() -> Cycle? {
        guard self.fatal else { return nil }
        self.cycle.serverEnded = true
        return self.cycle
    }

    /// FATAL and PANIC end the session (`V`, the non-localized severity, where the server sends it).
    static func endsTheSession(_ error: RecordedError) -> Bool {
        error.severity == "FATAL" || error.severity == "PANIC"
    }

    /// The replayed result so far (complete once `received` said `.done`).
    func result(queryNumber: Int, durationMS: Double) -> RecordedResult {
        self.builder.result(queryNumber: queryNumber, durationMS: durationMS)
    }
}

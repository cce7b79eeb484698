import Foundation
import ProxyEngine

/// One client connection as the Connections pane shows it.
public struct SessionRow: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case authenticating
        case idle
        case active
        case idleInTransaction
        /// In a transaction that failed (`idle in transaction (aborted)` in pg_stat_activity).
        case failedTransaction
        case closed
        /// Refused at startup, with the SQLSTATE the client got.
        case refused(code: String)

        public var label: String {
            switch self {
            case .authenticating: return "authenticating"
            case .idle: return "idle"
            case .active: return "active"
            case .idleInTransaction: return "idle in transaction"
            case .failedTransaction: return "idle in tx (aborted)"
            case .closed: return "closed"
            case .refused(let code): return "refused \(code)"
            }
        }

        public var isOpen: Bool {
            switch self {
            case .closed, .refused: return false
            default: return true
            }
        }
    }

    public var id: String
    /// The short number shown as `#n`, in order of arrival.
    public var number: Int
    public var clientAddress: String
    public var pseudoUser: String?
    public var realUser: String?
    public var database: String?
    public var applicationName: String?
    public var backendProcessID: Int32?
    public var recordingPath: String?
    public var openedAt: Date
    public var closedAt: Date?
    public var closeReason: String?
    /// The highest query number seen (the session's query count).
    public var queryCount: Int
    /// Queries sent and not answered yet.
    public var running: Int
    /// What the last ReadyForQuery said.
    public var transaction: TransactionState
    public var authenticated: Bool
    public var refusedCode: String?
    /// A connection that only carried a cancel request: not a session, it leaves as soon as it closes.
    public var isCancelRequest: Bool

    public init(id: String, number: Int, clientAddress: String, openedAt: Date) {
        self.id = id
        self.number = number
        self.clientAddress = clientAddress
        self.openedAt = openedAt
        self.queryCount = 0
        self.running = 0
        self.transaction = .idle
        self.authenticated = false
        self.isCancelRequest = false
    }

    public var label: String { "#\(self.number)" }

    public var state: State {
        if let code = self.refusedCode { return .refused(code: code) }
        if self.closedAt != nil { return .closed }
        if !self.authenticated { return .authenticating }
        if self.running > 0 { return .active }
        switch self.transaction {
        case .idle: return .idle
        case .inTransaction: return .idleInTransaction
        case .failed: return .failedTransaction
        }
    }

    /// `pseudo → real`, or what is known so far.
    public var users: String {
        switch (self.pseudoUser, self.realUser) {
        case (let pseudo?, let real?): return "\(pseudo) → \(real)"
        case (let pseudo?, nil): return pseudo
        default: return "?"
        }
    }
}

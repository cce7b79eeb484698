import Foundation

/// Something that happened in the proxy, published live to the dashboard and the headless log.
///
/// The engine only publishes; it never knows who listens. Session-file events travel inside `.recorded`,
/// so listeners see exactly what was written to the file.
public struct ProxyEvent: Sendable {
    public var sessionID: String
    public var time: Date
    public var kind: Kind

    public init(sessionID: String, time: Date = Date(), kind: Kind) {
        self.sessionID = sessionID
        self.time = time
        self.kind = kind
    }

    /// Indirect: an event is copied several times on its way to a listener (bus, inbox, reducer), and a boxed
    /// payload makes each copy one retain instead of one per field of the session event it carries.
    public indirect enum Kind: Sendable {
        /// A client connected; nothing is known about it yet.
        case connectionOpened(clientAddress: String)
        /// The startup message named a pseudo user.
        case authenticating(pseudoUser: String, database: String)
        /// The client authenticated and the upstream session is up.
        case connected(ConnectedInfo)
        /// The client was refused (bad password, unknown user, upstream down ...).
        case refused(pseudoUser: String?, error: RecordedError)
        /// A session file was opened.
        case recordingStarted(path: String)
        /// An event as written to the session file.
        case recorded(SessionEvent)
        /// ReadyForQuery told the transaction state.
        case transactionState(TransactionState)
        /// A NoticeResponse outside a query, or an asynchronous NotificationResponse.
        case notice(RecordedError)
        case notification(channel: String, payload: String, processID: Int32)
        /// A cancel request arrived and was forwarded (or refused).
        case cancelRequested(forwarded: Bool)
        /// The session ended; `reason` says why in words.
        case connectionClosed(reason: String)
        /// Recording failed for this session (disk full, permissions ...).
        case recordingFailed(message: String)
    }

    /// Rare events an operator must see even with `--quiet`: refused clients and recording failures.
    public var isProblem: Bool { self.kind.isProblem }

    public struct ConnectedInfo: Sendable, Equatable {
        public var pseudoUser: String
        public var realUser: String
        public var database: String
        public var upstreamHost: String
        public var upstreamPort: Int
        public var clientAddress: String
        public var backendProcessID: Int32

        public init(
            pseudoUser: String, realUser: String, database: String, upstreamHost: String, upstreamPort: Int,
            clientAddress: String, backendProcessID: Int32
        ) {
            self.pseudoUser = pseudoUser
            self.realUser = realUser
            self.database = database
            self.upstreamHost = upstreamHost
            self.upstreamPort = upstreamPort
            self.clientAddress = clientAddress
            self.backendProcessID = backendProcessID
        }
    }
}

extension ProxyEvent.Kind {
    public var isProblem: Bool {
        switch self {
        case .refused, .recordingFailed: return true
        default: return false
        }
    }
}

/// The transaction status byte of ReadyForQuery.
public enum TransactionState: UInt8, Sendable, Equatable {
    case idle = 0x49  // 'I'
    case inTransaction = 0x54  // 'T'
    case failed = 0x45  // 'E'
}

import Foundation

/// One entry of a session file: `{"type": ..., "timestamp": ..., "data": {...}}`.
///
/// The three types and their field names come from the seed's format and never change meaning;
/// newer fields are only ever added (see docs/session-format.md).
public struct SessionEvent: Sendable, Equatable {
    public var timestamp: Date
    public var payload: Payload

    /// Indirect for the same reason as `SessionTracker.Output`: events are queued and handed between threads, and
    /// a boxed payload moves as one reference.
    public indirect enum Payload: Sendable, Equatable {
        case activity(SessionActivity)
        case query(RecordedQuery)
        case result(RecordedResult)
    }

    public init(timestamp: Date, payload: Payload) {
        self.timestamp = timestamp
        self.payload = payload
    }

    /// The `type` string written to the file.
    public var typeName: String {
        switch self.payload {
        case .activity: return "session_activity"
        case .query: return "query"
        case .result: return "query_result"
        }
    }
}

/// `session_activity`: session_start, connection, session_end (and room for more activities).
public struct SessionActivity: Sendable, Equatable {
    public var activity: String
    public var details: ActivityDetails

    public init(activity: String, details: ActivityDetails) {
        self.activity = activity
        self.details = details
    }

    public static let sessionStart = "session_start"
    public static let connection = "connection"
    public static let sessionEnd = "session_end"
}

/// The `details` object of a session_activity event. Absent fields are omitted from the file.
public struct ActivityDetails: Sendable, Equatable {
    // session_start
    public var sessionID: String?
    public var pseudoUser: String?
    public var startTime: Date?
    public var formatVersion: Int?
    public var proxyVersion: String?
    public var clientAddress: String?
    public var applicationName: String?
    // connection
    public var realUser: String?
    public var database: String?
    public var realDBHost: String?
    public var realDBPort: String?
    // session_end
    public var reason: String?
    public var endTime: Date?
    public var durationMS: Double?
    public var queryCount: Int?

    public init(
        sessionID: String? = nil, pseudoUser: String? = nil, startTime: Date? = nil, formatVersion: Int? = nil,
        proxyVersion: String? = nil, clientAddress: String? = nil, applicationName: String? = nil,
        realUser: String? = nil, database: String? = nil, realDBHost: String? = nil, realDBPort: String? = nil,
        reason: String? = nil, endTime: Date? = nil, durationMS: Double? = nil, queryCount: Int? = nil
    ) {
        self.sessionID = sessionID
        self.pseudoUser = pseudoUser
        self.startTime = startTime
        self.formatVersion = formatVersion
        self.proxyVersion = proxyVersion
        self.clientAddress = clientAddress
        self.applicationName = applicationName
        self.realUser = realUser
        self.database = database
        self.realDBHost = realDBHost
        self.realDBPort = realDBPort
        self.reason = reason
        self.endTime = endTime
        self.durationMS = durationMS
        self.queryCount = queryCount
    }
}

/// How a query reached the server: one Query message, or Parse/Bind/Execute of the extended protocol.
public enum QueryProtocol: String, Sendable, Equatable, Codable {
    case simple
    case extended
}

/// A bound parameter of an extended-protocol query. Binary values are kept as base64 so they re-bind exactly.
public struct RecordedParameter: Sendable, Equatable {
    public enum Format: String, Sendable, Equatable, Codable {
        case text
        case binary
    }

    /// nil is SQL NULL.
    public var value: String?
    public var format: Format

    public init(value: String?, format: Format) {
        self.value = value
        self.format = format
    }
}

/// `query`: what the client asked, numbered from 1 within the session.
public struct RecordedQuery: Sendable, Equatable {
    public var queryNumber: Int
    public var sql: String
    public var queryProtocol: QueryProtocol
    /// Extended protocol only: the prepared statement ("" for the unnamed one) and portal names.
    public var statementName: String?
    public var portalName: String?
    public var parameters: [RecordedParameter]?
    /// Parameter type OIDs given in Parse (0 = let the server infer).
    public var parameterTypes: [UInt32]?
    /// Result column format codes requested in Bind (0 text, 1 binary).
    public var resultFormats: [Int16]?
    /// Execute's row limit when it was not 0 (the portal may then be resumed).
    public var maxRows: Int32?
    /// True when a literal password was masked in `sql`.
    public var redacted: Bool

    public init(
        queryNumber: Int, sql: String, queryProtocol: QueryProtocol = .simple, statementName: String? = nil,
        portalName: String? = nil, parameters: [RecordedParameter]? = nil, parameterTypes: [UInt32]? = nil,
        resultFormats: [Int16]? = nil, maxRows: Int32? = nil, redacted: Bool = false
    ) {
        self.queryNumber = queryNumber
        self.sql = sql
        self.queryProtocol = queryProtocol
        self.statementName = statementName
        self.portalName = portalName
        self.parameters = parameters
        self.parameterTypes = parameterTypes
        self.resultFormats = resultFormats
        self.maxRows = maxRows
        self.redacted = redacted
    }
}

/// The fields of an ErrorResponse or NoticeResponse that a reader of a session cares about.
public struct RecordedError: Sendable, Equatable {
    public var severity: String
    public var code: String
    public var message: String
    public var detail: String?
    public var hint: String?
    public var position: String?

    public init(
        severity: String, code: String, message: String, detail: String? = nil, hint: String? = nil,
        position: String? = nil
    ) {
        self.severity = severity
        self.code = code
        self.message = message
        self.detail = detail
        self.hint = hint
        self.position = position
    }
}

extension RecordedError {
    /// The detail the recorder gives an Execute that the server skipped because an earlier message of its pipeline
    /// failed (the server discards everything up to Sync): the session file's way of saying "not executed", which
    /// replay reads to leave such a query out as the server did.
    public static let notExecutedDetail = "not executed: an earlier message of the same pipeline failed"

    /// Whether this error records a query the server never ran (see `notExecutedDetail`).
    public var isNotExecuted: Bool { self.detail == Self.notExecutedDetail }
}

/// How `copy_data` is written (`copy_data_encoding`): absent for UTF-8 text as it was sent.
public enum CopyDataEncoding: String, Sendable, Equatable {
    /// The data was not UTF-8: every chunk is the base64 of the bytes received.
    case base64
}

/// One result set: a RowDescription (maybe none), its DataRows and the CommandComplete tag.
public struct RecordedResultSet: Sendable, Equatable {
    public var columns: [String]
    /// Type OIDs of the columns, parallel to `columns`.
    public var columnTypes: [UInt32]
    /// Values as the server sent them in text format; binary-format values as base64; SQL NULL as nil.
    public var rows: [[String?]]
    /// Every row the server sent, even when `rows` keeps only the first ones.
    public var rowCount: Int
    public var commandTag: String?
    /// True when `rows` holds only the first `--max-recorded-rows` rows.
    public var rowsTruncated: Bool
    /// "sha256:<hex>" over every DataRow payload in order, when rows were truncated.
    public var rowsDigest: String?

    public init(
        columns: [String] = [], columnTypes: [UInt32] = [], rows: [[String?]] = [], rowCount: Int = 0,
        commandTag: String? = nil, rowsTruncated: Bool = false, rowsDigest: String? = nil
    ) {
        self.columns = columns
        self.columnTypes = columnTypes
        self.rows = rows
        self.rowCount = rowCount
        self.commandTag = commandTag
        self.rowsTruncated = rowsTruncated
        self.rowsDigest = rowsDigest
    }
}

/// `query_result`: how the query ended.
///
/// The top-level columns/rows/tag describe the last result set (what psql shows). When a simple query held
/// several statements, `resultSets` lists every one of them in order.
public struct RecordedResult: Sendable, Equatable {
    public var queryNumber: Int
    public var result: RecordedResultSet
    public var resultSets: [RecordedResultSet]?
    public var error: RecordedError?
    public var notices: [RecordedError]?
    public var durationMS: Double
    /// COPY FROM STDIN: the data the client sent, as text chunks (base64 when not UTF-8).
    public var copyData: [String]?
    public var copyDataEncoding: CopyDataEncoding?
    public var copyDataTruncated: Bool

    public init(
        queryNumber: Int, result: RecordedResultSet = RecordedResultSet(), resultSets: [RecordedResultSet]? = nil,
        error: RecordedError? = nil, notices: [RecordedError]? = nil, durationMS: Double = 0,
        copyData: [String]? = nil, copyDataEncoding: CopyDataEncoding? = nil, copyDataTruncated: Bool = false
    ) {
        self.queryNumber = queryNumber
        self.result = result
        self.resultSets = resultSets
        self.error = error
        self.notices = notices
        self.durationMS = durationMS
        self.copyData = copyData
        self.copyDataEncoding = copyDataEncoding
        self.copyDataTruncated = copyDataTruncated
    }
}

/// The version of the session file format written by this build (docs/session-format.md).
public let sessionFormatVersion = 1

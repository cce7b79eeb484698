/// Type bytes of the PostgreSQL protocol v3 messages pgreel looks at. Everything else passes through untouched.
public enum FrontendMessageID {
    public static let bind = UInt8(ascii: "B")
    public static let close = UInt8(ascii: "C")
    public static let copyData = UInt8(ascii: "d")
    public static let copyDone = UInt8(ascii: "c")
    public static let copyFail = UInt8(ascii: "f")
    public static let describe = UInt8(ascii: "D")
    public static let execute = UInt8(ascii: "E")
    public static let flush = UInt8(ascii: "H")
    public static let functionCall = UInt8(ascii: "F")
    public static let parse = UInt8(ascii: "P")
    /// PasswordMessage, SASLInitialResponse and SASLResponse share this byte.
    public static let password = UInt8(ascii: "p")
    public static let query = UInt8(ascii: "Q")
    public static let sync = UInt8(ascii: "S")
    public static let terminate = UInt8(ascii: "X")
}

public enum BackendMessageID {
    public static let authentication = UInt8(ascii: "R")
    public static let backendKeyData = UInt8(ascii: "K")
    public static let bindComplete = UInt8(ascii: "2")
    public static let closeComplete = UInt8(ascii: "3")
    public static let commandComplete = UInt8(ascii: "C")
    public static let copyBothResponse = UInt8(ascii: "W")
    public static let copyData = UInt8(ascii: "d")
    public static let copyDone = UInt8(ascii: "c")
    public static let copyInResponse = UInt8(ascii: "G")
    public static let copyOutResponse = UInt8(ascii: "H")
    public static let dataRow = UInt8(ascii: "D")
    public static let emptyQueryResponse = UInt8(ascii: "I")
    public static let errorResponse = UInt8(ascii: "E")
    public static let functionCallResponse = UInt8(ascii: "V")
    public static let negotiateProtocolVersion = UInt8(ascii: "v")
    public static let noData = UInt8(ascii: "n")
    public static let noticeResponse = UInt8(ascii: "N")
    public static let notificationResponse = UInt8(ascii: "A")
    public static let parameterDescription = UInt8(ascii: "t")
    public static let parameterStatus = UInt8(ascii: "S")
    public static let parseComplete = UInt8(ascii: "1")
    public static let portalSuspended = UInt8(ascii: "s")
    public static let readyForQuery = UInt8(ascii: "Z")
    public static let rowDescription = UInt8(ascii: "T")
}

/// Message size limits, as PostgreSQL's own (src/include/libpq/pqcomm.h and postgres.c).
public enum MessageLimits {
    /// PQ_LARGE_MESSAGE_LIMIT: the largest message any side may send (1 GB - 1).
    public static let large = 0x3FFF_FFFF
    /// PQ_SMALL_MESSAGE_LIMIT: frontend messages that never carry data (Sync, Execute, Describe ...).
    public static let small = 10_000
    /// MAX_STARTUP_PACKET_LENGTH.
    public static let startupPacket = 10_000
    /// PG_MAX_AUTH_TOKEN_LENGTH: a password or SASL message.
    public static let authToken = 65_535

    /// The limit PostgreSQL applies to a frontend message of this type.
    @inlinable
    public static func frontendLimit(for id: UInt8) -> Int {
        switch id {
        case FrontendMessageID.query, FrontendMessageID.functionCall, FrontendMessageID.bind,
            FrontendMessageID.parse, FrontendMessageID.copyData, FrontendMessageID.copyFail:
            return Self.large
        case FrontendMessageID.password:
            return Self.authToken
        default:
            return Self.small
        }
    }
}

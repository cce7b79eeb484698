/// A parsed JSON value (RFC 8259), typed so that reading a session file needs no `Any`, no dynamic casts and no
/// Foundation bridging: a boolean is never mistaken for the number 0 or 1, and a number keeps its literal text.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// Parses one JSON document (`JSONParser.parse`).
    public init(parsing bytes: [UInt8], maximumDepth: Int = JSONParser.defaultMaximumDepth) throws(JSONParseError) {
        self = try JSONParser.parse(bytes, maximumDepth: maximumDepth)
    }

    public var isNull: Bool {
        if case .null = self {
            return true
        }
        return false
    }
}

import NIOCore

/// The fields of an ErrorResponse or NoticeResponse ('S' severity, 'C' code, 'M' message, ...).
public struct ErrorFields: Sendable, Equatable {
    public var fields: [UInt8: String]

    public init(fields: [UInt8: String]) {
        self.fields = fields
    }

    public init(severity: String, code: String, message: String, detail: String? = nil, hint: String? = nil) {
        var fields: [UInt8: String] = [
            UInt8(ascii: "S"): severity, UInt8(ascii: "V"): severity, UInt8(ascii: "C"): code,
            UInt8(ascii: "M"): message,
        ]
        if let detail { fields[UInt8(ascii: "D")] = detail }
        if let hint { fields[UInt8(ascii: "H")] = hint }
        self.fields = fields
    }

    public var severity: String { self.fields[UInt8(ascii: "V")] ?? self.fields[UInt8(ascii: "S")] ?? "ERROR" }
    public var code: String { self.fields[UInt8(ascii: "C")] ?? "XX000" }
    public var message: String { self.fields[UInt8(ascii: "M")] ?? "" }
    public var detail: String? { self.fields[UInt8(ascii: "D")] }
    public var hint: String? { self.fields[UInt8(ascii: "H")] }
    public var position: String? { self.fields[UInt8(ascii: "P")] }

    public var recorded: RecordedError {
        RecordedError(
            severity: self.severity, code: self.code, message: self.message, detail: self.detail, hint: self.hint,
            position: self.position)
    }

    public static func decode(from payload: ByteBuffer) throws -> ErrorFields {
        var payload = payload
        var fields: [UInt8: String] = [:]
        while let type = payload.readInteger(as: UInt8.self), type != 0 {
            guard let value = payload.readCString() else {
                throw ProtocolViolation("malformed error or notice message")
            }
            fields[type] = value
        }
        return ErrorFields(fields: fields)
    }

    /// Writes a complete ErrorResponse ('E') or NoticeResponse ('N'), fields in a stable order.
    public func encode(into buffer: inout ByteBuffer, id: UInt8 = BackendMessageID.errorResponse) {
        buffer.writeMessage(id: id) { body in
            for type in self.fields.keys.sorted() {
                body.writeInteger(type)
                body.writeCString(self.fields[type]!)
            }
            body.writeInteger(UInt8(0))
        }
    }
}

extension ErrorFields {
    /// FATAL errors the proxy itself sends, worded as PostgreSQL words them.
    public static func fatal(_ code: String, _ message: String, detail: String? = nil, hint: String? = nil)
        -> ErrorFields
    {
        ErrorFields(severity: "FATAL", code: code, message: message, detail: detail, hint: hint)
    }

    public static func passwordFailed(user: String) -> ErrorFields {
        .fatal("28P01", "password authentication failed for user \"\(user)\"")
    }

    public static func unknownRole(_ user: String) -> ErrorFields {
        .fatal("28000", "role \"\(user)\" does not exist")
    }

    public static func protocolViolation(_ message: String) -> ErrorFields {
        .fatal("08P01", message)
    }
}

import NIOCore

/// Query ('Q'): a simple-protocol query string, possibly several statements.
public enum QueryMessage {
    public static func sql(of payload: ByteBuffer) throws -> String {
        var payload = payload
        guard let sql = payload.readCString() else { throw ProtocolViolation("invalid string in message") }
        return sql
    }

    public static func encode(_ sql: String, into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: FrontendMessageID.query) { $0.writeCString(sql) }
    }
}

/// Parse ('P'): prepares `sql` as statement `name` ("" is the unnamed statement).
public struct ParseMessage: Sendable, Equatable {
    public var name: String
    public var sql: String
    public var parameterTypes: [UInt32]

    public init(name: String, sql: String, parameterTypes: [UInt32]) {
        self.name = name
        self.sql = sql
        self.parameterTypes = parameterTypes
    }

    public static func decode(from payload: ByteBuffer) throws -> ParseMessage {
        var payload = payload
        guard let name = payload.readCString(), let sql = payload.readCString(),
            let count = payload.readInteger(as: Int16.self), count >= 0
        else { throw ProtocolViolation("malformed Parse message") }
        var types: [UInt32] = []
        types.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let oid = payload.readInteger(as: UInt32.self) else { throw ProtocolViolation("malformed Parse message") }
            types.append(oid)
        }
        return ParseMessage(name: name, sql: sql, parameterTypes: types)
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: FrontendMessageID.parse) { body in
            body.writeCString(self.name)
            body.writeCString(self.sql)
            body.writeInteger(Int16(self.parameterTypes.count))
            for oid in self.parameterTypes { body.writeInteger(oid) }
        }
    }
}

/// Bind ('B'): binds parameter values to a prepared statement, creating portal `portal`.
public struct BindMessage: Sendable, Equatable {
    public var portal: String
    public var statement: String
    /// Format codes as sent: empty (all text), one (applies to all), or one per parameter.
    public var parameterFormats: [Int16]
    /// nil is SQL NULL.
    public var parameters: [[UInt8]?]
    public var resultFormats: [Int16]

    public init(
        portal: String, statement: String, parameterFormats: [Int16], parameters: [[UInt8]?],
        resultFormats: [Int16]
    ) {
        self.portal = portal
        self.statement = statement
        self.parameterFormats = parameterFormats
        self.parameters = parameters
        self.resultFormats = resultFormats
    }

    /// The format of parameter `index` after applying the protocol's shorthand rules.
    public func format(ofParameter index: Int) -> Int16 {
        switch self.parameterFormats.count {
        case 0: return 0
        case 1: return self.parameterFormats[0]
        default: return index < self.parameterFormats.count ? self.parameterFormats[index] : 0
        }
    }

    public static func decode(from payload: ByteBuffer) throws -> BindMessage {
        var payload = payload
        let malformed = ProtocolViolation("malformed Bind message")
        guard let portal = payload.readCString(), let statement = payload.readCString(),
            let formatCount = payload.readInteger(as: Int16.self), formatCount >= 0
        else { throw malformed }
        var formats: [Int16] = []
        for _ in 0..<formatCount {
            guard let format = payload.readInteger(as: Int16.self) else { throw malformed }
            formats.append(format)
        }
        guard let valueCount = payload.readInteger(as: Int16.self), valueCount >= 0 else { throw malformed }
        var values: [[UInt8]?] = []
        values.reserveCapacity(Int(valueCount))
        for _ in 0..<valueCount {
            guard let length = payload.readInteger(as: Int32.self) else { throw malformed }
            if length < 0 {
                values.append(nil)
            } else {
                guard let bytes = payload.readBytes(length: Int(length)) else { throw malformed }
                values.append(bytes)
            }
        }
        guard let resultCount = payload.readInteger(as: Int16.self), resultCount >= 0 else { throw malformed }
        var resultFormats: [Int16] = []
        for _ in 0..<resultCount {
            guard let format = payload.readInteger(as: Int16.self) else { throw malformed }
            resultFormats.append(format)
        }
        return BindMessage(
            portal: portal, statement: statement, parameterFormats: formats, parameters: values,
            resultFormats: resultFormats)
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: FrontendMessageID.bind) { body in
            body.writeCString(self.portal)
            body.writeCString(self.statement)
            body.writeInteger(Int16(self.parameterFormats.count))
            for format in self.parameterFormats { body.writeInteger(format) }
            body.writeInteger(Int16(self.parameters.count))
            for value in self.parameters {
                if let value {
                    body.writeInteger(Int32(value.count))
                    body.writeBytes(value)
                } else {
                    body.writeInteger(Int32(-1))
                }
            }
            body.writeInteger(Int16(self.resultFormats.count))
            for format in self.resultFormats { body.writeInteger(format) }
        }
    }
}

/// Execute ('E'): runs a portal, returning at most `maxRows` rows (0 = all).
public struct ExecuteMessage: Sendable, Equatable {
    public var portal: String
    public var maxRows: Int32

    public init(portal: String, maxRows: Int32 = 0) {
        self.portal = portal
        self.maxRows = maxRows
    }

    public static func decode(from payload: ByteBuffer) throws -> ExecuteMessage {
        var payload = payload
        guard let portal = payload.readCString(), let maxRows = payload.readInteger(as: Int32.self) else {
            throw ProtocolViolation("malformed Execute message")
        }
        return ExecuteMessage(portal: portal, maxRows: maxRows)
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: FrontendMessageID.execute) { body in
            body.writeCString(self.portal)
            body.writeInteger(self.maxRows)
        }
    }
}

/// Close ('C') and Describe ('D') name a statement ('S') or a portal ('P').
public struct TargetedMessage: Sendable, Equatable {
    public enum Target: UInt8, Sendable {
        case statement = 0x53  // 'S'
        case portal = 0x50  // 'P'
    }

    public var target: Target
    public var name: String

    public init(target: Target, name: String) {
        self.target = target
        self.name = name
    }

    public static func decode(from payload: ByteBuffer) throws -> TargetedMessage {
        var payload = payload
        guard let byte = payload.readInteger(as: UInt8.self), let target = Target(rawValue: byte),
            let name = payload.readCString()
        else { throw ProtocolViolation("malformed Close or Describe message") }
        return TargetedMessage(target: target, name: name)
    }

    public func encode(id: UInt8, into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: id) { body in
            body.writeInteger(self.target.rawValue)
            body.writeCString(self.name)
        }
    }
}

/// Messages without a body.
public enum EmptyMessage {
    public static func encode(id: UInt8, into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: id) { _ in }
    }
}

import NIOCore

/// DataRow ('D'): one row, each value length-prefixed (-1 for SQL NULL).
public enum DataRow {
    /// The values as slices of the payload (no copy); nil is SQL NULL.
    public static func values(of payload: ByteBuffer) throws -> [ByteBuffer?] {
        var payload = payload
        guard let count = payload.readInteger(as: Int16.self), count >= 0 else {
            throw ProtocolViolation("malformed DataRow")
        }
        var values: [ByteBuffer?] = []
        values.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let length = payload.readInteger(as: Int32.self) else { throw ProtocolViolation("malformed DataRow") }
            if length < 0 {
                values.append(nil)
            } else {
                guard let value = payload.readSlice(length: Int(length)) else {
                    throw ProtocolViolation("malformed DataRow")
                }
                values.append(value)
            }
        }
        return values
    }

    public static func encode(_ values: [String?], into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: BackendMessageID.dataRow) { body in
            body.writeInteger(Int16(values.count))
            for value in values {
                if let value {
                    body.writeInteger(Int32(value.utf8.count))
                    body.writeString(value)
                } else {
                    body.writeInteger(Int32(-1))
                }
            }
        }
    }
}

import NIOCore

/// RowDescription ('T'): the columns of the rows that follow.
public struct RowDescription: Sendable, Equatable {
    public struct Column: Sendable, Equatable {
        public var name: String
        public var tableOID: UInt32
        public var columnAttribute: Int16
        public var typeOID: UInt32
        public var typeSize: Int16
        public var typeModifier: Int32
        /// 0 text, 1 binary.
        public var format: Int16

        public init(
            name: String, tableOID: UInt32 = 0, columnAttribute: Int16 = 0, typeOID: UInt32, typeSize: Int16 = -1,
            typeModifier: Int32 = -1, format: Int16 = 0
        ) {
            self.name = name
            self.tableOID = tableOID
            self.columnAttribute = columnAttribute
            self.typeOID = typeOID
            self.typeSize = typeSize
            self.typeModifier = typeModifier
            self.format = format
        }
    }

    public var columns: [Column]

    public init(columns: [Column]) {
        self.columns = columns
    }

    public static func decode(from payload: ByteBuffer) throws -> RowDescription {
        var payload = payload
        guard let count = payload.readInteger(as: Int16.self), count >= 0 else {
            throw ProtocolViolation("malformed RowDescription")
        }
        var columns: [Column] = []
        columns.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let name = payload.readCString(),
                let (table, attribute, type, size, modifier, format) = payload.readMultipleIntegers(
                    as: (UInt32, Int16, UInt32, Int16, Int32, Int16).self)
            else {
                throw ProtocolViolation("malformed RowDescription")
            }
            columns.append(
                Column(
                    name: name, tableOID: table, columnAttribute: attribute, typeOID: type, typeSize: size,
                    typeModifier: modifier, format: format))
        }
        return RowDescription(columns: columns)
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: BackendMessageID.rowDescription) { body in
            body.writeInteger(Int16(self.columns.count))
            for column in self.columns {
                body.writeCString(column.name)
                body.writeMultipleIntegers(
                    column.tableOID, column.columnAttribute, column.typeOID, column.typeSize, column.typeModifier,
                    column.format)
            }
        }
    }
}

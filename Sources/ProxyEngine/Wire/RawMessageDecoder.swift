import NIOCore

/// A typed protocol message as it came: type byte and payload (without the length).
public struct RawMessage: Sendable, Equatable {
    public var id: UInt8
    public var payload: ByteBuffer

    public init(id: UInt8, payload: ByteBuffer) {
        self.id = id
        self.payload = payload
    }

    public func encode(into buffer: inout ByteBuffer) {
        var payload = self.payload
        buffer.writeMessage(id: self.id) { $0.writeBuffer(&payload) }
    }
}

/// Splits a byte stream into RawMessages, for the places where pgreel is an endpoint rather than a relay
/// (replay's client connection). Lengths are checked as PostgreSQL checks them, before buffering.
public struct RawMessageDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = RawMessage

    private let direction: MessageFramer.Direction
    private let maxLength: Int

    /// - Parameter maxLength: a tighter limit than the protocol's for every message type (the authentication
    ///   phase, where only password messages are valid, uses `MessageLimits.authToken`).
    public init(direction: MessageFramer.Direction, maxLength: Int = .max) {
        self.direction = direction
        self.maxLength = maxLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> RawMessage? {
        guard let (id, length) = buffer.getMultipleIntegers(at: buffer.readerIndex, as: (UInt8, Int32).self) else {
            return nil
        }
        let limit = min(
            self.maxLength, self.direction == .frontend ? MessageLimits.frontendLimit(for: id) : MessageLimits.large)
        guard length >= 4, Int(length) <= limit else {
            throw ProtocolViolation("invalid message length \(length) for message type \"\(MessageFramer.printable(id))\"")
        }
        guard buffer.readableBytes > Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 5)
        return RawMessage(id: id, payload: buffer.readSlice(length: Int(length) - 4)!)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RawMessage? {
        try self.decode(buffer: &buffer)
    }
}

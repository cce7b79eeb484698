import NIOCore

/// Reading and writing the protocol's primitive types: NUL-terminated strings and length-prefixed values.
extension ByteBuffer {
    /// Reads a NUL-terminated string; nil when no NUL is left (a malformed message).
    @inlinable
    public mutating func readCString() -> String? {
        guard let nul = self.readableBytesView.firstIndex(of: 0) else { return nil }
        let length = nul - self.readerIndex
        let string = self.readString(length: length)
        self.moveReaderIndex(forwardBy: 1)
        return string
    }

    @inlinable
    public mutating func writeCString(_ string: String) {
        self.writeString(string)
        self.writeInteger(UInt8(0))
    }

    /// Writes a typed message: the type byte, the length, then whatever `body` writes.
    @inlinable
    public mutating func writeMessage(id: UInt8, _ body: (inout ByteBuffer) -> Void) {
        self.writeInteger(id)
        let lengthIndex = self.writerIndex
        self.writeInteger(Int32(0))
        body(&self)
        self.setInteger(Int32(self.writerIndex - lengthIndex), at: lengthIndex)
    }
}

/// A message that does not follow the protocol. Sessions that receive one are closed with FATAL 08P01.
public struct ProtocolViolation: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { self.message }
}

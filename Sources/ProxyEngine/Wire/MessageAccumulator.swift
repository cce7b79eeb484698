import NIOCore

/// Buffers typed messages during the startup phases, where the proxy reads messages itself instead of relaying.
struct MessageAccumulator {
    private var buffer = ByteBuffer()
    private var decoder: RawMessageDecoder

    init(direction: MessageFramer.Direction, maxLength: Int = .max) {
        self.decoder = RawMessageDecoder(direction: direction, maxLength: maxLength)
    }

    mutating func append(_ bytes: ByteBuffer) {
        var bytes = bytes
        self.buffer.writeBuffer(&bytes)
    }

    /// The next complete message, or nil when more bytes are needed.
    mutating func next() throws -> (id: UInt8, payload: ByteBuffer)? {
        guard let message = try self.decoder.decode(buffer: &self.buffer) else { return nil }
        return (message.id, message.payload)
    }

    /// Whatever is left unread (handed to the relay when the startup phase ends).
    mutating func takeRemaining() -> ByteBuffer {
        defer { self.buffer = ByteBuffer() }
        return self.buffer.readSlice(length: self.buffer.readableBytes)!
    }
}

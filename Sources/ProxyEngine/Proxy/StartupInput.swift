import NIOCore

/// The bytes a client sent during its startup, read as startup packets or as typed messages, whichever the
/// connection's state expects next; what is left when the relay takes over goes to the relay unread.
struct StartupInput {
    private var buffer = ByteBuffer()
    /// Before authentication only password messages are valid, so nothing longer is buffered (as PostgreSQL,
    /// which reads them with PG_MAX_AUTH_TOKEN_LENGTH): an unauthenticated client cannot make the proxy hold 1 GB.
    private var decoder = RawMessageDecoder(direction: .frontend, maxLength: MessageLimits.authToken)

    mutating func append(_ bytes: inout ByteBuffer) {
        self.buffer.writeBuffer(&bytes)
    }

    /// Bytes received and not yet read.
    var unreadBytes: Int { self.buffer.readableBytes }

    /// Whether the bytes so far start a TLS handshake or a startup packet (nothing is consumed); nil when more bytes
    /// are needed to tell.
    func classifyFirstBytes() -> DirectTLSProbe.FirstBytes? {
        DirectTLSProbe.classify(self.buffer)
    }

    /// The next whole startup packet, or nil when more bytes are needed.
    mutating func nextStartupPacket() throws -> StartupPacket? {
        try StartupPacket.decode(from: &self.buffer)
    }

    /// The next whole message, or nil when more bytes are needed.
    mutating func nextMessage() throws -> RawMessage? {
        try self.decoder.decode(buffer: &self.buffer)
    }

    /// Everything unread, for the relay; the input is empty afterwards.
    mutating func takeUnread() -> ByteBuffer {
        defer { self.buffer = ByteBuffer() }
        return self.buffer.readSlice(length: self.buffer.readableBytes)!
    }

    mutating func discard() {
        self.buffer.clear()
    }
}

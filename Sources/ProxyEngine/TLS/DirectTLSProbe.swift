import NIOCore

/// Tells from a connection's first bytes whether the client starts TLS at once (PostgreSQL 17's
/// `sslnegotiation=direct`) instead of sending a startup packet.
///
/// A TLS record starts with its content type, 0x16 for a handshake, then the record version's major, 0x03 (every
/// TLS version, and the ClientHello's record version in TLS 1.3 too). No startup packet starts so: its first 4
/// bytes are its length, and 0x1603.... is hundreds of megabytes, far over the 10,000 a startup packet may have.
/// PostgreSQL looks at the first byte only; the second one makes sure garbage starting 0x16 is refused as the
/// invalid startup packet it is rather than answered with a TLS alert.
public enum DirectTLSProbe {
    public enum FirstBytes: Equatable, Sendable {
        /// A TLS handshake record: start TLS at once.
        case tlsHandshake
        /// Anything else: read it as a startup packet (which may still be invalid).
        case startupPacket
    }

    static let handshakeRecord: UInt8 = 0x16
    static let versionMajor: UInt8 = 0x03

    /// What the bytes at the reader index are, without consuming them; nil when more bytes are needed to tell.
    public static func classify(_ buffer: ByteBuffer) -> FirstBytes? {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        guard first == Self.handshakeRecord else { return .startupPacket }
        guard let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) else { return nil }
        return second == Self.versionMajor ? .tlsHandshake : .startupPacket
    }
}

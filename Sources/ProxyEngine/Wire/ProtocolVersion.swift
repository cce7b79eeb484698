/// A frontend/backend protocol version, as a StartupMessage and NegotiateProtocolVersion carry it: the major in the
/// high 16 bits, the minor in the low 16.
///
/// pgreel serves 3.0 and 3.2 (PostgreSQL 18's newest; 3.1 was reserved and never used, and is served as asked, as
/// PostgreSQL does). The one difference 3.2 makes is the cancel key: 32 random bytes instead of 4.
public struct ProtocolVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: UInt16
    public var minor: UInt16

    public init(major: UInt16, minor: UInt16) {
        self.major = major
        self.minor = minor
    }

    public init(code: Int32) {
        self.init(major: UInt16(truncatingIfNeeded: code >> 16), minor: UInt16(truncatingIfNeeded: code))
    }

    public static let v3_0 = ProtocolVersion(major: 3, minor: 0)
    public static let v3_2 = ProtocolVersion(major: 3, minor: 2)
    /// The newest version pgreel speaks, to clients and to upstreams.
    public static let latest = ProtocolVersion.v3_2

    /// The 32-bit form sent on the wire.
    public var code: Int32 { Int32(truncatingIfNeeded: UInt32(self.major) << 16 | UInt32(self.minor)) }

    /// The length of the secret key pgreel issues to a client speaking this version: 32 bytes from 3.2 on, 4 before,
    /// as PostgreSQL 18 (MAX_CANCEL_KEY_LENGTH, 4 for older clients, whose CancelRequest has room for no more).
    public var issuedCancelKeyLength: Int { self >= .v3_2 ? 32 : 4 }

    public var description: String { "\(self.major).\(self.minor)" }

    public static func < (lhs: ProtocolVersion, rhs: ProtocolVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }
}

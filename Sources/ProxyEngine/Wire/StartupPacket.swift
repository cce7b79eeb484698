import NIOCore

/// The untyped first packet of a connection: a StartupMessage or one of the special requests.
public enum StartupPacket: Equatable, Sendable {
    case startup(protocolVersion: Int32, parameters: [(String, String)])
    case sslRequest
    case gssEncryptionRequest
    /// A CancelRequest: 4 key bytes from a protocol 3.0 client, 32 from a 3.2 one (any length up to 256 is valid).
    case cancel(processID: Int32, secretKey: [UInt8])

    public static let protocolVersion30: Int32 = ProtocolVersion.v3_0.code
    public static let protocolVersion32: Int32 = ProtocolVersion.v3_2.code
    /// Protocol 3.2 allows cancel keys of up to 256 bytes (PostgreSQL checks the CancelRequest against this).
    public static let maxCancelKeyLength = 256
    static let sslRequestCode: Int32 = 80_877_103
    static let gssEncRequestCode: Int32 = 80_877_104
    static let cancelRequestCode: Int32 = 80_877_102

    public static func == (lhs: StartupPacket, rhs: StartupPacket) -> Bool {
        switch (lhs, rhs) {
        case (.startup(let v1, let p1), .startup(let v2, let p2)):
            return v1 == v2 && p1.map { [$0.0, $0.1] } == p2.map { [$0.0, $0.1] }
        case (.sslRequest, .sslRequest), (.gssEncryptionRequest, .gssEncryptionRequest):
            return true
        case (.cancel(let a, let b), .cancel(let c, let d)):
            return a == c && b == d
        default:
            return false
        }
    }

    /// The value of a startup parameter (first occurrence).
    public func parameter(_ name: String) -> String? {
        guard case .startup(_, let parameters) = self else { return nil }
        return parameters.first { $0.0 == name }?.1
    }

    /// Takes one whole packet off the front of `buffer`, or returns nil when more bytes are needed.
    ///
    /// The length is checked before anything is allocated: a packet claiming more than 10,000 bytes is refused.
    public static func decode(from buffer: inout ByteBuffer) throws -> StartupPacket? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return nil }
        guard length >= 8, length <= MessageLimits.startupPacket else {
            throw ProtocolViolation("invalid length of startup packet")
        }
        guard buffer.readableBytes >= Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        var body = buffer.readSlice(length: Int(length) - 4)!
        let code = body.readInteger(as: Int32.self)!
        switch code {
        case Self.sslRequestCode:
            return .sslRequest
        case Self.gssEncRequestCode:
            return .gssEncryptionRequest
        case Self.cancelRequestCode:
            // As PostgreSQL 18: the key is whatever follows the process ID (4 bytes under 3.0, 32 under 3.2).
            guard let pid = body.readInteger(as: Int32.self) else {
                throw ProtocolViolation("invalid length of cancel request packet")
            }
            guard (1...Self.maxCancelKeyLength).contains(body.readableBytes) else {
                throw ProtocolViolation("invalid length of cancel key in cancel request packet")
            }
            return .cancel(processID: pid, secretKey: Array(body.readableBytesView))
        default:
            let version = ProtocolVersion(code: code)
            guard version.major == ProtocolVersion.latest.major else {
                throw ProtocolViolation(
                    "unsupported frontend protocol \(version): server supports 3.0 to \(ProtocolVersion.latest)")
            }
            var parameters: [(String, String)] = []
            while true {
                guard let name = body.readCString() else {
                    throw ProtocolViolation("invalid startup packet layout: expected terminator as last byte")
                }
                if name.isEmpty { break }
                guard let value = body.readCString() else {
                    throw ProtocolViolation("invalid startup packet layout: expected terminator as last byte")
                }
                parameters.append((name, value))
            }
            return .startup(protocolVersion: code, parameters: parameters)
        }
    }

    /// Encodes the packet (used toward the upstream and in tests).
    public func encode(into buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        switch self {
        case .startup(let version, let parameters):
            buffer.writeInteger(version)
            for (name, value) in parameters {
                buffer.writeCString(name)
                buffer.writeCString(value)
            }
            buffer.writeInteger(UInt8(0))
        case .sslRequest:
            buffer.writeInteger(Self.sslRequestCode)
        case .gssEncryptionRequest:
            buffer.writeInteger(Self.gssEncRequestCode)
        case .cancel(let pid, let key):
            buffer.writeInteger(Self.cancelRequestCode)
            buffer.writeInteger(pid)
            buffer.writeBytes(key)
        }
        buffer.setInteger(Int32(buffer.writerIndex - start), at: start)
    }
}

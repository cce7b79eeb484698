import NIOCore

/// BackendKeyData ('K'): the process ID and secret key a client later sends in a CancelRequest.
///
/// The key is 4 bytes under protocol 3.0 and 4 to 256 under 3.2 (PostgreSQL 18 sends 32), so it is kept as bytes
/// and never read as an integer.
public struct BackendKeyData: Sendable, Equatable {
    public var processID: Int32
    public var secretKey: [UInt8]

    public init(processID: Int32, secretKey: [UInt8]) {
        self.processID = processID
        self.secretKey = secretKey
    }

    /// A protocol 3.0 key: the 32-bit integer as its 4 bytes on the wire.
    public init(processID: Int32, secretKey: Int32) {
        self.init(processID: processID, secretKey: withUnsafeBytes(of: secretKey.bigEndian) { Array($0) })
    }

    /// The lengths protocol 3.2 allows (3.0's 4 bytes among them).
    public static let keyLengths = 4...StartupPacket.maxCancelKeyLength

    public static func decode(from payload: ByteBuffer) throws -> BackendKeyData {
        var payload = payload
        guard let pid = payload.readInteger(as: Int32.self), Self.keyLengths.contains(payload.readableBytes) else {
            throw ProtocolViolation("malformed BackendKeyData")
        }
        return BackendKeyData(processID: pid, secretKey: Array(payload.readableBytesView))
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: BackendMessageID.backendKeyData) {
            $0.writeInteger(self.processID)
            $0.writeBytes(self.secretKey)
        }
    }

    /// The CancelRequest that cancels this backend's running query.
    public var cancelRequest: StartupPacket {
        .cancel(processID: self.processID, secretKey: self.secretKey)
    }
}

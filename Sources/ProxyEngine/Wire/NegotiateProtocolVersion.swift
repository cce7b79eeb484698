import NIOCore

/// NegotiateProtocolVersion ('v'): the server cannot give the client everything it asked for. It names the newest
/// version the server speaks that is not newer than the client's (as a full 32-bit version, 3.2 = 0x00030002; an
/// earlier pgreel sent the bare minor, which libpq 18 read as "downgrade to pre-3.0") and the `_pq_.` startup
/// options it did not recognise.
public struct NegotiateProtocolVersion: Sendable, Equatable {
    public var version: ProtocolVersion
    public var unsupportedOptions: [String]

    public init(version: ProtocolVersion, unsupportedOptions: [String]) {
        self.version = version
        self.unsupportedOptions = unsupportedOptions
    }

    public static func decode(from payload: ByteBuffer) throws -> NegotiateProtocolVersion {
        var payload = payload
        guard let (code, count) = payload.readMultipleIntegers(as: (Int32, Int32).self), count >= 0 else {
            throw ProtocolViolation("malformed NegotiateProtocolVersion")
        }
        var options: [String] = []
        for _ in 0..<count {
            guard let option = payload.readCString() else {
                throw ProtocolViolation("malformed NegotiateProtocolVersion")
            }
            options.append(option)
        }
        guard payload.readableBytes == 0 else { throw ProtocolViolation("malformed NegotiateProtocolVersion") }
        return NegotiateProtocolVersion(version: ProtocolVersion(code: code), unsupportedOptions: options)
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: BackendMessageID.negotiateProtocolVersion) { body in
            body.writeInteger(self.version.code)
            body.writeInteger(Int32(self.unsupportedOptions.count))
            for option in self.unsupportedOptions { body.writeCString(option) }
        }
    }
}

import NIOCore
import Testing

@testable import ProxyEngine

/// The wire forms protocol 3.2 changed or pgreel got wrong before: NegotiateProtocolVersion's full version number,
/// variable-length cancel keys in BackendKeyData and CancelRequest, and the version check of a StartupMessage.
@Suite struct ProtocolMessagesTests {
    private func decode(_ bytes: [UInt8]) throws -> StartupPacket? {
        var buffer = ByteBuffer(bytes: bytes)
        return try StartupPacket.decode(from: &buffer)
    }

    private func violation(_ bytes: [UInt8]) -> String? {
        do {
            _ = try self.decode(bytes)
            return nil
        } catch {
            return (error as? ProtocolViolation)?.message
        }
    }

    /// A CancelRequest: length, 80877102, the process ID, then the key.
    private func cancelRequest(pid: Int32 = 42, key: [UInt8]) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(12 + key.count))
        buffer.writeInteger(Int32(80_877_102))
        buffer.writeInteger(pid)
        buffer.writeBytes(key)
        return Array(buffer.readableBytesView)
    }

    @Test func versionsReadAndWriteAsPostgreSQLsThirtyTwoBitNumbers() {
        #expect(ProtocolVersion.v3_0.code == 196_608 && ProtocolVersion.v3_2.code == 196_610)
        #expect(ProtocolVersion(code: 196_610) == .v3_2)
        #expect(ProtocolVersion(code: 0x0003_0063).description == "3.99")
        #expect(ProtocolVersion.latest == .v3_2)
        #expect(ProtocolVersion.v3_0.issuedCancelKeyLength == 4)
        #expect(ProtocolVersion(major: 3, minor: 1).issuedCancelKeyLength == 4)
        #expect(ProtocolVersion.v3_2.issuedCancelKeyLength == 32)
    }

    /// libpq 18 said "server requested downgrade to pre-3.0 protocol version" when pgreel sent the bare minor (0).
    @Test func negotiateProtocolVersionCarriesTheWholeVersion() throws {
        var buffer = ByteBuffer()
        NegotiateProtocolVersion(version: .v3_2, unsupportedOptions: ["_pq_.a", "_pq_.b"]).encode(into: &buffer)
        let expected: [UInt8] =
            [UInt8(ascii: "v"), 0, 0, 0, 26, 0, 3, 0, 2, 0, 0, 0, 2]
            + Array("_pq_.a".utf8) + [0] + Array("_pq_.b".utf8) + [0]
        #expect(Array(buffer.readableBytesView) == expected)
        buffer.moveReaderIndex(forwardBy: 5)
        #expect(
            try NegotiateProtocolVersion.decode(from: buffer)
                == NegotiateProtocolVersion(version: .v3_2, unsupportedOptions: ["_pq_.a", "_pq_.b"]))
        #expect(throws: ProtocolViolation.self) {
            try NegotiateProtocolVersion.decode(from: ByteBuffer(bytes: [0, 3, 0, 0, 0, 0, 0, 1]))
        }
    }

    @Test func cancelRequestsCarryKeysOfAnyLengthUpTo256() throws {
        for length in [4, 32, 256] {
            let key = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let packet = try self.decode(self.cancelRequest(key: key))
            #expect(packet == .cancel(processID: 42, secretKey: key))
            var encoded = ByteBuffer()
            packet?.encode(into: &encoded)
            #expect(Array(encoded.readableBytesView) == self.cancelRequest(key: key), "\(length) bytes encode back")
        }
        // PostgreSQL 18's words for each bad length.
        #expect(self.violation([0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2E]) == "invalid length of cancel request packet")
        #expect(self.violation(self.cancelRequest(key: [])) == "invalid length of cancel key in cancel request packet")
        #expect(
            self.violation(self.cancelRequest(key: Array(repeating: 1, count: 257)))
                == "invalid length of cancel key in cancel request packet")
    }

    @Test func startupVersionsOtherThanThreeAreRefusedNamingWhatIsSupported() throws {
        let packet = StartupPacket.startup(protocolVersion: ProtocolVersion(major: 4, minor: 0).code, parameters: [])
        var buffer = ByteBuffer()
        packet.encode(into: &buffer)
        #expect(
            self.violation(Array(buffer.readableBytesView))
                == "unsupported frontend protocol 4.0: server supports 3.0 to 3.2")
        // Every 3.x minor decodes; what is served is ClientProtocolNegotiation's decision.
        let newer = StartupPacket.startup(protocolVersion: 0x0003_0063, parameters: [("user", "u")])
        var newerBytes = ByteBuffer()
        newer.encode(into: &newerBytes)
        #expect(try self.decode(Array(newerBytes.readableBytesView)) == newer)
    }

    @Test func backendKeyDataKeepsKeysOfFourTo256Bytes() throws {
        for length in [4, 32, 256] {
            let key = BackendKeyData(processID: 7, secretKey: Array(repeating: 0xAB, count: length))
            var buffer = ByteBuffer()
            key.encode(into: &buffer)
            #expect(buffer.readableBytes == 9 + length)
            buffer.moveReaderIndex(forwardBy: 5)
            #expect(try BackendKeyData.decode(from: buffer) == key)
        }
        for length in [0, 3, 257] {
            var payload = ByteBuffer()
            payload.writeInteger(Int32(7))
            payload.writeBytes(Array(repeating: 1, count: length))
            #expect(throws: ProtocolViolation.self, "\(length) bytes") { try BackendKeyData.decode(from: payload) }
        }
        // A 3.0 key given as an integer is its 4 bytes in network order.
        #expect(BackendKeyData(processID: 1, secretKey: Int32(0x0102_0304)).secretKey == [1, 2, 3, 4])
        #expect(BackendKeyData(processID: 1, secretKey: Int32(-99)).secretKey == [0xFF, 0xFF, 0xFF, 0x9D])
    }
}

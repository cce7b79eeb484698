import NIOCore
import NIOTestUtils
import Testing

@testable import ProxyEngine

/// A stream of every message kind the relay taps, in both directions.
private func sampleFrontendStream() -> ByteBuffer {
    var buffer = ByteBuffer()
    QueryMessage.encode("SELECT * FROM test_data;", into: &buffer)
    ParseMessage(name: "s1", sql: "SELECT $1::int", parameterTypes: [23]).encode(into: &buffer)
    BindMessage(portal: "", statement: "s1", parameterFormats: [0], parameters: [Array("42".utf8), nil], resultFormats: [])
        .encode(into: &buffer)
    TargetedMessage(target: .portal, name: "").encode(id: FrontendMessageID.describe, into: &buffer)
    ExecuteMessage(portal: "", maxRows: 0).encode(into: &buffer)
    EmptyMessage.encode(id: FrontendMessageID.sync, into: &buffer)
    buffer.writeMessage(id: FrontendMessageID.copyData) { $0.writeString("1\ttest\n") }
    EmptyMessage.encode(id: FrontendMessageID.copyDone, into: &buffer)
    EmptyMessage.encode(id: FrontendMessageID.terminate, into: &buffer)
    return buffer
}

private func sampleBackendStream() -> ByteBuffer {
    var buffer = ByteBuffer()
    RowDescription(columns: [.init(name: "id", typeOID: 23), .init(name: "name", typeOID: 25)]).encode(into: &buffer)
    DataRow.encode(["1", "test1"], into: &buffer)
    DataRow.encode(["2", nil], into: &buffer)
    buffer.writeMessage(id: BackendMessageID.commandComplete) { $0.writeCString("SELECT 2") }
    ErrorFields(severity: "ERROR", code: "42P01", message: "relation \"x\" does not exist").encode(into: &buffer)
    ReadyForQuery.encode(.idle, into: &buffer)
    return buffer
}

private func allMessages(_ stream: ByteBuffer, direction: MessageFramer.Direction) throws -> [RawMessage] {
    var decoder = RawMessageDecoder(direction: direction)
    var stream = stream
    var messages: [RawMessage] = []
    while let message = try decoder.decode(buffer: &stream) { messages.append(message) }
    return messages
}

@Suite struct RawMessageDecoderTests {
    @Test func decodesFrontendMessagesInAnyChunking() throws {
        let stream = sampleFrontendStream()
        let expected = try allMessages(stream, direction: .frontend)
        #expect(expected.count == 9)
        #expect(expected.map(\.id) == Array("QPBDESdcX".utf8))
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(stream, expected)],
            decoderFactory: { RawMessageDecoder(direction: .frontend) })
    }

    @Test func decodesBackendMessagesInAnyChunking() throws {
        let stream = sampleBackendStream()
        let expected = try allMessages(stream, direction: .backend)
        #expect(expected.map(\.id) == Array("TDDCEZ".utf8))
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(stream, expected)],
            decoderFactory: { RawMessageDecoder(direction: .backend) })
    }

    @Test func refusesLengthsBelowFourAndOverTheLimit() {
        var tooShort = ByteBuffer(bytes: [UInt8(ascii: "Q"), 0, 0, 0, 3])
        var decoder = RawMessageDecoder(direction: .frontend)
        #expect(throws: ProtocolViolation.self) { try decoder.decode(buffer: &tooShort) }
        // A Sync may not claim more than PostgreSQL's small-message limit; nothing is buffered first.
        var hugeSync = ByteBuffer(bytes: [UInt8(ascii: "S"), 0, 1, 0, 0])
        #expect(throws: ProtocolViolation.self) { try decoder.decode(buffer: &hugeSync) }
        var hugeQuery = ByteBuffer(bytes: [UInt8(ascii: "Q"), 0x7F, 0xFF, 0xFF, 0xFF])
        #expect(throws: ProtocolViolation.self) { try decoder.decode(buffer: &hugeQuery) }
    }
}

@Suite struct MessageFramerTests {
    /// Feeds `stream` in chunks of `size` and returns what the framer emitted.
    private func frame(
        _ stream: ByteBuffer, chunk size: Int, direction: MessageFramer.Direction, maxTap: Int = 1 << 20,
        wants: (UInt8) -> Bool = { _ in true }
    ) throws -> [String] {
        var framer = MessageFramer(direction: direction, maxTapLength: maxTap)
        var stream = stream
        var seen: [String] = []
        while stream.readableBytes > 0 {
            let chunk = stream.readSlice(length: min(size, stream.readableBytes))!
            try framer.feed(chunk, wants: wants) { frame in
                switch frame {
                case .message(let id, let payload):
                    seen.append("\(Character(UnicodeScalar(id))):\(Array(payload.readableBytesView))")
                case .oversized(let id, let length):
                    seen.append("\(Character(UnicodeScalar(id))):oversized \(length)")
                }
            }
        }
        #expect(framer.isAtBoundary)
        return seen
    }

    @Test(arguments: [1, 2, 3, 5, 7, 64, 100_000])
    func framesTheSameWhateverTheChunkSize(chunk: Int) throws {
        for (stream, direction) in [(sampleFrontendStream(), MessageFramer.Direction.frontend), (sampleBackendStream(), .backend)] {
            let expected = try allMessages(stream, direction: direction).map {
                "\(Character(UnicodeScalar($0.id))):\(Array($0.payload.readableBytesView))"
            }
            #expect(try self.frame(stream, chunk: chunk, direction: direction) == expected)
        }
    }

    @Test func skipsUnwantedMessagesAndKeepsOrder() throws {
        let seen = try self.frame(
            sampleBackendStream(), chunk: 3, direction: .backend, wants: { $0 == BackendMessageID.commandComplete || $0 == BackendMessageID.readyForQuery })
        #expect(seen.count == 2)
        #expect(seen[0].hasPrefix("C:"))
        #expect(seen[1] == "Z:[73]")
    }

    @Test func reportsOversizedMessagesWithoutKeepingThem() throws {
        var stream = ByteBuffer()
        DataRow.encode([String(repeating: "x", count: 5000)], into: &stream)
        ReadyForQuery.encode(.idle, into: &stream)
        let seen = try self.frame(stream, chunk: 1000, direction: .backend, maxTap: 1000)
        #expect(seen == ["D:oversized 5006", "Z:[73]"])
    }

    @Test func refusesAMalformedLength() {
        var framer = MessageFramer(direction: .frontend)
        let bad = ByteBuffer(bytes: [UInt8(ascii: "E"), 0x00, 0x10, 0x00, 0x00])
        #expect(throws: ProtocolViolation.self) {
            try framer.feed(bad, wants: { _ in true }) { _ in }
        }
    }
}

@Suite struct StartupPacketTests {
    @Test func roundTripsEveryKind() throws {
        let packets: [StartupPacket] = [
            .startup(protocolVersion: StartupPacket.protocolVersion30, parameters: [("user", "alice"), ("database", "db")]),
            .sslRequest, .gssEncryptionRequest, .cancel(processID: 1234, secretKey: [0xFF, 0xFF, 0xFF, 0x9D]),
        ]
        for packet in packets {
            var buffer = ByteBuffer()
            packet.encode(into: &buffer)
            // Byte by byte: nil until the whole packet is there.
            var partial = ByteBuffer()
            var decoded: StartupPacket?
            for byte in buffer.readableBytesView {
                partial.writeInteger(byte)
                decoded = try StartupPacket.decode(from: &partial)
            }
            #expect(decoded == packet)
        }
    }

    @Test func refusesAnOversizedPacketBeforeReadingIt() {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(10_001))
        buffer.writeInteger(StartupPacket.protocolVersion30)
        #expect(throws: ProtocolViolation.self) { try StartupPacket.decode(from: &buffer) }
        var negative = ByteBuffer()
        negative.writeInteger(Int32(-5))
        #expect(throws: ProtocolViolation.self) { try StartupPacket.decode(from: &negative) }
    }

    @Test func refusesAnUnknownProtocolAndAMissingTerminator() {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(8))
        buffer.writeInteger(Int32(2 << 16))
        #expect(throws: ProtocolViolation.self) { try StartupPacket.decode(from: &buffer) }
        var unterminated = ByteBuffer()
        unterminated.writeInteger(Int32(13))
        unterminated.writeInteger(StartupPacket.protocolVersion30)
        unterminated.writeString("user")
        unterminated.writeInteger(UInt8(0))
        #expect(throws: ProtocolViolation.self) { try StartupPacket.decode(from: &unterminated) }
    }
}

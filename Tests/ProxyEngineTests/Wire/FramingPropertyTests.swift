import NIOCore
import PropertyBased
import Testing

@testable import ProxyEngine

/// Property-based tests of the framing (MessageFramer, RawMessageDecoder, StartupPacket) on random and damaged
/// streams fed in random chunks: the same messages as unchunked, or a clean ProtocolViolation; never a crash.
@Suite struct FramingPropertyTests {
    /// A message: (type byte, payload). Type bytes are printable protocol letters, payloads short.
    private static let messages = Gen.int(in: 0...Int(Int32.max)).array(of: 0...20)
    private static let seeds = Gen.int(in: 0...Int.max)

    private static func stream(_ codes: [Int]) -> [UInt8] {
        let letters = Array("QPBEDCSHFdcfpXTZIN123ntAVGWsKR".utf8)
        var buffer = ByteBuffer()
        for code in codes {
            let id = letters[code % letters.count]
            let length = (code / letters.count) % 48
            buffer.writeMessage(id: id) { body in
                for index in 0..<length { body.writeInteger(UInt8(truncatingIfNeeded: code >> (index % 24))) }
            }
        }
        return Array(buffer.readableBytesView)
    }

    private struct Framed: Equatable {
        var messages: [String] = []
        var error: ProtocolViolation?
        var atBoundary = true
    }

    private static func frame(
        _ bytes: [UInt8], direction: MessageFramer.Direction, plan: ChunkPlan?, maxTap: Int = .max
    ) throws -> Framed {
        var framer = MessageFramer(direction: direction, maxTapLength: maxTap)
        var framed = Framed()
        var plan = plan
        let whole = ByteBuffer(bytes: bytes)
        let chunks = plan?.split(whole) ?? [whole]
        do {
            for chunk in chunks {
                try framer.feed(chunk, wants: { _ in true }) { frame in
                    switch frame {
                    case .message(let id, let payload): framed.messages.append("\(id):\(Array(payload.readableBytesView))")
                    case .oversized(let id, let length): framed.messages.append("\(id):oversized \(length)")
                    }
                }
            }
        } catch let violation as ProtocolViolation {
            framed.error = violation
        }
        framed.atBoundary = framer.isAtBoundary
        return framed
    }

    private static func decode(_ bytes: [UInt8], direction: MessageFramer.Direction) throws -> Framed {
        var decoder = RawMessageDecoder(direction: direction)
        var buffer = ByteBuffer(bytes: bytes)
        var framed = Framed()
        do {
            while let message = try decoder.decode(buffer: &buffer) {
                framed.messages.append("\(message.id):\(Array(message.payload.readableBytesView))")
            }
        } catch let violation as ProtocolViolation {
            framed.error = violation
        }
        framed.atBoundary = buffer.readableBytes == 0
        return framed
    }

    @Test(arguments: [MessageFramer.Direction.frontend, .backend])
    func validStreamsFrameToTheirMessagesWhateverTheChunking(direction: MessageFramer.Direction) async throws {
        await propertyCheck(count: 200, input: Self.messages, Self.seeds) { codes, seed in
            let bytes = Self.stream(codes)
            do {
                let framed = try Self.frame(bytes, direction: direction, plan: ChunkPlan(seed: seed))
                #expect(framed.error == nil)
                #expect(framed.atBoundary)
                #expect(framed.messages.count == codes.count)
                #expect(framed == (try Self.decode(bytes, direction: direction)))
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    @Test(arguments: [MessageFramer.Direction.frontend, .backend])
    func damagedStreamsGiveTheSameMessagesOrACleanError(direction: MessageFramer.Direction) async throws {
        let mutations = Gen.int(in: 0...Int(Int32.max)).array(of: 1...3)
        await propertyCheck(count: 300, input: Self.messages, mutations, Self.seeds) { codes, damage, seed in
            let phases = StreamMutation.apply(damage, to: [ModelSession.Phase(side: .client, bytes: ByteBuffer(bytes: Self.stream(codes)))])
            let bytes = phases.first.map { Array($0.bytes.readableBytesView) } ?? []
            do {
                let whole = try Self.frame(bytes, direction: direction, plan: nil)
                let chunked = try Self.frame(bytes, direction: direction, plan: ChunkPlan(seed: seed))
                #expect(chunked == whole)
                // The framer (relay) and the decoder (endpoints) agree on the messages, on whether the stream is
                // refused, and (when it is not) on whether a message is left incomplete.
                let decoded = try Self.decode(bytes, direction: direction)
                #expect(whole.messages == decoded.messages)
                #expect((whole.error == nil) == (decoded.error == nil))
                if whole.error == nil {
                    #expect(whole.atBoundary == decoded.atBoundary)
                }
                // A tap limit only turns long messages into `oversized` (announced from the header, so a long
                // message still incomplete at the end counts too); it changes no error.
                let capped = try Self.frame(bytes, direction: direction, plan: ChunkPlan(seed: seed), maxTap: 8)
                let extra = capped.messages.count - whole.messages.count
                #expect(
                    extra == 0
                        || (extra == 1 && !whole.atBoundary && capped.messages.last?.contains(":oversized") == true))
                #expect(capped.error == whole.error)
            } catch {
                Issue.record("not a ProtocolViolation: \(error)")
            }
        }
    }

    @Test func startupPacketsSurviveChunkingAndDamage() async throws {
        let parameters = Gen.int(in: 0...1_000_000).array(of: 0...6)
        let damage = Gen.int(in: 0...Int(Int32.max)).array(of: 0...2)
        await propertyCheck(count: 300, input: parameters, damage, Self.seeds) { values, damage, seed in
            let packet = StartupPacket.startup(
                protocolVersion: StartupPacket.protocolVersion30,
                parameters: values.map { ("p\($0 % 7)", String($0, radix: 36)) })
            var encoded = ByteBuffer()
            packet.encode(into: &encoded)
            StartupPacket.sslRequest.encode(into: &encoded)
            var bytes = Array(encoded.readableBytesView)
            for code in damage where !bytes.isEmpty {
                if code % 2 == 0 {
                    bytes[code / 2 % bytes.count] ^= UInt8(1 << (code % 8))
                } else {
                    bytes.removeSubrange((code / 2 % bytes.count)...)
                }
            }
            func decodeAll(_ plan: ChunkPlan?) -> ([StartupPacket], ProtocolViolation?) {
                var plan = plan
                let whole = ByteBuffer(bytes: bytes)
                var buffer = ByteBuffer()
                var packets: [StartupPacket] = []
                do {
                    for chunk in plan?.split(whole) ?? [whole] {
                        var chunk = chunk
                        buffer.writeBuffer(&chunk)
                        while let packet = try StartupPacket.decode(from: &buffer) { packets.append(packet) }
                    }
                } catch {
                    return (packets, error as? ProtocolViolation ?? ProtocolViolation("not a violation: \(error)"))
                }
                return (packets, nil)
            }
            let whole = decodeAll(nil)
            let chunked = decodeAll(ChunkPlan(seed: seed))
            #expect(whole.0 == chunked.0)
            #expect(whole.1 == chunked.1)
            #expect(whole.1?.message.hasPrefix("not a violation") != true)
            if damage.isEmpty {
                #expect(whole.0 == [packet, .sslRequest])
            }
        }
    }
}

import NIOCore
import ProxyEngine

/// The invariants of the startup parser, checked on any byte stream: the same packets and the same error whatever
/// the chunking (the client handler retries after every read), and a decoded StartupMessage encodes back to a
/// packet that decodes to itself.
public enum StartupCheck {
    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let seed = UInt64(input.byte())
        let stream = input.rest()
        let whole = self.decodeAll(stream, chunks: [stream.count])
        let chunked = self.decodeAll(stream, chunks: chunkSizes(total: stream.count, seed: seed))
        require(whole.packets == chunked.packets, "chunking changed the packets")
        require(whole.error == chunked.error, "chunking changed the error")
        for packet in whole.packets {
            var encoded = ByteBuffer()
            packet.encode(into: &encoded)
            guard encoded.readableBytes <= MessageLimits.startupPacket else { continue }
            let again = try? StartupPacket.decode(from: &encoded)
            require(again == packet, "a packet does not survive encode + decode: \(packet)")
            _ = packet.parameter("user")
        }
    }

    private static func decodeAll(_ stream: [UInt8], chunks: [Int]) -> (packets: [StartupPacket], error: String?) {
        var buffer = ByteBuffer()
        var packets: [StartupPacket] = []
        var offset = 0
        do {
            for size in chunks {
                buffer.writeBytes(stream[offset..<offset + size])
                offset += size
                // Several packets may follow one another (SSLRequest, then the StartupMessage).
                while let packet = try StartupPacket.decode(from: &buffer) {
                    packets.append(packet)
                }
            }
        } catch {
            return (packets, "\(error)")
        }
        return (packets, nil)
    }
}

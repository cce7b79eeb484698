import NIOCore
import NIOPosix
import ProxyEngine

/// Speaks bytes to a server without any client library, for what real clients never send (a query behind an
/// SSLRequest, a startup that never finishes).
enum RawConnection {
    /// Writes `bytes` at once and returns everything the server sends until it closes the connection.
    static func exchange(port: Int, _ bytes: [UInt8]) async throws -> [UInt8] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            if !bytes.isEmpty {
                try await outbound.write(ByteBuffer(bytes: bytes))
            }
            var received: [UInt8] = []
            for try await chunk in inbound { received += Array(chunk.readableBytesView) }
            return received
        }
    }

    static func startupPacket(user: String, database: String = "postgres") -> [UInt8] {
        var buffer = ByteBuffer()
        StartupPacket.startup(
            protocolVersion: StartupPacket.protocolVersion30, parameters: [("user", user), ("database", database)]
        ).encode(into: &buffer)
        return Array(buffer.readableBytesView)
    }

    static let sslRequest: [UInt8] = [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F]

    static func query(_ sql: String) -> [UInt8] {
        var buffer = ByteBuffer()
        QueryMessage.encode(sql, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    /// The backend messages in an answer (after any single-byte SSL answer the caller dropped).
    static func messages(in answer: [UInt8]) throws -> [RawMessage] {
        var buffer = ByteBuffer(bytes: answer)
        var decoder = RawMessageDecoder(direction: .backend)
        var messages: [RawMessage] = []
        while let message = try decoder.decode(buffer: &buffer) { messages.append(message) }
        return messages
    }

    /// The first ErrorResponse in an answer.
    static func errorFields(in answer: [UInt8]) throws -> ErrorFields {
        guard let error = try self.messages(in: answer).first(where: { $0.id == BackendMessageID.errorResponse }) else {
            throw TestFailure("no ErrorResponse in \(answer.count) bytes")
        }
        return try ErrorFields.decode(from: error.payload)
    }
}

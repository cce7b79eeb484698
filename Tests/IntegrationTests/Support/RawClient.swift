import NIOCore
import NIOPosix
import ProxyEngine

/// A bare protocol-v3 client for tests that need what psql cannot do on cue: stop in the middle of a query or a
/// COPY and vanish (close the socket without Terminate, as a killed process does), or hold a hundred sessions
/// open at once. It logs in as a trust pseudo user (no password exchange).
struct RawClient {
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var buffer = ByteBuffer()
    private var decoder = RawMessageDecoder(direction: .backend)
    /// The BackendKeyData the proxy sent: the real backend pid and the proxy's own key.
    private(set) var key: BackendKeyData?

    /// Connects to `port`, logs in, runs `body` and then closes the socket (FIN, no Terminate) whatever happens.
    static func withSession<Result: Sendable>(
        port: Int, user: String = "pseudo_user", database: String = "postgres",
        parameters: [(String, String)] = [],
        _ body: (inout RawClient) async throws -> Result
    ) async throws -> Result {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var client = RawClient(iterator: inbound.makeAsyncIterator(), outbound: outbound)
            var startup = ByteBuffer()
            StartupPacket.startup(
                protocolVersion: StartupPacket.protocolVersion30,
                parameters: [("user", user), ("database", database)] + parameters
            ).encode(into: &startup)
            try await outbound.write(startup)
            for message in try await client.readUntil(BackendMessageID.readyForQuery) {
                if message.id == BackendMessageID.errorResponse {
                    throw TestFailure("login refused: \(try ErrorFields.decode(from: message.payload).message)")
                }
                if message.id == BackendMessageID.backendKeyData {
                    client.key = try BackendKeyData.decode(from: message.payload)
                }
            }
            return try await body(&client)
        }
    }

    private init(
        iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) {
        self.iterator = iterator
        self.outbound = outbound
    }

    /// Sends whatever `encode` writes (one or more messages).
    func send(_ encode: (inout ByteBuffer) -> Void) async throws {
        var buffer = ByteBuffer()
        encode(&buffer)
        try await self.outbound.write(buffer)
    }

    /// The next backend message; throws when the connection closes first.
    mutating func next() async throws -> RawMessage {
        while true {
            if let message = try self.decoder.decode(buffer: &self.buffer) {
                return message
            }
            guard var chunk = try await self.iterator.next() else {
                throw TestFailure("the connection closed")
            }
            self.buffer.writeBuffer(&chunk)
        }
    }

    /// Every message up to and including the first of type `id`.
    mutating func readUntil(_ id: UInt8) async throws -> [RawMessage] {
        var messages: [RawMessage] = []
        while true {
            let message = try await self.next()
            messages.append(message)
            if message.id == id { return messages }
        }
    }

    /// Runs a simple query and returns its messages up to ReadyForQuery.
    mutating func query(_ sql: String) async throws -> [RawMessage] {
        try await self.send { QueryMessage.encode(sql, into: &$0) }
        return try await self.readUntil(BackendMessageID.readyForQuery)
    }

    /// The SQLSTATE of the first ErrorResponse among `messages`, if any.
    static func errorCode(in messages: [RawMessage]) throws -> String? {
        guard let error = messages.first(where: { $0.id == BackendMessageID.errorResponse }) else { return nil }
        return try ErrorFields.decode(from: error.payload).code
    }
}

import Foundation
import NIOCore
import NIOPosix
import ProxyEngine
import Testing

/// Limits before authentication, against the real proxy.
@Suite struct StartupLimitTests {
    /// A client asked for its password that announces a 1 GB message instead is refused at once (FATAL 08P01),
    /// before the proxy buffers any of it.
    @Test func aHugeMessageInsteadOfThePasswordIsRefusedAtOnce() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url(), users: ["locked:secret-password"])
        defer { proxy.process.kill() }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: proxy.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let answer = try await channel.executeThenClose { inbound, outbound in
            var bytes = ByteBuffer()
            StartupPacket.startup(
                protocolVersion: StartupPacket.protocolVersion30, parameters: [("user", "locked"), ("database", "postgres")]
            ).encode(into: &bytes)
            // The header of a 1 GB Query and a few bytes of it; the rest never comes.
            bytes.writeInteger(FrontendMessageID.query)
            bytes.writeInteger(Int32(1 << 30 - 1))
            bytes.writeString("SELECT ")
            try await outbound.write(bytes)
            var received = ByteBuffer()
            for try await var chunk in inbound { received.writeBuffer(&chunk) }
            return received
        }
        var decoder = RawMessageDecoder(direction: .backend)
        var buffer = answer
        var messages: [RawMessage] = []
        while let message = try decoder.decode(buffer: &buffer) { messages.append(message) }
        #expect(messages.first?.id == BackendMessageID.authentication, "asked for the password first")
        let error = try #require(messages.last { $0.id == BackendMessageID.errorResponse })
        let fields = try ErrorFields.decode(from: error.payload)
        #expect(fields.severity == "FATAL")
        #expect(fields.code == "08P01")
    }
}

import Foundation
import NIOCore
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
        var bytes = RawConnection.startupPacket(user: "locked")
        // The header of a 1 GB Query and a few bytes of it; the rest never comes.
        var query = ByteBuffer()
        query.writeInteger(FrontendMessageID.query)
        query.writeInteger(Int32(1 << 30 - 1))
        query.writeString("SELECT ")
        bytes += Array(query.readableBytesView)
        let messages = try RawConnection.messages(in: try await RawConnection.exchange(port: proxy.port, bytes))
        #expect(messages.first?.id == BackendMessageID.authentication, "asked for the password first")
        let error = try #require(messages.last { $0.id == BackendMessageID.errorResponse })
        let fields = try ErrorFields.decode(from: error.payload)
        #expect(fields.severity == "FATAL")
        #expect(fields.code == "08P01")
    }
}

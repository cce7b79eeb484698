import NIOCore
import NIOEmbedded
import Testing

@testable import ProxyEngine

/// The relay on two EmbeddedChannels sharing one loop: bytes pass unchanged, reading is held while the other side
/// cannot take more, an end on either side ends both, and bad input or a failed session file closes the session.
@Suite struct RelayHandlerTests {
    @Test func bytesPassUnchangedBothWays() throws {
        let pair = try RelayPair()
        let query = wire { QueryMessage.encode("SELECT 1", into: &$0) }
        // One message split across two reads arrives as the same bytes.
        try pair.client.writeInbound(query.getSlice(at: 0, length: 3)!)
        try pair.client.writeInbound(query.getSlice(at: 3, length: query.readableBytes - 3)!)
        #expect(try pair.upstream.writtenBytes() == query)
        let answer = wire {
            $0.writeMessage(id: BackendMessageID.commandComplete) { $0.writeCString("SELECT 1") }
            ReadyForQuery.encode(.idle, into: &$0)
        }
        try pair.upstream.writeInbound(answer)
        #expect(try pair.client.writtenBytes() == answer)
    }

    /// GlueHandler's backpressure: no read from one side while the other is not writable, and reading resumes
    /// when it drains.
    @Test func readingIsHeldWhileThePartnerIsNotWritable() throws {
        let pair = try RelayPair()
        let before = pair.clientReads.reads
        pair.client.read()
        #expect(pair.clientReads.reads == before + 1, "a writable partner lets the read through")

        pair.upstream.isWritable = false
        pair.upstream.pipeline.fireChannelWritabilityChanged()
        pair.client.read()
        #expect(pair.clientReads.reads == before + 1, "held while the server side cannot take more")
        #expect(pair.upstreamReads.reads == 0)

        pair.upstream.isWritable = true
        pair.upstream.pipeline.fireChannelWritabilityChanged()
        #expect(pair.clientReads.reads == before + 2, "the held read goes out once the server side drains")
        pair.upstream.pipeline.fireChannelWritabilityChanged()
        #expect(pair.clientReads.reads == before + 2, "only a held read is resumed")

        pair.client.isWritable = false
        pair.upstream.read()
        #expect(pair.upstreamReads.reads == 0, "the other direction holds the same way")
    }

    /// The read-ahead bound (RelayDepth) is set on both channels when the relay takes them over.
    @Test func bothChannelsGetTheRelayDepth() throws {
        let pair = try RelayPair()
        for channel in [pair.client, pair.upstream] {
            let options = try #require(channel.syncOptions)
            #expect(try options.getOption(.maxMessagesPerRead) == 1)
            let marks = try options.getOption(.writeBufferWaterMark)
            #expect(marks.high <= 16 * 1024 && marks.low < marks.high, "reading stops with 16 KiB queued")
            var allocator = try options.getOption(.recvAllocator)
            for _ in 0..<10 { _ = allocator.record(actualReadBytes: 1 << 20) }
            #expect(allocator.buffer(allocator: ByteBufferAllocator()).capacity <= 8192, "no read over 8 KiB")
            #expect(try options.getOption(.allowRemoteHalfClosure) == false, "an EOF closes the channel")
        }
    }

    /// No half-close: when the server closes, the client gets what was queued for it (the server's last FATAL),
    /// then its connection closes too.
    @Test func theServerClosingFlushesItsLastMessageThenClosesTheClient() throws {
        let pair = try RelayPair()
        let terminated = ErrorFields.fatal("57P01", "terminating connection due to administrator command")
        let fatal = wire { terminated.encode(into: &$0) }
        pair.upstream.pipeline.fireChannelRead(fatal)
        try pair.upstream.close().wait()
        #expect(try pair.client.backendMessages().error().code == "57P01")
        #expect(!pair.client.isActive)
        #expect(pair.endings.withLockedValue { $0 } == ["server closed the connection"])
    }

    @Test func theClientLeavingClosesTheServerSide() throws {
        let pair = try RelayPair()
        try pair.client.writeInbound(wire { EmptyMessage.encode(id: FrontendMessageID.terminate, into: &$0) })
        try pair.client.close().wait()
        #expect(try pair.upstream.frontendMessages().ids == ["X"], "Terminate reaches the server before the close")
        #expect(!pair.upstream.isActive)
        #expect(pair.endings.withLockedValue { $0 } == ["client closed the session"])

        let vanished = try RelayPair()
        try vanished.client.close().wait()
        #expect(!vanished.upstream.isActive)
        #expect(vanished.endings.withLockedValue { $0 } == ["client disconnected"], "no Terminate: a disconnect")
    }

    /// A message with an impossible length is never forwarded: the client gets FATAL 08P01 and both sides close.
    @Test func aProtocolViolationIsRefusedUnforwarded() throws {
        let pair = try RelayPair()
        try pair.client.writeInbound(ByteBuffer(bytes: [UInt8(ascii: "Q"), 0, 0, 0, 2]))
        #expect(try pair.upstream.writtenBytes().readableBytes == 0)
        let error = try pair.client.backendMessages().error()
        #expect(error.code == "08P01")
        #expect(error.severity == "FATAL")
        #expect(!pair.client.isActive && !pair.upstream.isActive)
        #expect(pair.endings.withLockedValue { $0.first?.hasPrefix("protocol violation by the client") } == true)

        let server = try RelayPair()
        try server.upstream.writeInbound(ByteBuffer(bytes: [UInt8(ascii: "Z"), 0, 0, 0, 1]))
        let fromServer = try server.client.backendMessages().error()
        #expect(fromServer.code == "08P01")
        #expect(fromServer.message.hasPrefix("server sent an invalid message"))
        #expect(!server.client.isActive && !server.upstream.isActive)
    }

    /// A session whose file cannot be written any more ends with FATAL 58030 (docs/security.md).
    @Test func aRecordingFailureClosesTheSession() throws {
        let pair = try RelayPair()
        pair.upstreamRelay.recordingFailed("No space left on device")
        let error = try pair.client.backendMessages().error()
        #expect(error.code == "58030")
        #expect(error.message == "pgreel could not record this session: No space left on device")
        #expect(!pair.client.isActive && !pair.upstream.isActive)
        #expect(pair.endings.withLockedValue { $0 } == ["recording failed: No space left on device"])
    }
}

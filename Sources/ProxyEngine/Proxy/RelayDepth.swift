import NIOCore

/// How far the relay reads ahead of the side it writes to, per direction: the channel options a `RelayHandler` sets
/// on its channel.
///
/// Read-ahead changes what a pipelining client sees. With NIO's defaults (an adaptive read buffer growing to
/// 64 KiB, 16 reads per wake-up, writable until 64 KiB are queued) pgreel took in up to 1 MiB per wake-up before it
/// looked at the other side again. A client pipelining 128 Bind/Execute of 32 KB whose second insert fails then
/// wrote the whole 4 MB batch before the ErrorResponse reached it (13 of 15 runs of PipelineBackpressureTests);
/// directly, or through pgbouncer (whose whole buffer is one 4 KiB `pkt_buf`), it hears of the error after under
/// 3 MB. What matters is the read-ahead per wake-up: lowering the watermarks alone changed nothing.
///
/// So the relay holds about what PostgreSQL and pgbouncer hold: one read of at most 8 KiB per wake-up (PostgreSQL's
/// own PqRecvBuffer and PqSendBuffer are 8 KiB), and reading stops once 16 KiB are queued for the other side; at most
/// 24 KiB per direction in pgreel. The kernel's socket buffers keep their autotuning, as with pgbouncer. Measured:
/// proxied clients now see the error after 2.7 to 2.8 MiB (20 of 20 runs; directly 2.6 MiB, or 64 KiB when the
/// server is quick); 1,000,000-row SELECT, COPY TO and COPY FROM took the same wall time as before (release build,
/// medians of 5 rounds) and pgreel's CPU for them moved by at most 30 ms. Transactions of small messages are
/// unchanged: a read that does not fill its buffer ends the wake-up whatever the limit.
enum RelayDepth {
    /// One read per wake-up, so `read` (held while the other side is not writable) is asked before every read.
    static let maxMessagesPerRead: UInt = 1
    /// Starts small (most messages of a transaction are a few hundred bytes) and grows to at most 8 KiB.
    static let recvAllocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 8192)
    /// The other side stops being writable past 16 KiB queued; reading resumes once it is under 8 KiB.
    static let writeBufferWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 8192, high: 16384)

    /// Sets the bounds on a channel the relay takes over (both channels of a session).
    static func apply(to channel: any Channel) {
        guard let options = channel.syncOptions else { return }
        try? options.setOption(.maxMessagesPerRead, value: Self.maxMessagesPerRead)
        try? options.setOption(.recvAllocator, value: Self.recvAllocator)
        try? options.setOption(.writeBufferWaterMark, value: Self.writeBufferWaterMark)
    }
}

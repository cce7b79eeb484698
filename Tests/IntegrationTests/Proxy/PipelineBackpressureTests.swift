import Foundation
import NIOCore
import ProxyEngine
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// How far a client can write ahead of the server through pgreel. A driver that pipelines a batch reads the
/// server's answers while it writes: when the second statement fails, it should hear of it while most of the batch
/// is still unwritten, as it does connected directly or through pgbouncer. A relay that reads megabytes ahead and
/// holds them lets the whole batch go out before the error comes back.
@Suite struct PipelineBackpressureTests {
    /// 128 Bind/Execute of 32 KB after one Parse, the second a unique violation, one Sync at the end; the client
    /// writes one Bind/Execute per `write` without blocking and reads whatever arrives in between.
    ///
    /// Each run is timing (how fast the server gets to the second insert against how fast the client writes), so
    /// the test takes five runs each way, interleaved, and asks for a majority. The direct runs are the control: they
    /// show what a client sees without pgreel, and that the measurement can tell the two apart (with pgreel's old
    /// read-ahead, 16 reads of up to 64 KiB per wake-up, the proxied runs wrote the whole batch first in 5 of 5).
    /// Recording is off: the relay alone is measured (a session file writer that falls behind only holds reads).
    @Test(.timeLimit(.minutes(3))) func theErrorArrivesBeforeThePipelineIsWrittenAsItDoesDirectly() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url(), arguments: ["--no-record"])
        defer { proxy.process.kill() }
        var direct: [PipelineRun] = []
        var proxied: [PipelineRun] = []
        for _ in 0..<5 {
            direct.append(try await PipelineRun.measure(port: server.port, user: TestPostgres.trustRole))
            proxied.append(try await PipelineRun.measure(port: proxy.port, user: "pseudo_user"))
        }
        let report = "direct: \(direct.map(\.summary)); through pgreel: \(proxied.map(\.summary))"
        for run in direct + proxied {
            #expect(run.errorCode == "23505", "the second insert is a unique violation: \(report)")
        }
        #expect(direct.filter(\.errorBeforeLastWrite).count >= 3, "the control: \(report)")
        #expect(proxied.filter(\.errorBeforeLastWrite).count >= 3, "\(report)")
    }
}

/// One pipelined batch over a plain socket, and when its ErrorResponse arrived.
private struct PipelineRun: Sendable {
    static let statements = 128
    static let payloadSize = 32 * 1024

    /// Bytes of the batch written when the ErrorResponse was first read (nil: never).
    var writtenAtError: Int?
    var total: Int
    var errorCode: String?

    var errorBeforeLastWrite: Bool { (self.writtenAtError ?? self.total) < self.total }

    var summary: String {
        guard let written = self.writtenAtError else { return "no error" }
        return written < self.total ? "error after \(written / 1024) KiB" : "error after all \(self.total / 1024) KiB"
    }

    /// Runs the batch on a thread of its own (the socket calls block) and returns what it saw.
    static func measure(port: Int, user: String) async throws -> PipelineRun {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try Self.run(port: port, user: user) })
            }
            thread.start()
        }
    }

    private static func run(port: Int, user: String) throws -> PipelineRun {
        var socket = try BlockingSocket(port: port)
        defer { socket.close() }
        var startup = ByteBuffer()
        StartupPacket.startup(
            protocolVersion: StartupPacket.protocolVersion30, parameters: [("user", user), ("database", "postgres")]
        ).encode(into: &startup)
        try socket.writeAll(startup)
        try socket.readUntilReady()
        var create = ByteBuffer()
        QueryMessage.encode("CREATE TEMP TABLE pipelined (id int PRIMARY KEY, payload text)", into: &create)
        try socket.writeAll(create)
        try socket.readUntilReady()

        var steps: [ByteBuffer] = []
        var first = ByteBuffer()
        ParseMessage(name: "", sql: "INSERT INTO pipelined VALUES ($1, $2)", parameterTypes: [23, 25])
            .encode(into: &first)
        steps.append(first)
        let payload = Array(repeating: UInt8(ascii: "x"), count: Self.payloadSize)
        for index in 0..<Self.statements {
            // 1, 1, 2, 3 ...: the second insert repeats the first key.
            let id = index == 0 ? 1 : index
            var step = ByteBuffer()
            BindMessage(
                portal: "", statement: "", parameterFormats: [], parameters: [Array(String(id).utf8), payload],
                resultFormats: []
            ).encode(into: &step)
            ExecuteMessage(portal: "").encode(into: &step)
            steps.append(step)
        }
        var sync = ByteBuffer()
        EmptyMessage.encode(id: FrontendMessageID.sync, into: &sync)
        steps.append(sync)
        let total = steps.reduce(0) { $0 + $1.readableBytes }

        let (writtenAtError, errorCode) = try socket.pipeline(steps)
        return PipelineRun(writtenAtError: writtenAtError, total: total, errorCode: errorCode)
    }
}

/// A TCP connection to 127.0.0.1 driven with plain system calls, so the test controls exactly when it writes and
/// reads (a NIO channel would buffer writes of its own).
private struct BlockingSocket {
    private var descriptor: Int32
    private var received = ByteBuffer()
    private var decoder = RawMessageDecoder(direction: .backend)

    init(port: Int) throws {
        self.descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard self.descriptor >= 0 else { throw TestFailure("socket(): \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(self.descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(self.descriptor)
            throw TestFailure("connect() to port \(port): \(reason)")
        }
        var noDelay: Int32 = 1
        setsockopt(self.descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
    }

    mutating func close() {
        if self.descriptor >= 0 { Glibc.close(self.descriptor) }
        self.descriptor = -1
    }

    func writeAll(_ buffer: ByteBuffer) throws {
        var offset = 0
        let bytes = Array(buffer.readableBytesView)
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(self.descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else { throw TestFailure("write(): \(String(cString: strerror(errno)))") }
            offset += written
        }
    }

    /// Reads until ReadyForQuery; an ErrorResponse before it fails the test.
    mutating func readUntilReady() throws {
        while true {
            let message = try self.nextMessage(wait: true)!
            if message.id == BackendMessageID.errorResponse {
                throw TestFailure("server error: \(try ErrorFields.decode(from: message.payload).message)")
            }
            if message.id == BackendMessageID.readyForQuery { return }
        }
    }

    /// Writes `steps` one per `write` without blocking, reading whatever the server sends in between, until all is
    /// written and ReadyForQuery has come. Returns how much was written when the first ErrorResponse was read, and
    /// its SQLSTATE.
    mutating func pipeline(_ steps: [ByteBuffer]) throws -> (Int?, String?) {
        let flags = fcntl(self.descriptor, F_GETFL)
        _ = fcntl(self.descriptor, F_SETFL, flags | O_NONBLOCK)
        var batch = ByteBuffer()
        var ends: [Int] = []
        for var step in steps {
            batch.writeBuffer(&step)
            ends.append(batch.readableBytes)
        }
        let total = batch.readableBytes
        var written = 0
        var writtenAtError: Int?
        var errorCode: String?
        var ready = false
        while written < total || !ready {
            var poller = pollfd(
                fd: self.descriptor, events: Int16(POLLIN) | (written < total ? Int16(POLLOUT) : 0), revents: 0)
            guard poll(&poller, 1, 30_000) > 0 else { throw TestFailure("no progress for 30 s") }
            if poller.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                while let message = try self.nextMessage(wait: false) {
                    if message.id == BackendMessageID.errorResponse, writtenAtError == nil {
                        writtenAtError = written
                        errorCode = try ErrorFields.decode(from: message.payload).code
                    }
                    if message.id == BackendMessageID.readyForQuery { ready = true }
                }
            }
            if poller.revents & Int16(POLLOUT) != 0, written < total {
                // One step: up to the end of the current Bind/Execute.
                let end = ends.first { $0 > written }!
                let count = batch.withUnsafeReadableBytes {
                    write(self.descriptor, $0.baseAddress! + written, end - written)
                }
                if count > 0 {
                    written += count
                } else if errno != EAGAIN && errno != EWOULDBLOCK {
                    throw TestFailure("write(): \(String(cString: strerror(errno)))")
                }
            }
        }
        return (writtenAtError, errorCode)
    }

    /// The next complete message; with `wait` false, nil when none can be read without blocking.
    private mutating func nextMessage(wait: Bool) throws -> RawMessage? {
        while true {
            if let message = try self.decoder.decode(buffer: &self.received) { return message }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { read(self.descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                self.received.writeBytes(chunk[0..<count])
                continue
            }
            if count < 0, errno == EAGAIN || errno == EWOULDBLOCK, !wait { return nil }
            let reason = count == 0 ? "the server closed the connection" : "read(): \(String(cString: strerror(errno)))"
            throw TestFailure(reason)
        }
    }
}

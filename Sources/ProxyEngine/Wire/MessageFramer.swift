import NIOCore

/// Finds message boundaries (type byte + Int32 length) in a byte stream that arrives in arbitrary chunks.
///
/// The relay forwards every chunk as it came; the framer only looks. Messages the caller wants are handed over
/// whole (a zero-copy slice when the message lies within one chunk, assembled otherwise); all other messages are
/// skipped without copying. A wanted message longer than `maxTapLength` is reported as `.oversized` and not kept,
/// so a 1 GB row never lands in memory.
public struct MessageFramer: Sendable {
    public enum Frame {
        case message(id: UInt8, payload: ByteBuffer)
        case oversized(id: UInt8, length: Int)
    }

    /// Which side's rules apply to lengths.
    public enum Direction: Sendable {
        case frontend
        case backend
    }

    private enum State {
        case header
        case body(id: UInt8, remaining: Int, total: Int, keep: Bool)
    }

    private let direction: Direction
    private let maxTapLength: Int
    private var state: State = .header
    private var header: [UInt8] = []
    private var assembling: ByteBuffer?

    /// The longest message the tap keeps by default: a 50 MB text value is still recorded whole (and its cell
    /// shown cut in the log and the dashboard); only a row longer than this, which would cost the proxy several
    /// times its size in memory to record, is counted but not kept.
    public static let defaultMaxTapLength = 64 << 20

    public init(direction: Direction, maxTapLength: Int = MessageFramer.defaultMaxTapLength) {
        self.direction = direction
        self.maxTapLength = maxTapLength
        self.header.reserveCapacity(5)
    }

    /// Feeds one chunk; calls `emit` for every complete wanted message, in order.
    public mutating func feed(
        _ chunk: ByteBuffer, wants: (UInt8) -> Bool, emit: (Frame) throws -> Void
    ) throws {
        var chunk = chunk
        while chunk.readableBytes > 0 {
            switch self.state {
            case .header:
                if self.header.isEmpty, chunk.readableBytes >= 5 {
                    let id = chunk.readInteger(as: UInt8.self)!
                    let length = Int(chunk.readInteger(as: Int32.self)!)
                    try self.beginBody(id: id, length: length, wants: wants, emit: emit)
                } else {
                    let take = min(5 - self.header.count, chunk.readableBytes)
                    self.header.append(contentsOf: chunk.readBytes(length: take)!)
                    if self.header.count == 5 {
                        let id = self.header[0]
                        let length = Int(Int32(bitPattern: UInt32(self.header[1]) << 24 | UInt32(self.header[2]) << 16
                            | UInt32(self.header[3]) << 8 | UInt32(self.header[4])))
                        self.header.removeAll(keepingCapacity: true)
                        try self.beginBody(id: id, length: length, wants: wants, emit: emit)
                    }
                }
            case .body(let id, let remaining, let total, let keep):
                let take = min(remaining, chunk.readableBytes)
                if keep {
                    if self.assembling == nil, take == remaining, remaining == total {
                        // The whole payload lies in this chunk: hand over a slice, no copy.
                        let payload = chunk.readSlice(length: take)!
                        self.state = .header
                        try emit(.message(id: id, payload: payload))
                        continue
                    }
                    var slice = chunk.readSlice(length: take)!
                    if self.assembling == nil {
                        // Grows with the bytes that really arrive: a 5-byte header claiming 16 MiB must not make
                        // the proxy allocate 16 MiB up front.
                        self.assembling = ByteBufferAllocator().buffer(capacity: min(total, Self.initialAssemblyCapacity))
                    }
                    self.assembling!.writeBuffer(&slice)
                } else {
                    chunk.moveReaderIndex(forwardBy: take)
                }
                if take == remaining {
                    self.state = .header
                    if keep {
                        let payload = self.assembling!
                        self.assembling = nil
                        try emit(.message(id: id, payload: payload))
                    }
                } else {
                    self.state = .body(id: id, remaining: remaining - take, total: total, keep: keep)
                }
            }
        }
    }

    /// The most a message being assembled reserves before its bytes arrive.
    static let initialAssemblyCapacity = 64 << 10

    /// Bytes reserved for the wanted message being assembled across chunks (0 when none is).
    var assemblyCapacity: Int { self.assembling?.capacity ?? 0 }

    /// True between messages: nothing of a message is pending.
    public var isAtBoundary: Bool {
        if case .header = self.state { return self.header.isEmpty }
        return false
    }

    private mutating func beginBody(
        id: UInt8, length: Int, wants: (UInt8) -> Bool, emit: (Frame) throws -> Void
    ) throws {
        let limit: Int
        switch self.direction {
        case .frontend: limit = MessageLimits.frontendLimit(for: id)
        case .backend: limit = MessageLimits.large
        }
        guard length >= 4 else {
            throw ProtocolViolation("invalid message length \(length) for message type \"\(Self.printable(id))\"")
        }
        guard length <= limit else {
            throw ProtocolViolation(
                "message of type \"\(Self.printable(id))\" is \(length) bytes long, over the limit of \(limit)")
        }
        let payloadLength = length - 4
        let wanted = wants(id)
        if wanted, payloadLength > self.maxTapLength {
            try emit(.oversized(id: id, length: payloadLength))
            if payloadLength > 0 {
                self.state = .body(id: id, remaining: payloadLength, total: payloadLength, keep: false)
            }
            return
        }
        if payloadLength == 0 {
            if wanted {
                try emit(.message(id: id, payload: ByteBuffer()))
            }
            return
        }
        self.state = .body(id: id, remaining: payloadLength, total: payloadLength, keep: wanted)
    }

    static func printable(_ id: UInt8) -> String {
        (0x20..<0x7F).contains(id) ? String(UnicodeScalar(id)) : "\\x" + String(id, radix: 16)
    }
}

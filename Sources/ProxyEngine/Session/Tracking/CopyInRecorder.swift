import Foundation
import NIOCore

/// Keeps the data a client sends in COPY FROM STDIN, so a replay can send it again.
///
/// The data is a byte stream: message boundaries mean nothing to the server, so it is kept in chunks of about
/// 64 KiB rather than one per CopyData message (psql sends one per line, and a million small strings cost far more
/// memory than their bytes). Chunks are text while the data is valid UTF-8 (readable in the file) and the whole
/// recording switches to base64 otherwise. Past `maxBytes` the rest is not kept and the recording says it was
/// truncated: the bound keeps a long COPY from growing the proxy's memory (docs/session-format.md).
struct CopyInRecorder {
    /// 8 MiB: with the JSON text the writer makes of it, a COPY then costs the proxy at most ~20 MiB at its peak.
    static let defaultMaxBytes = 8 << 20
    static let chunkBytes = 64 << 10

    private(set) var chunks: [String] = []
    private(set) var encoding: CopyDataEncoding?
    private(set) var truncated = false
    private var bytes = 0
    private let maxBytes: Int
    /// Bytes not yet turned into a chunk.
    private var pending: [UInt8] = []

    init(maxBytes: Int = Self.defaultMaxBytes) {
        self.maxBytes = maxBytes
    }

    mutating func append(_ payload: ByteBuffer) {
        guard !self.truncated else { return }
        self.bytes += payload.readableBytes
        if self.bytes > self.maxBytes {
            self.markTruncated()
            return
        }
        self.pending.append(contentsOf: payload.readableBytesView)
        if self.pending.count >= Self.chunkBytes {
            self.closeChunk(final: false)
        }
    }

    /// Turns what is pending into the last chunk; call once the COPY is over, before reading `chunks`.
    mutating func finish() {
        if !self.pending.isEmpty {
            self.closeChunk(final: true)
        }
    }

    mutating func markTruncated() {
        self.truncated = true
        self.pending = []
    }

    /// Makes a chunk of the pending bytes. Text chunks end on a character boundary: a character cut between two
    /// chunks waits in `pending` for the rest of its bytes.
    private mutating func closeChunk(final: Bool) {
        if self.encoding == nil {
            let cut = final ? self.pending.count : Self.characterBoundary(in: self.pending)
            if let text = String(validating: self.pending[..<cut], as: UTF8.self) {
                self.chunks.append(text)
                self.pending.removeFirst(cut)
                return
            }
            // Not UTF-8: the whole recording becomes base64, the text chunks so far included (their bytes are
            // exactly the bytes received).
            self.encoding = .base64
            self.chunks = self.chunks.map { Data($0.utf8).base64EncodedString() }
        }
        self.chunks.append(Data(self.pending).base64EncodedString())
        self.pending.removeAll(keepingCapacity: true)
    }

    /// The length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence.
    static func characterBoundary(in bytes: [UInt8]) -> Int {
        var index = bytes.count
        var continuation = 0
        while index > 0, continuation < 3, bytes[index - 1] & 0xC0 == 0x80 {
            index -= 1
            continuation += 1
        }
        guard index > 0 else { return bytes.count }
        let lead = bytes[index - 1]
        let length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        // A complete sequence (or not UTF-8 at all, which validation will catch): keep everything.
        return continuation + 1 >= length ? bytes.count : index - 1
    }
}

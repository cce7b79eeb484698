import Foundation
import NIOCore

/// Keeps the data a client sends in COPY FROM STDIN, so a replay can send it again.
///
/// Chunks are kept as text while the data is valid UTF-8 (readable in the file) and switch to base64 otherwise.
/// Past `maxBytes` the rest is not kept, and the recording says it was truncated; the bound keeps a long COPY
/// from growing the proxy's memory (docs/session-format.md).
struct CopyInRecorder {
    private(set) var chunks: [String] = []
    private(set) var encoding: String?
    private(set) var truncated = false
    private var bytes = 0
    private let maxBytes: Int
    /// The raw chunks, kept only until the recording switches to base64 (at most once).
    private var raw: [[UInt8]] = []

    init(maxBytes: Int = 16 << 20) {
        self.maxBytes = maxBytes
    }

    mutating func append(_ payload: ByteBuffer) {
        guard !self.truncated else { return }
        let bytes = Array(payload.readableBytesView)
        self.bytes += bytes.count
        if self.bytes > self.maxBytes {
            self.markTruncated()
            return
        }
        if self.encoding == nil, let text = String(validatingUTF8Bytes: bytes) {
            self.chunks.append(text)
        } else {
            if self.encoding == nil {
                // Switch the whole recording to base64 so the chunks stay one encoding.
                self.encoding = "base64"
                self.chunks = self.raw.map { Data($0).base64EncodedString() }
            }
            self.chunks.append(Data(bytes).base64EncodedString())
        }
        if self.encoding == nil { self.raw.append(bytes) }
    }

    mutating func markTruncated() {
        self.truncated = true
        self.raw = []
    }
}

extension String {
    init?(validatingUTF8Bytes bytes: [UInt8]) {
        guard let string = String(validating: bytes, as: UTF8.self) else { return nil }
        self = string
    }
}

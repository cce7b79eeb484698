import Foundation
import NIOCore
import Testing
@testable import ProxyEngine

@Suite("COPY FROM STDIN recording") struct CopyInRecorderTests {
    static func record(_ pieces: [[UInt8]], maxBytes: Int = CopyInRecorder.defaultMaxBytes) -> CopyInRecorder {
        var recorder = CopyInRecorder(maxBytes: maxBytes)
        for piece in pieces { recorder.append(ByteBuffer(bytes: piece)) }
        recorder.finish()
        return recorder
    }

    /// What a replay sends back: the chunks decoded and joined.
    static func bytes(of recorder: CopyInRecorder) -> [UInt8] {
        if recorder.encoding == .base64 {
            return recorder.chunks.flatMap { Array(Data(base64Encoded: $0)!) }
        }
        return recorder.chunks.flatMap { Array($0.utf8) }
    }

    @Test func manySmallMessagesBecomeFewChunksWithTheSameBytes() {
        let lines = (1...20_000).map { Array("\($0)\tname \($0)\n".utf8) }
        let recorder = Self.record(lines)
        #expect(recorder.encoding == nil)
        #expect(recorder.chunks.count < 10, "about 64 KiB a chunk, not one per message")
        #expect(Self.bytes(of: recorder) == lines.flatMap { $0 })
    }

    @Test func aCharacterCutBetweenMessagesAndChunksStaysText() {
        // "é" is two bytes; put one of them at the end of each 64 KiB stretch and the other at the start of the next.
        let e = Array("é".utf8)
        var pieces: [[UInt8]] = []
        var expected: [UInt8] = []
        for _ in 0..<3 {
            let filler = [UInt8](repeating: UInt8(ascii: "x"), count: CopyInRecorder.chunkBytes - 1) + [e[0]]
            pieces += [filler, [e[1]]]
            expected += filler + [e[1]]
        }
        let recorder = Self.record(pieces)
        #expect(recorder.encoding == nil)
        #expect(Self.bytes(of: recorder) == expected)
        #expect(recorder.chunks.allSatisfy { !$0.isEmpty })
    }

    @Test func binaryDataSwitchesTheWholeRecordingToBase64() {
        let text = [UInt8]("1\tplain\n".utf8)
        let binary: [UInt8] = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00]
        let big = [UInt8](repeating: UInt8(ascii: "a"), count: CopyInRecorder.chunkBytes)
        let recorder = Self.record([text, big, binary, text])
        #expect(recorder.encoding == .base64)
        #expect(Self.bytes(of: recorder) == text + big + binary + text)
    }

    @Test func pastTheLimitTheRestIsNotKeptAndTheRecordingSaysSo() {
        let piece = [UInt8](repeating: UInt8(ascii: "z"), count: 1000)
        let recorder = Self.record(Array(repeating: piece, count: 10), maxBytes: 4500)
        #expect(recorder.truncated)
        #expect(Self.bytes(of: recorder).count <= 4500)
    }

    @Test(arguments: [
        ("abc", 3), ("ab\u{e9}", 4), ("ab\u{20ac}", 5), ("ab\u{1F600}", 6),
    ])
    func aCompleteLastCharacterIsKept(text: String, count: Int) {
        let bytes = Array(text.utf8)
        #expect(bytes.count == count)
        #expect(CopyInRecorder.characterBoundary(in: bytes) == count)
    }

    @Test func anIncompleteLastCharacterWaits() {
        let euro = Array("\u{20ac}".utf8)  // three bytes
        #expect(CopyInRecorder.characterBoundary(in: [0x61] + euro.prefix(1)) == 1)
        #expect(CopyInRecorder.characterBoundary(in: [0x61] + euro.prefix(2)) == 1)
        let emoji = Array("\u{1F600}".utf8)  // four bytes
        #expect(CopyInRecorder.characterBoundary(in: [0x61] + emoji.prefix(3)) == 1)
    }
}

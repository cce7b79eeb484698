import NIOCore
import ProxyEngine

/// The invariants of the relay's framing, checked on any byte stream:
///
/// 1. `MessageFramer` finds the same messages, and the same error, whatever the chunking.
/// 2. It agrees with `RawMessageDecoder` (the endpoints' decoder): same messages, an error exactly when the
///    decoder refuses a header, and a boundary exactly when the decoder has nothing left.
/// 3. With a small tap limit, long messages come out as `.oversized`, in order; nothing else changes.
/// 4. The message decoders (Query, Parse, Bind, RowDescription, DataRow, ErrorResponse ...) take any payload:
///    a value or a ProtocolViolation, never a crash.
public enum FramingCheck {
    struct Outcome: Equatable {
        var frames: [String] = []
        var error: String?
        var atBoundary = true
    }

    public static func run(_ data: [UInt8], direction: MessageFramer.Direction) {
        var input = FuzzInput(data)
        let seed = UInt64(input.byte()) | UInt64(input.byte()) << 8
        let stream = input.rest()

        let whole = self.frame(stream, chunks: [stream.count], direction: direction, maxTap: 1 << 30)
        let chunked = self.frame(
            stream, chunks: chunkSizes(total: stream.count, seed: seed), direction: direction, maxTap: 1 << 30)
        require(whole == chunked, "chunking changed the framing: \(whole) vs \(chunked)")

        // The decoder's view of the same bytes.
        var decoder = RawMessageDecoder(direction: direction)
        var buffer = ByteBuffer(bytes: stream)
        var decoded: [String] = []
        var decoderError: String?
        while true {
            do {
                guard let message = try decoder.decode(buffer: &buffer) else { break }
                decoded.append(self.describe(id: message.id, payload: message.payload))
                self.decodePayload(id: message.id, payload: message.payload, direction: direction)
            } catch {
                decoderError = "\(error)"
                break
            }
        }
        require(decoded == Array(whole.frames.prefix(decoded.count)), "decoder and framer disagree on messages")
        if decoderError != nil {
            require(whole.error != nil, "the decoder refused a header the framer accepted")
            require(decoded.count == whole.frames.count, "the framer emitted a message past the decoder's error")
        } else {
            require(whole.error == nil, "the framer refused a stream the decoder accepts: \(whole.error ?? "")")
            require(decoded.count == whole.frames.count, "the framer emitted a message the decoder did not")
            require(whole.atBoundary == (buffer.readableBytes == 0), "boundary disagrees with the decoder")
        }

        // A small tap limit: the same messages, long ones reported as oversized.
        let small = self.frame(
            stream, chunks: chunkSizes(total: stream.count, seed: seed ^ 0xFFFF), direction: direction, maxTap: 16)
        require(small.error == whole.error, "the tap limit changed the error")
        // An oversized message is announced from its header, so one still incomplete at the end counts too.
        let extra = small.frames.count - whole.frames.count
        require(
            extra == 0 || (extra == 1 && !whole.atBoundary && small.frames.last?.hasPrefix("oversized ") == true),
            "the tap limit changed the message count")
        for (big, capped) in zip(whole.frames, small.frames) where big != capped {
            require(capped.hasPrefix("oversized "), "a message changed under the tap limit: \(big) vs \(capped)")
        }
    }

    private static func frame(
        _ stream: [UInt8], chunks: [Int], direction: MessageFramer.Direction, maxTap: Int
    ) -> Outcome {
        var framer = MessageFramer(direction: direction, maxTapLength: maxTap)
        var outcome = Outcome()
        var offset = 0
        do {
            for size in chunks {
                let chunk = ByteBuffer(bytes: stream[offset..<offset + size])
                offset += size
                try framer.feed(chunk, wants: { _ in true }) { frame in
                    switch frame {
                    case .message(let id, let payload):
                        outcome.frames.append(self.describe(id: id, payload: payload))
                    case .oversized(let id, let length):
                        outcome.frames.append("oversized \(id) \(length)")
                    }
                }
            }
        } catch {
            outcome.error = "\(error)"
        }
        outcome.atBoundary = framer.isAtBoundary
        return outcome
    }

    private static func describe(id: UInt8, payload: ByteBuffer) -> String {
        "\(id) " + payload.readableBytesView.map { String($0) }.joined(separator: ",")
    }

    /// Every decoder that may see this message type, as the tracker or the startup phases would call them.
    public static func decodePayload(id: UInt8, payload: ByteBuffer, direction: MessageFramer.Direction) {
        switch direction {
        case .frontend:
            switch id {
            case FrontendMessageID.query: _ = try? QueryMessage.sql(of: payload)
            case FrontendMessageID.parse: _ = try? ParseMessage.decode(from: payload)
            case FrontendMessageID.bind:
                if let bind = try? BindMessage.decode(from: payload) {
                    for index in bind.parameters.indices { _ = bind.format(ofParameter: index) }
                }
            case FrontendMessageID.execute: _ = try? ExecuteMessage.decode(from: payload)
            case FrontendMessageID.describe, FrontendMessageID.close: _ = try? TargetedMessage.decode(from: payload)
            default: break
            }
        case .backend:
            switch id {
            case BackendMessageID.rowDescription: _ = try? RowDescription.decode(from: payload)
            case BackendMessageID.dataRow: _ = try? DataRow.values(of: payload)
            case BackendMessageID.errorResponse, BackendMessageID.noticeResponse:
                _ = (try? ErrorFields.decode(from: payload))?.recorded
            case BackendMessageID.commandComplete: _ = try? CommandComplete.tag(of: payload)
            case BackendMessageID.readyForQuery: _ = try? ReadyForQuery.state(of: payload)
            case BackendMessageID.backendKeyData: _ = try? BackendKeyData.decode(from: payload)
            case BackendMessageID.parameterStatus: _ = try? ParameterStatus.decode(from: payload)
            case BackendMessageID.notificationResponse: _ = try? NotificationResponse.decode(from: payload)
            case BackendMessageID.authentication: _ = try? AuthenticationRequest.decode(from: payload)
            default: break
            }
        }
    }
}

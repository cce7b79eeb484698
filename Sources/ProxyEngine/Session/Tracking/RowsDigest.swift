import Crypto

/// The text of a result's `rows_digest` (docs/session-format.md): `sha256:` and 64 lower-case hex digits.
///
/// Written by hand rather than with `String(format:)` per byte, which costs microseconds: replay computes one for
/// every replayed result.
public enum RowsDigest {
    public static func text(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return digest.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: 7 + 2 * bytes.count) { buffer in
                var index = 0
                for byte in "sha256:".utf8 {
                    buffer[index] = byte
                    index += 1
                }
                for byte in bytes {
                    buffer[index] = digits[Int(byte >> 4)]
                    buffer[index + 1] = digits[Int(byte & 0x0f)]
                    index += 2
                }
                return index
            }
        }
    }
}

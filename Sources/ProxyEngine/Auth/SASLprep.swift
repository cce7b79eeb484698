import Foundation

/// The password normalisation SCRAM asks for (SASLprep, RFC 4013), done the way PostgreSQL does it in practice.
///
/// - A pure-ASCII password is used byte for byte, exactly as PostgreSQL does (even with control characters).
/// - Otherwise the RFC 3454 mapping step is applied as PostgreSQL applies it (non-ASCII spaces, table C.1.2, become
///   U+0020; the "commonly mapped to nothing" characters, table B.1, are removed), then Unicode NFKC
///   (Foundation's `precomposedStringWithCompatibilityMapping`). If the mapping leaves nothing, the raw bytes are
///   used, as PostgreSQL does.
/// - Not done: the prohibited-output, unassigned-code-point and bidirectional checks. PostgreSQL uses the raw
///   password bytes when those fail, so a password containing, say, private-use characters or mixing Hebrew with
///   Latin letters can hash differently here than in PostgreSQL. NFKC's Unicode version can also differ from the
///   Unicode 3.2 that stringprep fixes. Both only matter for such unusual passwords.
enum SASLprep {
    /// The bytes to feed PBKDF2 for `password`.
    static func normalize(_ password: String) -> [UInt8] {
        let raw = Array(password.utf8)
        if raw.allSatisfy({ $0 < 0x80 }) {
            return raw
        }
        var mapped = String.UnicodeScalarView()
        for scalar in password.unicodeScalars {
            if Self.isNonASCIISpace(scalar.value) {
                mapped.append(" ")
            } else if !Self.isMappedToNothing(scalar.value) {
                mapped.append(scalar)
            }
        }
        if mapped.isEmpty {
            return raw
        }
        return Array(String(mapped).precomposedStringWithCompatibilityMapping.utf8)
    }

    /// RFC 3454 table C.1.2. Checked before B.1, as PostgreSQL does, so U+200B (in both) becomes a space.
    private static func isNonASCIISpace(_ value: UInt32) -> Bool {
        switch value {
        case 0x00A0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// RFC 3454 table B.1.
    private static func isMappedToNothing(_ value: UInt32) -> Bool {
        switch value {
        case 0x00AD, 0x034F, 0x1806, 0x180B...0x180D, 0x200B...0x200D, 0x2060, 0xFE00...0xFE0F, 0xFEFF:
            return true
        default:
            return false
        }
    }
}

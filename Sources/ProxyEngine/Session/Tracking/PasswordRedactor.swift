/// Masks literal passwords in SQL (`CREATE ROLE x PASSWORD 'secret'`, `ALTER USER x WITH ENCRYPTED PASSWORD '...'`,
/// the verifier psql's `\password` sends) so they never reach a session file, a log or a screen.
///
/// It scans tokens instead of matching a regular expression so that quotes, `''` escapes, `E'...'` strings and
/// dollar-quoted strings are all handled, and it leaves every other byte of the statement as it was.
public enum PasswordRedactor {
    public static let mask = "'***'"

    /// Returns the SQL with every string literal that follows the keyword PASSWORD replaced by `'***'`,
    /// and whether anything was replaced.
    public static func redact(_ sql: String) -> (sql: String, redacted: Bool) {
        // Fast path: most statements never mention a password.
        guard sql.utf8.count >= 8, Self.containsPasswordKeyword(sql) else { return (sql, false) }
        let bytes = Array(sql.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        var afterPasswordKeyword = false
        var redacted = false
        while index < bytes.count {
            let byte = bytes[index]
            if Self.isIdentifierStart(byte) {
                var end = index
                while end < bytes.count, Self.isIdentifierPart(bytes[end]) { end += 1 }
                let isEscapeString = end - index == 1 && (byte | 0x20) == UInt8(ascii: "e") && end < bytes.count
                    && bytes[end] == UInt8(ascii: "'")
                if isEscapeString {
                    let literalEnd = Self.endOfQuoted(bytes, from: end, escapes: true)
                    Self.emitLiteral(bytes[index..<literalEnd], mask: afterPasswordKeyword, into: &output, &redacted)
                    afterPasswordKeyword = false
                    index = literalEnd
                    continue
                }
                let word = String(decoding: bytes[index..<end], as: UTF8.self).lowercased()
                afterPasswordKeyword = word == "password"
                output.append(contentsOf: bytes[index..<end])
                index = end
            } else if byte == UInt8(ascii: "'") {
                let literalEnd = Self.endOfQuoted(bytes, from: index, escapes: false)
                Self.emitLiteral(bytes[index..<literalEnd], mask: afterPasswordKeyword, into: &output, &redacted)
                afterPasswordKeyword = false
                index = literalEnd
            } else if byte == UInt8(ascii: "$"), let tagEnd = Self.dollarTagEnd(bytes, from: index) {
                let tag = bytes[index...tagEnd]
                var search = tagEnd + 1
                var literalEnd = bytes.count
                while search + tag.count <= bytes.count {
                    if bytes[search..<(search + tag.count)].elementsEqual(tag) {
                        literalEnd = search + tag.count
                        break
                    }
                    search += 1
                }
                Self.emitLiteral(bytes[index..<literalEnd], mask: afterPasswordKeyword, into: &output, &redacted)
                afterPasswordKeyword = false
                index = literalEnd
            } else if byte == UInt8(ascii: "\"") {
                let literalEnd = Self.endOfQuoted(bytes, from: index, quote: UInt8(ascii: "\""), escapes: false)
                output.append(contentsOf: bytes[index..<literalEnd])
                afterPasswordKeyword = false
                index = literalEnd
            } else {
                if !(byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D) {
                    afterPasswordKeyword = false
                }
                output.append(byte)
                index += 1
            }
        }
        guard redacted else { return (sql, false) }
        return (String(decoding: output, as: UTF8.self), true)
    }

    /// A byte scan for "password" in any case: this runs on every simple query, so no Foundation search.
    private static func containsPasswordKeyword(_ sql: String) -> Bool {
        var sql = sql
        sql.makeContiguousUTF8()  // a no-op for native strings; bridged ones get copied once
        let keyword = Array("password".utf8)
        return sql.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard bytes.count >= keyword.count else { return false }
            for start in 0...(bytes.count - keyword.count) where bytes[start] | 0x20 == keyword[0] {
                var matched = 1
                while matched < keyword.count, bytes[start + matched] | 0x20 == keyword[matched] { matched += 1 }
                if matched == keyword.count { return true }
            }
            return false
        } ?? true
    }

    private static func emitLiteral(
        _ literal: ArraySlice<UInt8>, mask: Bool, into output: inout [UInt8], _ redacted: inout Bool
    ) {
        if mask {
            output.append(contentsOf: Self.mask.utf8)
            redacted = true
        } else {
            output.append(contentsOf: literal)
        }
    }

    /// Index just past the closing quote of a literal that opens at `start` (or the end of the input).
    private static func endOfQuoted(
        _ bytes: [UInt8], from start: Int, quote: UInt8 = UInt8(ascii: "'"), escapes: Bool
    ) -> Int {
        var index = start + 1
        while index < bytes.count {
            let byte = bytes[index]
            if escapes, byte == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if byte == quote {
                if index + 1 < bytes.count, bytes[index + 1] == quote {
                    index += 2
                    continue
                }
                return index + 1
            }
            index += 1
        }
        return bytes.count
    }

    /// For `$tag$`, the index of the closing `$` of the opening tag.
    private static func dollarTagEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start + 1
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "$") { return index }
            guard Self.isIdentifierPart(bytes[index]), bytes[index] < 0x80 else { return nil }
            index += 1
        }
        return nil
    }

    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") || byte == UInt8(ascii: "_")
            || byte >= 0x80
    }

    private static func isIdentifierPart(_ byte: UInt8) -> Bool {
        Self.isIdentifierStart(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "$")
    }
}

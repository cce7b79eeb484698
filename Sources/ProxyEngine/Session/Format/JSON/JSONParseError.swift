/// Why bytes are not a JSON document, and where: `offset` is the 0-based byte offset of the offending byte in the
/// parsed bytes (the end of the bytes when they stop too early).
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The bytes end inside a value; `expected` says what should have come, e.g. `"," or "]"`.
        case unexpectedEnd(expected: String)
        case unexpectedByte(UInt8, expected: String)
        /// A byte sequence inside a string that is not UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
        /// U+10FFFF).
        case invalidUTF8
        /// A raw U+0000...U+001F inside a string: JSON requires them escaped.
        case controlCharacter(UInt8)
        /// A backslash followed by something other than `" \ / b f n r t u`.
        case invalidEscape(UInt8)
        /// `\u` not followed by four hexadecimal digits.
        case invalidUnicodeEscape
        /// A `\uD800`...`\uDFFF` escape that is not half of a high/low surrogate pair.
        case unpairedSurrogate(UInt16)
        /// A number that breaks the JSON grammar: `01`, `1.`, `-`, `1e`.
        case invalidNumber(reason: String)
        /// Arrays and objects nested deeper than the parser's limit.
        case tooDeep(limit: Int)
        /// Something other than whitespace after the document's value.
        case trailingData

        public var message: String {
            switch self {
            case .unexpectedEnd(let expected):
                return "the text ends where \(expected) should be"
            case .unexpectedByte(let byte, let expected):
                return "unexpected \(Self.describe(byte)), expected \(expected)"
            case .invalidUTF8:
                return "invalid UTF-8 in a string"
            case .controlCharacter(let byte):
                return "unescaped control character \(Self.hex(UInt16(byte))) in a string"
            case .invalidEscape(let byte):
                return "invalid escape \\\(Self.printable(byte)) in a string"
            case .invalidUnicodeEscape:
                return "\\u not followed by four hexadecimal digits"
            case .unpairedSurrogate(let unit):
                return "unpaired UTF-16 surrogate \\u\(String(unit, radix: 16, uppercase: true)) in a string"
            case .invalidNumber(let reason):
                return "invalid number: \(reason)"
            case .tooDeep(let limit):
                return "arrays and objects nested more than \(limit) deep"
            case .trailingData:
                return "unexpected text after the JSON value"
            }
        }

        /// `"x"` for a printable ASCII byte, `byte 0xC3` otherwise.
        static func describe(_ byte: UInt8) -> String {
            if byte > 0x20, byte < 0x7F {
                return "\"\(Self.printable(byte))\""
            }
            return "byte 0x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        }

        private static func printable(_ byte: UInt8) -> String {
            byte > 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "(byte 0x\(String(byte, radix: 16)))"
        }

        private static func hex(_ unit: UInt16) -> String {
            let digits = String(unit, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }
    }

    public var kind: Kind
    public var offset: Int

    public init(_ kind: Kind, offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    /// e.g. `unexpected "}", expected a string key at byte 17`.
    public var description: String { "\(self.kind.message) at byte \(self.offset)" }
}

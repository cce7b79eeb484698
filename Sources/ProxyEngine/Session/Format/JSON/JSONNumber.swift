/// A JSON number as written in the document (`-12`, `4.32`, `1e-7`).
///
/// Nothing is lost: an integer literal that fits in an `Int` is stored as that integer (which prints back as the
/// same digits), anything else as its literal text. So an int8 cell or a bigint of any size reads back digit for
/// digit, and each caller converts only what it needs, exactly once.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    private enum Storage: Sendable {
        case integer(Int)
        /// A literal with a fraction or an exponent, beyond `Int`, or `-0`.
        case literal(String)
    }

    private let storage: Storage

    /// An integer literal that fits; the parser has already computed it.
    init(integer: Int) {
        self.storage = .integer(integer)
    }

    /// A literal that is not an integer fitting in an `Int` (or is `-0`); the parser has checked it.
    init(literal: String) {
        self.storage = .literal(literal)
    }

    /// `text` must be a valid JSON number literal.
    init(text: String) {
        if text != "-0", let integer = Int(text) {
            self.storage = .integer(integer)
        } else {
            self.storage = .literal(text)
        }
    }

    /// The number from its literal; nil when `text` is not a JSON number (`01`, `1.`, `+1`, `NaN`, ` 1`).
    public init?(validating text: String) {
        let bytes = Array(text.utf8)
        let valid = bytes.withUnsafeBufferPointer { buffer in
            // The parser skips leading whitespace, a number literal has none.
            guard let first = buffer.first, first == UInt8(ascii: "-") || first &- UInt8(ascii: "0") < 10 else {
                return false
            }
            var parser = JSONParser(buffer)
            guard case .number = try? parser.parseValue(at: 0) else { return false }
            return parser.position == buffer.count
        }
        guard valid else { return nil }
        self.init(text: text)
    }

    /// The literal, e.g. `-12.5e3`.
    public var text: String {
        switch self.storage {
        case .integer(let integer):
            return String(integer)
        case .literal(let text):
            return text
        }
    }

    /// The value when the literal is an integer without fraction or exponent that fits in an `Int`.
    public var exactInteger: Int? {
        switch self.storage {
        case .integer(let integer):
            return integer
        case .literal(let text):
            return text == "-0" ? 0 : nil
        }
    }

    /// The nearest `Double` (±infinity beyond its range).
    public var double: Double {
        switch self.storage {
        case .integer(let integer):
            return Double(integer)
        case .literal(var text):
            return text.withUTF8 { Self.fastDouble($0) } ?? Double(text) ?? .nan
        }
    }

    public var description: String { self.text }

    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        switch (lhs.storage, rhs.storage) {
        case (.integer(let left), .integer(let right)):
            return left == right
        case (.literal(let left), .literal(let right)):
            return left == right
        default:
            return false  // one literal holds one kind of storage
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.text)
    }

    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var power = 1.0
        for _ in 0..<exponent {
            power *= 10
        }
        return power
    }

    /// Clinger's fast path: when the digits form an integer below 2^53 and the decimal exponent is within ±22,
    /// both are exact Doubles and one multiplication or division rounds correctly, giving what `strtod` gives
    /// (durations such as `0.16` always take it). nil otherwise.
    private static func fastDouble(_ literal: UnsafeBufferPointer<UInt8>) -> Double? {
        var index = 0
        var negative = false
        if index < literal.count, literal[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        var inFraction = false
        while index < literal.count {
            let byte = literal[index]
            if byte == UInt8(ascii: ".") {
                inFraction = true
            } else if byte &- UInt8(ascii: "0") < 10 {
                if mantissa != 0 || byte != UInt8(ascii: "0") {
                    digits += 1
                }
                guard digits <= 15 else { return nil }
                mantissa = mantissa * 10 + UInt64(byte &- UInt8(ascii: "0"))
                if inFraction {
                    exponent -= 1
                }
            } else {
                break  // an exponent follows
            }
            index += 1
        }
        if index < literal.count {
            index += 1  // "e" or "E"
            var exponentNegative = false
            if literal[index] == UInt8(ascii: "-") || literal[index] == UInt8(ascii: "+") {
                exponentNegative = literal[index] == UInt8(ascii: "-")
                index += 1
            }
            var written = 0
            while index < literal.count {
                written = written * 10 + Int(literal[index] &- UInt8(ascii: "0"))
                guard written < 1000 else { return nil }
                index += 1
            }
            exponent += exponentNegative ? -written : written
        }
        guard exponent >= -22, exponent <= 22 else { return nil }
        let magnitude =
            exponent < 0
            ? Double(mantissa) / Self.powersOfTen[-exponent] : Double(mantissa) * Self.powersOfTen[exponent]
        return negative ? -magnitude : magnitude
    }
}

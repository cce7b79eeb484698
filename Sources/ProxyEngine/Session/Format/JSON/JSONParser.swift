/// A strict RFC 8259 JSON parser that works directly on UTF-8 bytes and produces a typed `JSONValue`.
///
/// Written for `pgreel replay`, which must load a 100,000-query session file in a fraction of a second:
/// `JSONSerialization` builds a tree of bridged Foundation objects whose dynamic casts cost more than the parsing.
/// Strict: objects, arrays, strings (every escape, surrogate pairs), numbers, `true`/`false`/`null` and nothing
/// else; invalid UTF-8, raw control characters in strings, unpaired surrogates, malformed numbers, nesting beyond a
/// limit and (for a whole document) trailing text are errors carrying the byte offset. Recursive descent; the depth
/// limit also bounds the stack it uses.
public struct JSONParser {
    /// Deep enough for any session file (events nest 4 levels), shallow enough for a thread's stack.
    public static let defaultMaximumDepth = 512

    /// Parses one JSON document: optional whitespace, a value, optional whitespace, nothing else.
    public static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int = defaultMaximumDepth
    ) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes, maximumDepth: maximumDepth)
        let value = try parser.parseValue(at: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else {
            throw JSONParseError(.trailingData, offset: parser.position)
        }
        return value
    }

    public static func parse(
        _ bytes: [UInt8], maximumDepth: Int = defaultMaximumDepth
    ) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) in
            try Self.parse(buffer, maximumDepth: maximumDepth)
        }
    }

    public static func parse(
        _ text: String, maximumDepth: Int = defaultMaximumDepth
    ) throws(JSONParseError) -> JSONValue {
        try Self.parse(Array(text.utf8), maximumDepth: maximumDepth)
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private let maximumDepth: Int
    /// The next byte to read; after `parseValue(at:)`, the byte just past the value.
    private(set) var position = 0
    /// Line feeds that the last `parseValue(at:)` skipped (as whitespace: a valid value has none elsewhere), so
    /// that a caller can count lines without a second pass.
    private(set) var newlines = 0
    private var depth = 0
    /// Elements and members of the containers being parsed, innermost last, moved into one exactly sized array
    /// when their container closes: one allocation per container instead of one per doubling.
    private let elements = JSONParserStack<JSONValue>()
    private let members = JSONParserStack<JSONObject.Member>()
    /// The decoded bytes of a string that has escapes, reused from string to string.
    private var scratch: [UInt8] = []

    /// A parser over `bytes`, which must stay valid while it is used. One parser can read many values (the events
    /// of a file, say), reusing its buffers.
    init(_ bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int = defaultMaximumDepth) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    /// Parses the value that starts at `start` (after optional whitespace) and stops right after it, leaving what
    /// follows unread: `position` is then where the value ends.
    mutating func parseValue(at start: Int) throws(JSONParseError) -> JSONValue {
        self.position = start
        self.newlines = 0
        self.depth = 0
        self.elements.removeAll()
        self.members.removeAll()
        return try self.value()
    }

    // MARK: Values

    private mutating func value() throws(JSONParseError) -> JSONValue {
        self.skipWhitespace()
        guard self.position < self.bytes.count else {
            throw self.end(expecting: "a value")
        }
        switch self.bytes[self.position] {
        case UInt8(ascii: "{"):
            return try self.object()
        case UInt8(ascii: "["):
            return try self.array()
        case UInt8(ascii: "\""):
            return .string(try self.string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try self.number())
        case UInt8(ascii: "t"):
            try self.literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try self.literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try self.literal("null")
            return .null
        default:
            throw self.unexpected(expecting: "a value")
        }
    }

    private mutating func object() throws(JSONParseError) -> JSONValue {
        try self.enterContainer()
        self.skipWhitespace()
        if self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "}") {
            self.position += 1
            self.depth -= 1
            return .object(JSONObject())
        }
        let base = self.members.count
        while true {
            guard self.position < self.bytes.count else {
                throw self.end(expecting: "a string key")
            }
            guard self.bytes[self.position] == UInt8(ascii: "\"") else {
                throw self.unexpected(expecting: "a string key")
            }
            let key = try self.string()
            self.skipWhitespace()
            guard self.position < self.bytes.count else {
                throw self.end(expecting: "\":\"")
            }
            guard self.bytes[self.position] == UInt8(ascii: ":") else {
                throw self.unexpected(expecting: "\":\" after a key")
            }
            self.position += 1
            let value = try self.value()
            self.members.push(JSONObject.Member(key: key, value: value))
            self.skipWhitespace()
            guard self.position < self.bytes.count else {
                throw self.end(expecting: "\",\" or \"}\"")
            }
            let separator = self.bytes[self.position]
            if separator == UInt8(ascii: ",") {
                self.position += 1
                self.skipWhitespace()
                continue
            }
            guard separator == UInt8(ascii: "}") else {
                throw self.unexpected(expecting: "\",\" or \"}\"")
            }
            self.position += 1
            break
        }
        self.depth -= 1
        return .object(JSONObject(members: self.members.pop(from: base)))
    }

    private mutating func array() throws(JSONParseError) -> JSONValue {
        try self.enterContainer()
        self.skipWhitespace()
        if self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "]") {
            self.position += 1
            self.depth -= 1
            return .array([])
        }
        let base = self.elements.count
        while true {
            self.elements.push(try self.value())
            self.skipWhitespace()
            guard self.position < self.bytes.count else {
                throw self.end(expecting: "\",\" or \"]\"")
            }
            let separator = self.bytes[self.position]
            if separator == UInt8(ascii: ",") {
                self.position += 1
                continue
            }
            guard separator == UInt8(ascii: "]") else {
                throw self.unexpected(expecting: "\",\" or \"]\"")
            }
            self.position += 1
            break
        }
        self.depth -= 1
        return .array(self.elements.pop(from: base))
    }

    /// Steps over the `{` or `[` at `position`, refusing to go deeper than the limit.
    private mutating func enterContainer() throws(JSONParseError) {
        guard self.depth < self.maximumDepth else {
            throw JSONParseError(.tooDeep(limit: self.maximumDepth), offset: self.position)
        }
        self.depth += 1
        self.position += 1
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        for offset in 0..<count {
            let index = self.position + offset
            guard index < self.bytes.count else {
                throw self.end(expecting: "\(word)")
            }
            guard self.bytes[index] == word.utf8Start[offset] else {
                throw JSONParseError(.unexpectedByte(self.bytes[index], expected: "\(word)"), offset: index)
            }
        }
        self.position += count
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. An integer that fits in an `Int` is computed
    /// on the way (no text is kept for it); anything else is kept as its literal.
    private mutating func number() throws(JSONParseError) -> JSONNumber {
        let start = self.position
        let count = self.bytes.count
        var index = start
        let negative = self.bytes[index] == UInt8(ascii: "-")
        if negative {
            index += 1
        }
        guard index < count else {
            throw self.end(expecting: "a digit")
        }
        let first = self.bytes[index]
        let digitsStart = index
        var magnitude: UInt64 = 0
        if first == UInt8(ascii: "0") {
            index += 1
            if index < count, Self.isDigit(self.bytes[index]) {
                throw JSONParseError(.invalidNumber(reason: "a leading zero"), offset: start)
            }
        } else if Self.isDigit(first) {
            while index < count, Self.isDigit(self.bytes[index]) {
                // 19 digits never overflow a UInt64; longer integers are kept as text anyway.
                magnitude = magnitude &* 10 &+ UInt64(self.bytes[index] &- UInt8(ascii: "0"))
                index += 1
            }
        } else {
            throw JSONParseError(.unexpectedByte(first, expected: "a digit"), offset: index)
        }
        var isInteger = true
        if index < count, self.bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index = try self.digits(from: index + 1, after: "the decimal point")
        }
        if index < count, self.bytes[index] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            index += 1
            if index < count, self.bytes[index] == UInt8(ascii: "+") || self.bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            index = try self.digits(from: index, after: "the exponent's \"e\"")
        }
        self.position = index
        if isInteger, index - digitsStart <= 19 {
            if negative {
                // -0 is kept as its text: as an Int it would print as 0.
                if magnitude != 0, magnitude <= UInt64(Int.max) + 1 {
                    return JSONNumber(integer: Int(truncatingIfNeeded: 0 &- magnitude))
                }
            } else if magnitude <= UInt64(Int.max) {
                return JSONNumber(integer: Int(magnitude))
            }
        }
        let literal = UnsafeBufferPointer(rebasing: self.bytes[start..<index])
        return JSONNumber(literal: String(decoding: literal, as: UTF8.self))
    }

    /// Skips one or more digits starting at `start`; returns the index after them.
    private func digits(from start: Int, after what: String) throws(JSONParseError) -> Int {
        guard start < self.bytes.count else {
            throw self.end(expecting: "a digit")
        }
        guard Self.isDigit(self.bytes[start]) else {
            throw JSONParseError(.invalidNumber(reason: "no digit after \(what)"), offset: start)
        }
        var index = start + 1
        while index < self.bytes.count, Self.isDigit(self.bytes[index]) {
            index += 1
        }
        return index
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    // MARK: Strings

    /// The string whose opening quote is at `position`. Without escapes (the usual case) the bytes are checked in
    /// one pass and copied once into the String.
    private mutating func string() throws(JSONParseError) -> String {
        let start = self.position + 1
        let count = self.bytes.count
        var index = start
        while index < count {
            let byte = self.bytes[index]
            if byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
                index += 1
            } else if byte == UInt8(ascii: "\"") {
                self.position = index + 1
                return String(decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<index]), as: UTF8.self)
            } else if byte == UInt8(ascii: "\\") {
                return try self.escapedString(from: start, firstEscape: index)
            } else if byte >= 0x80 {
                index += try self.utf8SequenceLength(at: index)
            } else {
                throw JSONParseError(.controlCharacter(byte), offset: index)
            }
        }
        throw self.end(expecting: "the closing \" of a string")
    }

    /// The rest of a string from its first backslash on, decoded into `scratch`.
    private mutating func escapedString(from start: Int, firstEscape: Int) throws(JSONParseError) -> String {
        self.scratch.removeAll(keepingCapacity: true)
        let count = self.bytes.count
        var index = firstEscape
        var runStart = start
        while index < count {
            let byte = self.bytes[index]
            if byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            if byte >= 0x80 {
                index += try self.utf8SequenceLength(at: index)
                continue
            }
            if byte < 0x20 {
                throw JSONParseError(.controlCharacter(byte), offset: index)
            }
            self.scratch.append(contentsOf: UnsafeBufferPointer(rebasing: self.bytes[runStart..<index]))
            if byte == UInt8(ascii: "\"") {
                self.position = index + 1
                return String(decoding: self.scratch, as: UTF8.self)
            }
            index = try self.escape(at: index)
            runStart = index
        }
        throw self.end(expecting: "the closing \" of a string")
    }

    /// Decodes the escape whose backslash is at `index` into `scratch`; returns the index after it.
    private mutating func escape(at index: Int) throws(JSONParseError) -> Int {
        guard index + 1 < self.bytes.count else {
            throw self.end(expecting: "an escaped character")
        }
        let decoded: UInt8
        switch self.bytes[index + 1] {
        case UInt8(ascii: "\""): decoded = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): decoded = UInt8(ascii: "\\")
        case UInt8(ascii: "/"): decoded = UInt8(ascii: "/")
        case UInt8(ascii: "b"): decoded = 0x08
        case UInt8(ascii: "f"): decoded = 0x0C
        case UInt8(ascii: "n"): decoded = 0x0A
        case UInt8(ascii: "r"): decoded = 0x0D
        case UInt8(ascii: "t"): decoded = 0x09
        case UInt8(ascii: "u"):
            return try self.unicodeEscape(at: index)
        case let other:
            throw JSONParseError(.invalidEscape(other), offset: index)
        }
        self.scratch.append(decoded)
        return index + 2
    }

    /// `\uXXXX`, or a surrogate pair `\uD83D\uDC18`, at `index`, appended as UTF-8.
    private mutating func unicodeEscape(at index: Int) throws(JSONParseError) -> Int {
        let unit = try self.hexUnit(at: index)
        var scalar = UInt32(unit)
        var next = index + 6
        switch unit {
        case 0xD800...0xDBFF:
            // The low half must follow at once as another \u escape.
            for (offset, expected) in [UInt8(ascii: "\\"), UInt8(ascii: "u")].enumerated() {
                guard next + offset < self.bytes.count else {
                    throw self.end(expecting: "the low surrogate of a surrogate pair")
                }
                guard self.bytes[next + offset] == expected else {
                    throw JSONParseError(.unpairedSurrogate(unit), offset: index)
                }
            }
            let low = try self.hexUnit(at: next)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw JSONParseError(.unpairedSurrogate(unit), offset: index)
            }
            scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            next += 6
        case 0xDC00...0xDFFF:
            throw JSONParseError(.unpairedSurrogate(unit), offset: index)
        default:
            break
        }
        switch scalar {
        case 0..<0x80:
            self.scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            self.scratch.append(0xC0 | UInt8(scalar >> 6))
            self.scratch.append(0x80 | UInt8(scalar & 0x3F))
        case 0x800..<0x10000:
            self.scratch.append(0xE0 | UInt8(scalar >> 12))
            self.scratch.append(0x80 | UInt8(scalar >> 6 & 0x3F))
            self.scratch.append(0x80 | UInt8(scalar & 0x3F))
        default:
            self.scratch.append(0xF0 | UInt8(scalar >> 18))
            self.scratch.append(0x80 | UInt8(scalar >> 12 & 0x3F))
            self.scratch.append(0x80 | UInt8(scalar >> 6 & 0x3F))
            self.scratch.append(0x80 | UInt8(scalar & 0x3F))
        }
        return next
    }

    /// The four hexadecimal digits of the `\u` escape whose backslash is at `index`.
    private func hexUnit(at index: Int) throws(JSONParseError) -> UInt16 {
        var unit: UInt16 = 0
        for offset in 2..<6 {
            guard index + offset < self.bytes.count else {
                throw self.end(expecting: "four hexadecimal digits after \\u")
            }
            let byte = self.bytes[index + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw JSONParseError(.invalidUnicodeEscape, offset: index)
            }
            unit = unit << 4 | UInt16(digit)
        }
        return unit
    }

    /// The length of the UTF-8 sequence whose lead byte (≥ 0x80) is at `index` (RFC 3629 table 3-7: no overlong
    /// forms, no surrogates, nothing above U+10FFFF).
    private func utf8SequenceLength(at index: Int) throws(JSONParseError) -> Int {
        var lowest: UInt8 = 0x80
        var highest: UInt8 = 0xBF
        let length: Int
        switch self.bytes[index] {
        case 0xC2...0xDF:
            length = 2
        case 0xE0:
            length = 3
            lowest = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF:
            length = 3
        case 0xED:
            length = 3
            highest = 0x9F
        case 0xF0:
            length = 4
            lowest = 0x90
        case 0xF1...0xF3:
            length = 4
        case 0xF4:
            length = 4
            highest = 0x8F
        default:
            throw JSONParseError(.invalidUTF8, offset: index)
        }
        for offset in 1..<length {
            guard index + offset < self.bytes.count else {
                throw self.end(expecting: "the rest of a UTF-8 sequence")
            }
            let byte = self.bytes[index + offset]
            guard byte >= lowest, byte <= highest else {
                throw JSONParseError(.invalidUTF8, offset: index)
            }
            lowest = 0x80
            highest = 0xBF
        }
        return length
    }

    // MARK: Whitespace and errors

    @inline(__always)
    mutating func skipWhitespace() {
        // Compact JSON has no whitespace between tokens: settle that without a loop.
        guard self.position < self.bytes.count, self.bytes[self.position] <= 0x20 else { return }
        self.skipWhitespaceRun()
    }

    private mutating func skipWhitespaceRun() {
        while self.position < self.bytes.count {
            switch self.bytes[self.position] {
            case UInt8(ascii: "\n"):
                self.newlines += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                break
            default:
                return
            }
            self.position += 1
        }
    }

    private func end(expecting expected: String) -> JSONParseError {
        JSONParseError(.unexpectedEnd(expected: expected), offset: self.bytes.count)
    }

    private func unexpected(expecting expected: String) -> JSONParseError {
        JSONParseError(.unexpectedByte(self.bytes[self.position], expected: expected), offset: self.position)
    }
}

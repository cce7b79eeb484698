import Foundation
import Testing

@testable import ProxyEngine

@Suite("JSON parser")
struct JSONParserTests {
    private func parse(_ text: String, maximumDepth: Int = JSONParser.defaultMaximumDepth) throws -> JSONValue {
        try JSONParser.parse(text, maximumDepth: maximumDepth)
    }

    /// The error for `bytes`, nil when they parse.
    private func failure(_ bytes: [UInt8], maximumDepth: Int = JSONParser.defaultMaximumDepth) -> JSONParseError? {
        do {
            _ = try JSONParser.parse(bytes, maximumDepth: maximumDepth)
            return nil
        } catch {
            return error
        }
    }

    private func failure(_ text: String) -> JSONParseError? {
        self.failure(Array(text.utf8))
    }

    private func number(_ text: String) -> JSONValue {
        .number(JSONNumber(text: text))
    }

    // MARK: Valid documents

    @Test func parsesEveryKindOfValue() throws {
        let value = try self.parse(
            #"{"s":"text","n":-12.5e3,"i":42,"t":true,"f":false,"z":null,"a":[1,"two",[],{}],"o":{"k":"v"},"e":""}"#
        )
        let expected = JSONValue.object(
            JSONObject([
                "s": .string("text"), "n": self.number("-12.5e3"), "i": self.number("42"), "t": .bool(true),
                "f": .bool(false), "z": .null,
                "a": .array([self.number("1"), .string("two"), .array([]), .object(JSONObject())]),
                "o": .object(JSONObject(["k": .string("v")])), "e": .string(""),
            ])
        )
        #expect(value == expected)
    }

    @Test(arguments: [
        ("true", JSONValue.bool(true)), ("false", .bool(false)), ("null", .null), (#""x""#, .string("x")),
        ("0", .number(JSONNumber(text: "0"))), ("[]", .array([])), ("{}", .object(JSONObject())),
    ])
    func anyValueIsADocument(text: String, expected: JSONValue) throws {
        #expect(try self.parse(text) == expected)
    }

    @Test func whitespaceIsAllowedBetweenTokens() throws {
        let value = try self.parse(" \t\r\n{ \"a\" :\n[ 1 ,\t2 ] , \"b\" : { } }\r\n ")
        let expected = JSONObject(["a": .array([self.number("1"), self.number("2")]), "b": .object(JSONObject())])
        #expect(value == .object(expected))
    }

    @Test func objectsKeepTheirOrderAndTheLastDuplicateCounts() throws {
        guard case .object(let object) = try self.parse(#"{"b":1,"a":2,"b":3}"#) else {
            Issue.record("not an object")
            return
        }
        #expect(object.keys == ["b", "a", "b"])
        #expect(object["b"] == self.number("3"))
        #expect(object["a"] == self.number("2"))
        #expect(object["c"] == nil)
        #expect(object["bb"] == nil)
    }

    // MARK: Strings

    @Test(arguments: [
        (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{C}\n\r\t"),
        (#""\u0041\u00e9\u20AC\u00E9""#, "Aé€é"),
        (#""\uD83D\uDC18 and \ud834\udd1e""#, "🐘 and 𝄞"),
        (#""\u0000 nul \u001F\u007f""#, "\u{0} nul \u{1F}\u{7F}"),
        (#""plain é€𝄞 then \n escaped""#, "plain é€𝄞 then \n escaped"),
        (#""a\\""#, "a\\"),
        (#""\\\\""#, "\\\\"),
        ("\"\u{7F} DEL and \u{10FFFF} max are fine raw\"", "\u{7F} DEL and \u{10FFFF} max are fine raw"),
    ])
    func stringsDecodeEveryEscape(json: String, expected: String) throws {
        #expect(try self.parse(json) == .string(expected))
    }

    @Test(arguments: [
        (#""\uD83D""#, JSONParseError(.unpairedSurrogate(0xD83D), offset: 1)),
        (#""\uDC18""#, JSONParseError(.unpairedSurrogate(0xDC18), offset: 1)),
        (#""\uD83D\u0041""#, JSONParseError(.unpairedSurrogate(0xD83D), offset: 1)),
        (#""\uD83D\uD83D""#, JSONParseError(.unpairedSurrogate(0xD83D), offset: 1)),
        (#""ab\uD83Dxy""#, JSONParseError(.unpairedSurrogate(0xD83D), offset: 3)),
        (#""\x""#, JSONParseError(.invalidEscape(UInt8(ascii: "x")), offset: 1)),
        (#""ok\'""#, JSONParseError(.invalidEscape(UInt8(ascii: "'")), offset: 3)),
        (#""\u12G4""#, JSONParseError(.invalidUnicodeEscape, offset: 1)),
        (#""\u12""#, JSONParseError(.invalidUnicodeEscape, offset: 1)),
        ("\"tab\there\"", JSONParseError(.controlCharacter(0x09), offset: 4)),
        ("\"line\nbreak\"", JSONParseError(.controlCharacter(0x0A), offset: 5)),
        ("\"esc \\n then\u{1B}\"", JSONParseError(.controlCharacter(0x1B), offset: 12)),
        (#""unterminated"#, JSONParseError(.unexpectedEnd(expected: "the closing \" of a string"), offset: 13)),
        (#""\"#, JSONParseError(.unexpectedEnd(expected: "an escaped character"), offset: 2)),
    ])
    func badStringsAreRejectedWithTheirOffset(json: String, expected: JSONParseError) {
        #expect(self.failure(json) == expected)
    }

    @Test(arguments: [
        [0xC3],  // a lead byte without its continuation, then the quote
        [0x80],  // a continuation byte alone
        [0xFF], [0xFE], [0xF5, 0x80, 0x80, 0x80],  // never in UTF-8
        [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xF0, 0x80, 0x80, 0x80],  // overlong forms
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],  // UTF-16 surrogates encoded in UTF-8
        [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
        [0xE2, 0x82], [0xF0, 0x9F, 0x90],  // cut sequences
    ] as [[UInt8]])
    func invalidUTF8IsRejected(sequence: [UInt8]) {
        let bytes = Array(#"["ok","a"#.utf8) + sequence + Array(#"b"]"#.utf8)
        #expect(self.failure(bytes) == JSONParseError(.invalidUTF8, offset: 8))
        // The same bytes after an escape take the other path through the string reader.
        let escaped = Array(#"["ok","\n"#.utf8) + sequence + Array(#"b"]"#.utf8)
        #expect(self.failure(escaped) == JSONParseError(.invalidUTF8, offset: 9))
    }

    @Test func validUTF8OfEveryLengthIsKept() throws {
        let text = "a é ß € 中 𝄞 🐘 \u{80} \u{7FF} \u{800} \u{FFFF} \u{10000} \u{10FFFF} \u{E000} \u{D7FF}"
        #expect(try self.parse("\"\(text)\"") == .string(text))
        #expect(try self.parse("[\"\\t\(text)\"]") == .array([.string("\t" + text)]))
    }

    /// Whatever a session file holds, the writer's escaping and this parser agree, character for character.
    @Test func writerOutputParsesBackForRandomText() throws {
        var generator = SystemRandomNumberGenerator()
        let pool: [Unicode.Scalar] = [
            "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{1F}", "\u{7F}", "\u{80}", "\u{9F}",
            "\u{A0}", "é", "€", "\u{2028}", "\u{FFFD}", "\u{FFFF}", "𝄞", "🐘", "\u{10FFFF}",
        ]
        for _ in 0..<500 {
            var text = ""
            for _ in 0..<Int.random(in: 0...40, using: &generator) {
                text.unicodeScalars.append(pool.randomElement(using: &generator)!)
            }
            var writer = SessionJSONWriter(bytes: [])
            writer.string(text)
            #expect(try JSONParser.parse(writer.bytes) == .string(text), "\(text.debugDescription)")
        }
    }

    @Test func hugeStringsParse() throws {
        let unit = "0123456789abcdefghijklmnopqrstuvwxyz é€🐘 "
        let plain = String(repeating: unit, count: 200_000)  // about 9 MB
        #expect(try self.parse("\"\(plain)\"") == .string(plain))
        let withEscapes = String(repeating: unit + "\"\\\n", count: 100_000)
        var writer = SessionJSONWriter(bytes: [])
        writer.string(withEscapes)
        #expect(try JSONParser.parse(writer.bytes) == .string(withEscapes))
    }

    // MARK: Numbers

    @Test(arguments: [
        "0", "-0", "7", "-12", "1.5", "-0.25", "1e5", "1E+5", "2.5e-3", "0e0", "-0.0E-0",
        "123456789012345678901234567890", "9223372036854775807", "-9223372036854775808", "1e400",
    ])
    func numbersKeepTheirLiteralText(text: String) throws {
        #expect(try self.parse(text) == self.number(text))
        #expect(try self.parse("[\(text)]") == .array([self.number(text)]))
        #expect(JSONNumber(validating: text)?.text == text)
    }

    @Test func numbersConvertOnDemand() {
        #expect(JSONNumber(text: "42").exactInteger == 42)
        #expect(JSONNumber(text: "-9223372036854775808").exactInteger == Int.min)
        #expect(JSONNumber(text: "9223372036854775808").exactInteger == nil, "beyond Int: no wrap-around")
        #expect(JSONNumber(text: "1.0").exactInteger == nil, "a fraction is not an integer literal")
        #expect(JSONNumber(text: "2.5e-3").double == 0.0025)
        #expect(JSONNumber(text: "1e400").double == .infinity)
    }

    @Test(arguments: [
        ("01", JSONParseError(.invalidNumber(reason: "a leading zero"), offset: 0)),
        ("-01", JSONParseError(.invalidNumber(reason: "a leading zero"), offset: 0)),
        ("1.", JSONParseError(.unexpectedEnd(expected: "a digit"), offset: 2)),
        ("[1.]", JSONParseError(.invalidNumber(reason: "no digit after the decimal point"), offset: 3)),
        ("[1.e5]", JSONParseError(.invalidNumber(reason: "no digit after the decimal point"), offset: 3)),
        ("[1e]", JSONParseError(.invalidNumber(reason: "no digit after the exponent's \"e\""), offset: 3)),
        ("[1e+]", JSONParseError(.invalidNumber(reason: "no digit after the exponent's \"e\""), offset: 4)),
        ("-", JSONParseError(.unexpectedEnd(expected: "a digit"), offset: 1)),
        ("[-a]", JSONParseError(.unexpectedByte(UInt8(ascii: "a"), expected: "a digit"), offset: 2)),
        (".5", JSONParseError(.unexpectedByte(UInt8(ascii: "."), expected: "a value"), offset: 0)),
        ("+1", JSONParseError(.unexpectedByte(UInt8(ascii: "+"), expected: "a value"), offset: 0)),
        ("0x10", JSONParseError(.trailingData, offset: 1)),
        ("NaN", JSONParseError(.unexpectedByte(UInt8(ascii: "N"), expected: "a value"), offset: 0)),
        ("-Infinity", JSONParseError(.unexpectedByte(UInt8(ascii: "I"), expected: "a digit"), offset: 1)),
    ])
    func badNumbersAreRejected(text: String, expected: JSONParseError) {
        #expect(self.failure(text) == expected)
        #expect(JSONNumber(validating: text) == nil)
    }

    // MARK: Structure

    @Test(arguments: [
        ("", JSONParseError(.unexpectedEnd(expected: "a value"), offset: 0)),
        ("  \n", JSONParseError(.unexpectedEnd(expected: "a value"), offset: 3)),
        ("[", JSONParseError(.unexpectedEnd(expected: "a value"), offset: 1)),
        ("[1", JSONParseError(.unexpectedEnd(expected: "\",\" or \"]\""), offset: 2)),
        ("{", JSONParseError(.unexpectedEnd(expected: "a string key"), offset: 1)),
        (#"{"a""#, JSONParseError(.unexpectedEnd(expected: "\":\""), offset: 4)),
        ("[1,]", JSONParseError(.unexpectedByte(UInt8(ascii: "]"), expected: "a value"), offset: 3)),
        ("[1 2]", JSONParseError(.unexpectedByte(UInt8(ascii: "2"), expected: "\",\" or \"]\""), offset: 3)),
        (#"{"a" 1}"#, JSONParseError(.unexpectedByte(UInt8(ascii: "1"), expected: "\":\" after a key"), offset: 5)),
        (#"{"a":1,}"#, JSONParseError(.unexpectedByte(UInt8(ascii: "}"), expected: "a string key"), offset: 7)),
        (#"{"a":1 "b":2}"#, JSONParseError(.unexpectedByte(UInt8(ascii: "\""), expected: "\",\" or \"}\""), offset: 7)),
        ("{a:1}", JSONParseError(.unexpectedByte(UInt8(ascii: "a"), expected: "a string key"), offset: 1)),
        ("{1:1}", JSONParseError(.unexpectedByte(UInt8(ascii: "1"), expected: "a string key"), offset: 1)),
        (#"{"a":}"#, JSONParseError(.unexpectedByte(UInt8(ascii: "}"), expected: "a value"), offset: 5)),
        ("]", JSONParseError(.unexpectedByte(UInt8(ascii: "]"), expected: "a value"), offset: 0)),
        ("[1]]", JSONParseError(.trailingData, offset: 3)),
        ("{} x", JSONParseError(.trailingData, offset: 3)),
        ("[1] [2]", JSONParseError(.trailingData, offset: 4)),
        ("tru", JSONParseError(.unexpectedEnd(expected: "true"), offset: 3)),
        ("[nul]", JSONParseError(.unexpectedByte(UInt8(ascii: "]"), expected: "null"), offset: 4)),
        ("True", JSONParseError(.unexpectedByte(UInt8(ascii: "T"), expected: "a value"), offset: 0)),
        ("falsey", JSONParseError(.trailingData, offset: 5)),
        ("[\u{0}]", JSONParseError(.unexpectedByte(0, expected: "a value"), offset: 1)),
        ("\u{FEFF}[]", JSONParseError(.unexpectedByte(0xEF, expected: "a value"), offset: 0)),
        ("// comment\n[]", JSONParseError(.unexpectedByte(UInt8(ascii: "/"), expected: "a value"), offset: 0)),
        ("['single']", JSONParseError(.unexpectedByte(UInt8(ascii: "'"), expected: "a value"), offset: 1)),
    ])
    func malformedDocumentsAreRejectedWithTheirOffset(text: String, expected: JSONParseError) {
        #expect(self.failure(text) == expected)
    }

    @Test func errorsReadAsOneLine() {
        let error = JSONParseError(.unexpectedByte(UInt8(ascii: "}"), expected: "a string key"), offset: 17)
        #expect(error.description == #"unexpected "}", expected a string key at byte 17"#)
        #expect(JSONParseError(.controlCharacter(0x1B), offset: 3).description
            == "unescaped control character U+001B in a string at byte 3")
        #expect(JSONParseError(.unexpectedByte(0xC3, expected: "a value"), offset: 0).description
            == "unexpected byte 0xC3, expected a value at byte 0")
        #expect(JSONParseError(.unpairedSurrogate(0xD83D), offset: 1).description
            == #"unpaired UTF-16 surrogate \uD83D in a string at byte 1"#)
    }

    @Test func nestingUpToTheLimitParsesAndBeyondItFails() throws {
        let limit = JSONParser.defaultMaximumDepth
        let deepest = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        var value = try self.parse(deepest)
        var depth = 0
        while case .array(let elements) = value, let first = elements.first {
            value = first
            depth += 1
        }
        #expect(depth == limit - 1, "the innermost array is empty")

        let tooDeep = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        #expect(self.failure(tooDeep) == JSONParseError(.tooDeep(limit: limit), offset: limit))
        // Far too deep, and never closed: the limit stops it before the stack or the end does.
        let bomb = String(repeating: #"{"a":["#, count: 100_000)
        #expect(self.failure(bomb)?.kind == .tooDeep(limit: limit))

        let objects = #"{"a":{"b":{"c":1}}}"#
        #expect(throws: Never.self) { try self.parse(objects, maximumDepth: 3) }
        #expect(self.failure(Array(objects.utf8), maximumDepth: 2) == JSONParseError(.tooDeep(limit: 2), offset: 10))
    }

    @Test func largeArraysAndObjectsParse() throws {
        let count = 100_000
        let array = "[" + (0..<count).map { "\($0)" }.joined(separator: ",") + "]"
        guard case .array(let elements) = try self.parse(array) else {
            Issue.record("not an array")
            return
        }
        #expect(elements.count == count)
        #expect(elements.last == self.number("\(count - 1)"))

        let object = "{" + (0..<count).map { "\"k\($0)\":[\($0),{}]" }.joined(separator: ",") + "}"
        guard case .object(let members) = try self.parse(object) else {
            Issue.record("not an object")
            return
        }
        #expect(members.count == count)
        #expect(members["k99999"] == .array([self.number("99999"), .object(JSONObject())]))
    }

    /// The session file reader parses an event and stops right after it, counting the lines it skipped.
    @Test func parsesAValueInsideLargerText() throws {
        let text = Array("[\n{\"a\":\n[1,\n2]}\n,\n{\"b\":true}  x".utf8)
        try text.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(buffer)
            let first = try parser.parseValue(at: 2)
            #expect(first == .object(JSONObject(["a": .array([self.number("1"), self.number("2")])])))
            #expect(parser.position == 15)
            #expect(parser.newlines == 2)
            let second = try parser.parseValue(at: 18)
            #expect(second == .object(JSONObject(["b": .bool(true)])))
            #expect(parser.position == 28)
            #expect(parser.newlines == 0)
        }
    }

    /// Whatever prefix of a valid document the parser sees, it fails cleanly (never reads past the end or crashes).
    @Test func everyPrefixOfADocumentFailsCleanly() {
        let document = Array(
            #"{"s":"é\n\u00e9\uD83D\uDC18🐘","n":[-1.5e-3,0,true,false,null],"o":{"k":{}}}"#.utf8
        )
        #expect(self.failure(document) == nil)
        for length in 0..<document.count {
            let error = self.failure(Array(document.prefix(length)))
            #expect(error != nil, "prefix of \(length) bytes")
            if let error {
                #expect(error.offset <= length)
            }
        }
    }
}

import Foundation
import Testing

@testable import ProxyEngine

@Suite struct TerminalTextTests {
    @Test(arguments: [
        ("abc", 3),
        ("", 0),
        ("日本語", 6),
        ("한국어", 6),
        ("\u{1112}\u{1161}\u{11AB}", 2),  // 한 as decomposed Jamo
        ("\u{E9}", 1),  // é composed
        ("e\u{301}", 1),  // é decomposed
        ("ＡＢ", 4),  // fullwidth Latin
        ("ｶﾀ", 2),  // halfwidth Katakana
        ("😀", 2),
        ("👍🏽", 2),  // emoji with skin tone modifier
        ("👨‍👩‍👧", 2),  // ZWJ family
        ("🇯🇵", 2),  // flag
        ("⚠️", 2),  // text symbol + VS16
        ("⚠", 1),
        ("1️⃣", 2),  // keycap
        ("a\u{200B}b", 2),  // zero width space
        ("─│┌", 3),
    ])
    func displayWidth(text: String, width: Int) {
        #expect(TerminalText.displayWidth(of: text) == width)
    }

    @Test func escapesEverythingThatMovesTheCursor() {
        #expect(TerminalText.escaped("a\nb\r\tc") == "a\\nb\\r\\tc")
        #expect(TerminalText.escaped("\u{1B}[31mred") == "\\u{1B}[31mred")
        #expect(TerminalText.escaped("x\u{0}y\u{7F}z\u{85}") == "x\\u{00}y\\u{7F}z\\u{85}")
        #expect(TerminalText.escaped("\u{202E}evil\u{2028}") == "\\u{202E}evil\\u{2028}")
        #expect(TerminalText.escaped("a\tb", keepTabs: true) == "a\tb")
        #expect(TerminalText.escaped("日本語 é \\n") == "日本語 é \\n")
    }

    @Test func splitsLines() {
        #expect(TerminalText.escapedLines("SELECT 1\r\nFROM t\n") == ["SELECT 1", "FROM t"])
        #expect(TerminalText.escapedLines("a\n\nb") == ["a", "", "b"])
        #expect(TerminalText.escapedLines("") == [""])
        #expect(TerminalText.escapedLines("\tx\u{1B}") == ["\tx\\u{1B}"])
    }

    @Test func truncatesByDisplayWidth() {
        #expect(TerminalText.truncated("abcdef", toWidth: 6) == "abcdef")
        #expect(TerminalText.truncated("abcdefg", toWidth: 6) == "abcde…")
        // A wide character that does not fit whole is dropped rather than split.
        #expect(TerminalText.truncated("日本語です", toWidth: 6) == "日本…")
        #expect(TerminalText.displayWidth(of: TerminalText.truncated("日本語です", toWidth: 6)) == 5)
        #expect(TerminalText.truncated("e\u{301}e\u{301}e\u{301}", toWidth: 2) == "e\u{301}…")
        #expect(TerminalText.truncated("abc", toWidth: 0) == "…")
    }

    /// `fitted` is `truncated(escaped(...))` in one bounded pass: same text, same width, for every kind of text.
    @Test func fittedIsEscapeThenTruncate() {
        let samples = [
            "", "abc", "abcdef", "日本語です", "e\u{301}e\u{301}e\u{301}", "a\nb\r\tc", "\u{1B}[31mred",
            "x\u{0}y\u{7F}z\u{85}", "\u{202E}evil\u{2028}", "👨‍👩‍👧👍🏽⚠️1️⃣", "SELECT 1\r\nFROM t\n", "ＡＢｶﾀ한",
            "a\tb\n\u{01}é世",
        ]
        for text in samples {
            for width in 0...14 {
                for keepTabs in [false, true] {
                    let expected = TerminalText.truncated(TerminalText.escaped(text, keepTabs: keepTabs), toWidth: width)
                    let fitted = TerminalText.fitted(text, toWidth: width, keepTabs: keepTabs)
                    #expect(fitted.text == expected, "\(text.debugDescription) at \(width)")
                    #expect(fitted.width == TerminalText.displayWidth(of: expected))
                    #expect(fitted.isCut == (expected != TerminalText.escaped(text, keepTabs: keepTabs)))
                }
            }
        }
    }

    /// A value far wider than the place it is shown in: only its head is read, and the cut says so.
    @Test func fittingAHugeValueReadsItsHead() {
        let huge = String(repeating: "a\tb\n\u{01}é世", count: 200_000)
        let cell = TerminalText.fitted(huge, toWidth: 12)
        #expect(cell.text == "a\\tb\\n\\u{01…")
        #expect(cell.width == 12 && cell.isCut)
        // Zero-width marks piled up behind one letter: still a bounded read, and shown as cut.
        let marks = "x" + String(repeating: "\u{301}", count: 1_000_000)
        #expect(TerminalText.fitted(marks, toWidth: 5).isCut)
        let lines = TerminalText.escapedLines(huge, maxLines: 3, maxWidth: 12)
        #expect(lines.lines == ["a\tb", "\\u{01}é世a\tb", "\\u{01}é世a\tb"])
        #expect(lines.isCut)
        let oneLongLine = TerminalText.escapedLines(String(repeating: "x", count: 1_000_000), maxLines: 3, maxWidth: 8)
        #expect(oneLongLine.lines == ["xxxxxxx…"] && oneLongLine.isCut)
    }

    @Test func boundedLinesMatchTheWholeSplitWhenNothingIsCut() {
        for text in ["SELECT 1\r\nFROM t\n", "a\n\nb", "", "\tx\u{1B}", "\n", "a\n\n"] {
            let bounded = TerminalText.escapedLines(text, maxLines: 10, maxWidth: 40)
            #expect(bounded.lines == TerminalText.escapedLines(text))
            #expect(!bounded.isCut)
        }
        #expect(TerminalText.escapedLines("a\nb\nc", maxLines: 2, maxWidth: 40) == (["a", "b"], true))
    }

    @Test func timestampsAreUTC() throws {
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime]
        for text in [
            "2025-10-07T21:30:15Z", "1969-12-31T23:59:59Z", "2024-02-29T00:00:00Z", "2000-03-01T12:34:56Z",
            "1900-01-01T00:00:00Z", "2100-12-31T23:59:59Z",
        ] {
            let date = try #require(parser.date(from: text))
            let expected = text.dropLast() + ".000000Z"
            #expect(LogTimestamp(date).rfc3339Microseconds == expected)
        }
        let date = Date(timeIntervalSince1970: 1_759_872_615.123)
        #expect(LogTimestamp(date).clockMilliseconds == "21:30:15.123")
        #expect(LogTimestamp(date).rfc3339Microseconds == "2025-10-07T21:30:15.123000Z")
        let beforeEpoch = Date(timeIntervalSince1970: -0.25)
        #expect(LogTimestamp(beforeEpoch).rfc3339Microseconds == "1969-12-31T23:59:59.750000Z")
        // Out-of-range dates are clamped instead of trapping.
        #expect(LogTimestamp(Date(timeIntervalSince1970: 1e300)).rfc3339Microseconds == "9999-12-31T23:59:59.999999Z")
        #expect(LogTimestamp(Date(timeIntervalSince1970: -1e300)).rfc3339Microseconds == "0000-01-01T00:00:00.000000Z")
        #expect(LogTimestamp(Date(timeIntervalSince1970: .nan)).rfc3339Microseconds == "1970-01-01T00:00:00.000000Z")
    }

    @Test func colourDecision() {
        #expect(TerminalStyle.shouldUseColor(isTTY: true, environment: ["TERM": "xterm-256color"]))
        #expect(TerminalStyle.shouldUseColor(isTTY: true, environment: [:]))
        #expect(TerminalStyle.shouldUseColor(isTTY: true, environment: ["NO_COLOR": ""]))
        #expect(!TerminalStyle.shouldUseColor(isTTY: true, environment: ["NO_COLOR": "1"]))
        #expect(!TerminalStyle.shouldUseColor(isTTY: true, environment: ["TERM": "dumb"]))
        #expect(!TerminalStyle.shouldUseColor(isTTY: false, environment: ["TERM": "xterm"]))
        #expect(TerminalStyle.apply(.red, to: "x", enabled: false) == "x")
        #expect(TerminalStyle.apply(.red, to: "x", enabled: true) == "\u{1B}[31mx\u{1B}[0m")
    }
}

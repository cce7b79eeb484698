import Foundation

/// Measuring and sanitising text for a terminal.
///
/// Everything the headless log prints comes from clients and servers we do not control: a value holding an escape
/// sequence could repaint the operator's terminal and a newline would break a table. So every piece of event text
/// goes through `escaped(_:)`, and tables measure cells in terminal columns, not in characters or bytes.
public enum TerminalText {
    /// The number of terminal columns `text` occupies.
    ///
    /// Counted per grapheme cluster: East Asian wide and fullwidth characters and emoji take 2 columns, combining
    /// marks and format characters 0, everything else 1. A text-style symbol followed by the emoji variation
    /// selector (U+FE0F) is drawn as an emoji and so takes 2. Control characters count 0; escape them first.
    public static func displayWidth(of text: String) -> Int {
        var width = 0
        for character in text {
            width += self.displayWidth(of: character)
        }
        return width
    }

    /// The number of terminal columns one grapheme cluster occupies (0, 1 or 2).
    public static func displayWidth(of character: Character) -> Int {
        var visible = false
        var wide = false
        var emojiVariation = false
        for scalar in character.unicodeScalars {
            if scalar.value == 0xFE0F {
                emojiVariation = true
            }
            if self.isZeroWidth(scalar) {
                continue
            }
            visible = true
            if self.isWide(scalar) {
                wide = true
            }
        }
        if !visible {
            return 0
        }
        if wide {
            return 2
        }
        if emojiVariation, let first = character.unicodeScalars.first, first.properties.isEmoji {
            return 2
        }
        return 1
    }

    /// `text` with every character that could move the cursor, break a line or reorder the display shown as an
    /// escape: `\n`, `\r`, `\t` and `\u{1B}` style for other controls (C0, DEL, C1), line and paragraph separators
    /// and the bidirectional embedding, override and isolate controls.
    ///
    /// Linear, but it reads all of `text`: whatever is shown in a bounded place (a cell, a line, a page) goes through
    /// `fitted(_:toWidth:keepTabs:)` or `escapedLines(_:maxLines:maxWidth:)` instead, which read only what they show.
    ///
    /// - Parameter keepTabs: keep horizontal tabs as they are (free text such as SQL, where a tab only indents).
    public static func escaped(_ text: String, keepTabs: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { self.needsEscape($0, keepTabs: keepTabs) }) else {
            return text
        }
        // Bytes with room reserved once: appending to a String's UnicodeScalarView scalar by scalar copied the
        // whole string again and again, minutes for a few megabytes.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 64)
        for scalar in text.unicodeScalars {
            if self.needsEscape(scalar, keepTabs: keepTabs) {
                self.appendEscape(of: scalar, to: &bytes)
            } else {
                bytes.append(contentsOf: UTF8.encode(scalar)!)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `text` split into lines (on `\n` and `\r\n`), each escaped with tabs kept. A final newline adds no empty line.
    public static func escapedLines(_ text: String) -> [String] {
        self.escapedLines(text, maxLines: .max, maxWidth: nil).lines
    }

    /// At most `maxLines` lines of `text`, split and escaped as `escapedLines(_:)` does, each cut to `maxWidth`
    /// columns with `…`. With a width, only a bounded part of `text` is read (four scalars per column that can be
    /// shown, plus 4,096): a value of any size costs what is shown. `isCut` says that something was left out.
    public static func escapedLines(_ text: String, maxLines: Int, maxWidth: Int?) -> (lines: [String], isCut: Bool) {
        let scalars = text.unicodeScalars
        let budget = maxWidth.map { max(maxLines, 1).multipliedReportingOverflow(by: ($0 + 1) * 4).partialValue + 4096 }
        var lines: [String] = []
        var start = scalars.startIndex
        var scanned = 0
        while lines.count < maxLines {
            var end = start
            while end != scalars.endIndex, scalars[end] != "\n", scanned < budget ?? .max {
                scalars.formIndex(after: &end)
                scanned += 1
            }
            let lineEnded = end == scalars.endIndex || scalars[end] == "\n"
            var line = Substring(scalars[start..<end])
            if lineEnded, line.unicodeScalars.last == "\r" {
                line = Substring(line.unicodeScalars.dropLast())
            }
            guard let maxWidth else {
                lines.append(self.escaped(String(line), keepTabs: true))
                if end == scalars.endIndex { return (lines, false) }
                start = scalars.index(after: end)
                if start == scalars.endIndex { return (lines, false) }
                continue
            }
            var fitted = self.fitted(line, toWidth: maxWidth, keepTabs: true)
            guard lineEnded else {
                // The budget ran out inside this line: it ends with `…` whatever its start looked like.
                if !fitted.isCut {
                    fitted = self.fitted(line, toWidth: min(fitted.width, max(maxWidth, 1) - 1), keepTabs: true)
                    if !fitted.isCut { fitted.text += "…" }
                }
                lines.append(fitted.text)
                return (lines, true)
            }
            lines.append(fitted.text)
            if end == scalars.endIndex { return (lines, false) }
            start = scalars.index(after: end)
            scanned += 1
            // A final newline adds no empty line.
            if start == scalars.endIndex { return (lines, false) }
        }
        return (lines, true)
    }

    /// Text from outside made fit for a bounded place on a terminal: escaped, and cut with `…` when it is wider.
    public struct Fitted: Sendable, Equatable {
        public var text: String
        /// The columns `text` takes: at most the width asked for.
        public var width: Int
        /// Whether something was left out.
        public var isCut: Bool
    }

    /// `text` escaped (as `escaped(_:keepTabs:)`) and cut to at most `maxWidth` columns, ending with `…` when
    /// something was cut: what `truncated(escaped(text), toWidth: maxWidth)` gives, but only the part of `text`
    /// that can be shown is read, so the cost grows with `maxWidth`, never with the value (a client's 50 MB value
    /// costs what one cell shows).
    public static func fitted(_ text: String, toWidth maxWidth: Int, keepTabs: Bool = false) -> Fitted {
        self.fit(Substring(text), toWidth: maxWidth, escaping: true, keepTabs: keepTabs)
    }

    /// `fitted(_:toWidth:keepTabs:)` for a part of a string.
    public static func fitted(_ text: Substring, toWidth maxWidth: Int, keepTabs: Bool = false) -> Fitted {
        self.fit(text, toWidth: maxWidth, escaping: true, keepTabs: keepTabs)
    }

    /// `text` cut to at most `maxWidth` columns, ending with `…` when something was cut. `text` is shown as it is:
    /// escape it first, or use `fitted(_:toWidth:keepTabs:)`, which does both.
    public static func truncated(_ text: String, toWidth maxWidth: Int) -> String {
        self.fit(Substring(text), toWidth: maxWidth, escaping: false, keepTabs: true).text
    }

    /// The one pass behind `fitted` and `truncated`. While reading it remembers the longest prefix that fits in
    /// `limit - 1` columns; once the text proves wider than `limit`, that prefix and `…` are the answer. Only a
    /// head of the text is looked at: every column takes at least one scalar, and past 16 scalars a column (zero-
    /// width marks piled up) the text counts as too long to show whole.
    private static func fit(_ text: Substring, toWidth maxWidth: Int, escaping: Bool, keepTabs: Bool) -> Fitted {
        let limit = max(maxWidth, 1)
        let scalars = text.unicodeScalars
        let scanLimit = limit.multipliedReportingOverflow(by: 16).partialValue + 64
        var headEnd = scalars.startIndex
        var scanned = 0
        while headEnd != scalars.endIndex, scanned < scanLimit {
            scalars.formIndex(after: &headEnd)
            scanned += 1
        }
        let isWholeText = headEnd == scalars.endIndex

        var output = ""
        var width = 0
        var keptEnd = output.endIndex
        var keptWidth = 0
        var tooWide = false
        /// Appends a piece unless it makes the text wider than the limit (then reading stops).
        func add(_ piece: String, columns: Int) -> Bool {
            width += columns
            guard width <= limit else {
                tooWide = true
                return false
            }
            output += piece
            if width < limit {
                keptEnd = output.endIndex
                keptWidth = width
            }
            return true
        }
        reading: for character in Substring(scalars[..<headEnd]) {
            guard escaping, character.unicodeScalars.contains(where: { self.needsEscape($0, keepTabs: keepTabs) })
            else {
                if !add(String(character), columns: self.displayWidth(of: character)) { break }
                continue
            }
            // An escape is plain ASCII, a column a byte, and is cut like any other text.
            for scalar in character.unicodeScalars {
                guard self.needsEscape(scalar, keepTabs: keepTabs) else {
                    if !add(String(scalar), columns: self.displayWidth(of: Character(scalar))) { break reading }
                    continue
                }
                var escape: [UInt8] = []
                self.appendEscape(of: scalar, to: &escape)
                for byte in escape where !add(String(UnicodeScalar(byte)), columns: 1) {
                    break reading
                }
            }
        }
        if !tooWide, isWholeText {
            return Fitted(text: output, width: width, isCut: false)
        }
        return Fitted(text: String(output[..<keptEnd]) + "…", width: keptWidth + 1, isCut: true)
    }

    /// The line under a text cut for display, the same in the log, the dashboard and replay's output: how long the
    /// whole text is and where it is whole, e.g. `… (SQL cut here: 52,000,000 bytes in all; the session file has it
    /// whole)`.
    public static func cutNote(of text: String, what: String) -> String {
        "… (\(what) cut here: \(self.grouped(text.utf8.count)) bytes in all; the session file has it whole)"
    }

    /// A count with thousands separators: `1,234,567`.
    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return (value < 0 ? "-" : "") + result
    }

    /// `text` followed by spaces up to `width` columns.
    public static func padded(_ text: String, toWidth width: Int) -> String {
        let missing = width - self.displayWidth(of: text)
        return missing > 0 ? text + String(repeating: " ", count: missing) : text
    }

    /// The escape written for `scalar`: `\n`, `\r`, `\t`, else `\u{1B}` style (at least two hex digits).
    private static func appendEscape(of scalar: Unicode.Scalar, to bytes: inout [UInt8]) {
        switch scalar.value {
        case 0x0A: bytes += Array("\\n".utf8)
        case 0x0D: bytes += Array("\\r".utf8)
        case 0x09: bytes += Array("\\t".utf8)
        default:
            let hex = String(scalar.value, radix: 16, uppercase: true)
            bytes += Array("\\u{".utf8)
            if hex.count < 2 { bytes.append(UInt8(ascii: "0")) }
            bytes += Array(hex.utf8)
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private static func needsEscape(_ scalar: Unicode.Scalar, keepTabs: Bool) -> Bool {
        switch scalar.value {
        case 0x09: return !keepTabs
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x2028, 0x2029: return true
        case 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    private static func isZeroWidth(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F:
            return true
        case 0x1160...0x11FF, 0xD7B0...0xD7FF:
            // Hangul medial vowels and final consonants join the preceding initial consonant.
            return true
        default:
            break
        }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format:
            return true
        default:
            return false
        }
    }

    private static func isWide(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.properties.isEmojiPresentation {
            return true
        }
        let value = scalar.value
        guard value >= 0x1100 else {
            return false
        }
        var low = 0
        var high = self.wideRanges.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let range = self.wideRanges[middle]
            if value < range.lowerBound {
                high = middle - 1
            } else if value > range.upperBound {
                low = middle + 1
            } else {
                return true
            }
        }
        return false
    }

    /// East Asian Wide (W) and Fullwidth (F) code points (Unicode's EastAsianWidth.txt), sorted, without the emoji
    /// that `isEmojiPresentation` already covers.
    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F,  // Hangul Jamo initial consonants
        0x2329...0x232A,  // angle brackets
        0x2E80...0x2E99, 0x2E9B...0x2EF3,  // CJK radicals supplement
        0x2F00...0x2FD5,  // Kangxi radicals
        0x2FF0...0x2FFF,  // ideographic description characters
        0x3000...0x303E,  // CJK symbols and punctuation
        0x3041...0x3096, 0x3099...0x30FF,  // Hiragana, Katakana
        0x3105...0x312F,  // Bopomofo
        0x3131...0x318E,  // Hangul compatibility Jamo
        0x3190...0x31E5,  // Kanbun, Bopomofo extended, CJK strokes
        0x31EF...0x321E,  // Katakana phonetic extensions, enclosed CJK
        0x3220...0x3247,
        0x3250...0x4DBF,  // enclosed CJK, CJK compatibility, CJK extension A
        0x4E00...0xA48C,  // CJK unified ideographs, Yi syllables
        0xA490...0xA4C6,  // Yi radicals
        0xA960...0xA97C,  // Hangul Jamo extended A
        0xAC00...0xD7A3,  // Hangul syllables
        0xF900...0xFAFF,  // CJK compatibility ideographs
        0xFE10...0xFE19,  // vertical forms
        0xFE30...0xFE52, 0xFE54...0xFE66, 0xFE68...0xFE6B,  // CJK compatibility forms, small form variants
        0xFF01...0xFF60,  // fullwidth forms
        0xFFE0...0xFFE6,  // fullwidth signs
        0x16FE0...0x16FE4, 0x16FF0...0x16FF1,  // ideographic symbols
        0x17000...0x187F7,  // Tangut
        0x18800...0x18CD5,  // Tangut components, Khitan
        0x18D00...0x18D08,
        0x1AFF0...0x1AFFE,  // Kana extended B
        0x1B000...0x1B122,  // Kana supplement and extended A
        0x1B132...0x1B132, 0x1B150...0x1B152, 0x1B155...0x1B155, 0x1B164...0x1B167,  // small Kana
        0x1B170...0x1B2FB,  // Nushu
        0x1F200...0x1F202, 0x1F210...0x1F23B, 0x1F240...0x1F248, 0x1F250...0x1F251,  // enclosed ideographs
        0x1F260...0x1F265,
        0x20000...0x2FFFD,  // CJK extensions B to F (plane 2)
        0x30000...0x3FFFD,  // CJK extension G and later (plane 3)
    ]
}

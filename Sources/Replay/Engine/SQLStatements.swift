/// Just enough of PostgreSQL's lexical rules to find where statements end and what their first words are.
///
/// `--rollback` must recognise transaction control (a recorded COMMIT must never end the replay's own transaction),
/// also inside a multi-statement simple query, and a replay must notice `DEALLOCATE`/`DISCARD`. A regular
/// expression would be fooled by a `;` or a `COMMIT` inside a string, a comment, a dollar-quoted function body or a
/// `BEGIN ATOMIC ... END` block, so this follows psql's own splitting rules: quotes ('...', E'...', "...",
/// $tag$...$tag$), nested /* */ comments, -- comments, parentheses, and BEGIN/CASE ... END inside CREATE.
public enum SQLStatements {
    /// The statements of `sql`, split on top-level semicolons, each without its `;`; pieces holding nothing but
    /// whitespace and comments are left out.
    public static func split(_ sql: String) -> [String] {
        var scanner = SQLScanner(Array(sql.utf8))
        var statements: [String] = []
        var start = 0
        var hasContent = false
        while let token = scanner.nextToken() {
            switch token.kind {
            case .semicolon:
                if hasContent {
                    statements.append(scanner.text(start..<token.range.lowerBound))
                }
                start = token.range.upperBound
                hasContent = false
            default:
                hasContent = true
            }
        }
        if hasContent {
            statements.append(scanner.text(start..<scanner.count))
        }
        return statements.map { $0.trimmingWhitespace() }
    }

    /// The first `count` top-level words of a statement, upper-cased (quoted identifiers keep their case and
    /// quotes); stops early at a token that is not a word.
    public static func leadingWords(_ statement: String, count: Int) -> [String] {
        var scanner = SQLScanner(Array(statement.utf8))
        var words: [String] = []
        while words.count < count, let token = scanner.nextToken() {
            guard case .word(let word) = token.kind else { break }
            words.append(word)
        }
        return words
    }

    /// Every word of the statement outside strings and comments, upper-cased; quoted identifiers as written
    /// (between their quotes), so a check can look for a setting name in either form.
    public static func words(_ sql: String) -> [String] {
        var scanner = SQLScanner(Array(sql.utf8))
        var words: [String] = []
        while let token = scanner.nextToken() {
            switch token.kind {
            case .word(let word): words.append(word)
            case .quotedIdentifier(let name): words.append(name)
            default: break
            }
        }
        return words
    }
}

/// Transaction control statements, which `--rollback` turns into savepoints.
public enum TransactionCommand: Sendable, Equatable {
    /// BEGIN or START TRANSACTION; `tag` is the command tag PostgreSQL answers with.
    case begin(tag: String)
    /// COMMIT or END (`AND CHAIN` starts the next transaction at once).
    case commit(chain: Bool)
    /// ROLLBACK or ABORT, not ROLLBACK TO SAVEPOINT (which stays as it is).
    case rollback(chain: Bool)
    /// SET TRANSACTION ...: the characteristics of a transaction, which a savepoint cannot take.
    case setTransaction
    /// PREPARE TRANSACTION, COMMIT PREPARED, ROLLBACK PREPARED: two-phase commit, never replayed under --rollback.
    case twoPhase

    /// The transaction command `statement` (one statement) is, or nil when it is not one.
    public static func classify(_ statement: String) -> TransactionCommand? {
        let words = SQLStatements.leadingWords(statement, count: 6)
        guard let first = words.first else { return nil }
        let second = words.count > 1 ? words[1] : nil
        let chain = Self.chains(words)
        switch first {
        case "BEGIN":
            return .begin(tag: "BEGIN")
        case "START" where second == "TRANSACTION":
            return .begin(tag: "START TRANSACTION")
        case "COMMIT", "END":
            if first == "COMMIT", second == "PREPARED" { return .twoPhase }
            return .commit(chain: chain)
        case "ROLLBACK", "ABORT":
            if first == "ROLLBACK", second == "PREPARED" { return .twoPhase }
            // ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name is a savepoint command.
            let rest = words.dropFirst().drop { $0 == "WORK" || $0 == "TRANSACTION" }
            if rest.first == "TO" { return nil }
            return .rollback(chain: chain)
        case "PREPARE" where second == "TRANSACTION":
            return .twoPhase
        case "SET" where second == "TRANSACTION":
            return .setTransaction
        default:
            return nil
        }
    }

    private static func chains(_ words: [String]) -> Bool {
        guard let and = words.firstIndex(of: "AND") else { return false }
        let rest = words[(and + 1)...]
        return rest.first == "CHAIN"
    }
}

/// A token of SQL text: only the distinctions the splitter and `IDMap` need.
struct SQLToken {
    enum Kind: Equatable {
        case word(String)
        case quotedIdentifier(String)
        case semicolon
        /// A numeric constant as written (`5`, `1.5`, `1e3`, `0x1F`).
        case number
        /// Strings (the range includes their quotes), operators, parameters: anything else that is not
        /// whitespace or a comment.
        case other
    }

    var kind: Kind
    var range: Range<Int>
}

/// Walks UTF-8 bytes of SQL, skipping whitespace and comments, tracking parentheses and BEGIN ... END blocks of
/// CREATE FUNCTION/PROCEDURE bodies so that only statement-ending semicolons come out as `.semicolon`.
struct SQLScanner {
    private let bytes: [UInt8]
    private var index = 0
    private var parenthesisDepth = 0
    /// Depth of BEGIN (ATOMIC) / CASE ... END inside a statement that starts with CREATE.
    private var blockDepth = 0
    private var statementFirstWord: String?

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var count: Int { self.bytes.count }

    func text(_ range: Range<Int>) -> String {
        String(decoding: self.bytes[range], as: UTF8.self)
    }

    mutating func nextToken() -> SQLToken? {
        while true {
            self.skipWhitespaceAndComments()
            guard self.index < self.bytes.count else { return nil }
            let start = self.index
            let byte = self.bytes[start]
            switch byte {
            case UInt8(ascii: ";"):
                self.index += 1
                if self.parenthesisDepth > 0 || self.blockDepth > 0 {
                    return SQLToken(kind: .other, range: start..<self.index)
                }
                self.statementFirstWord = nil
                return SQLToken(kind: .semicolon, range: start..<self.index)
            case UInt8(ascii: "("):
                self.parenthesisDepth += 1
                self.index += 1
            case UInt8(ascii: ")"):
                self.parenthesisDepth = max(0, self.parenthesisDepth - 1)
                self.index += 1
            case UInt8(ascii: "'"):
                self.skipQuoted(UInt8(ascii: "'"), backslashEscapes: false)
            case UInt8(ascii: "\""):
                self.skipQuoted(UInt8(ascii: "\""), backslashEscapes: false)
                let name = self.text((start + 1)..<max(start + 1, self.index - 1))
                self.noteWord(nil)
                return SQLToken(kind: .quotedIdentifier(name), range: start..<self.index)
            case UInt8(ascii: "$"):
                if !self.skipDollarQuote() {
                    self.index += 1
                    while self.index < self.bytes.count, Self.isDigit(self.bytes[self.index]) { self.index += 1 }
                }
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                while self.index < self.bytes.count,
                    Self.isWordPart(self.bytes[self.index]) || self.bytes[self.index] == UInt8(ascii: ".")
                {
                    self.index += 1
                }
                return SQLToken(kind: .number, range: start..<self.index)
            default:
                if Self.isWordStart(byte) {
                    while self.index < self.bytes.count, Self.isWordPart(self.bytes[self.index]) { self.index += 1 }
                    let word = self.text(start..<self.index).uppercased()
                    // E'...' is an escape string; U&'...', B'...', X'...' follow the normal quoting rules.
                    if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "'"), word == "E" {
                        self.skipQuoted(UInt8(ascii: "'"), backslashEscapes: true)
                        return SQLToken(kind: .other, range: start..<self.index)
                    }
                    self.noteWord(word)
                    return SQLToken(kind: .word(word), range: start..<self.index)
                }
                self.index += 1
            }
            return SQLToken(kind: .other, range: start..<self.index)
        }
    }

    /// Tracks BEGIN/CASE ... END nesting inside CREATE statements (SQL-standard function bodies, `BEGIN ATOMIC`).
    private mutating func noteWord(_ word: String?) {
        if self.statementFirstWord == nil {
            self.statementFirstWord = word ?? ""
            return
        }
        guard self.statementFirstWord == "CREATE", let word else { return }
        switch word {
        case "BEGIN":
            self.blockDepth += 1
        case "CASE" where self.blockDepth > 0:
            self.blockDepth += 1
        case "END" where self.blockDepth > 0:
            self.blockDepth -= 1
        default:
            break
        }
    }

    private mutating func skipWhitespaceAndComments() {
        while self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
                || byte == UInt8(ascii: "\r") || byte == 0x0B || byte == 0x0C
            {
                self.index += 1
            } else if byte == UInt8(ascii: "-"), self.peek(1) == UInt8(ascii: "-") {
                while self.index < self.bytes.count, self.bytes[self.index] != UInt8(ascii: "\n") { self.index += 1 }
            } else if byte == UInt8(ascii: "/"), self.peek(1) == UInt8(ascii: "*") {
                var depth = 0
                while self.index < self.bytes.count {
                    if self.bytes[self.index] == UInt8(ascii: "/"), self.peek(1) == UInt8(ascii: "*") {
                        depth += 1
                        self.index += 2
                    } else if self.bytes[self.index] == UInt8(ascii: "*"), self.peek(1) == UInt8(ascii: "/") {
                        depth -= 1
                        self.index += 2
                        if depth == 0 { break }
                    } else {
                        self.index += 1
                    }
                }
            } else {
                return
            }
        }
    }

    /// Skips a quoted string or identifier starting at `index`; a doubled quote is part of it.
    private mutating func skipQuoted(_ quote: UInt8, backslashEscapes: Bool) {
        self.index += 1
        while self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            if backslashEscapes, byte == UInt8(ascii: "\\") {
                self.index += 2
                continue
            }
            self.index += 1
            if byte == quote {
                if self.index < self.bytes.count, self.bytes[self.index] == quote {
                    self.index += 1
                    continue
                }
                return
            }
        }
    }

    /// Skips `$tag$ ... $tag$` starting at `index` and returns true; false (nothing consumed) when the `$` does not
    /// open a dollar quote.
    private mutating func skipDollarQuote() -> Bool {
        var end = self.index + 1
        if end < self.bytes.count, Self.isWordStart(self.bytes[end]) {
            while end < self.bytes.count, Self.isWordPart(self.bytes[end]), self.bytes[end] != UInt8(ascii: "$") {
                end += 1
            }
        }
        guard end < self.bytes.count, self.bytes[end] == UInt8(ascii: "$") else { return false }
        let delimiter = Array(self.bytes[self.index...end])
        var search = end + 1
        while search + delimiter.count <= self.bytes.count {
            if self.bytes[search] == UInt8(ascii: "$"),
                Array(self.bytes[search..<(search + delimiter.count)]) == delimiter
            {
                self.index = search + delimiter.count
                return true
            }
            search += 1
        }
        self.index = self.bytes.count
        return true
    }

    private func peek(_ offset: Int) -> UInt8? {
        self.index + offset < self.bytes.count ? self.bytes[self.index + offset] : nil
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func isWordStart(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_") || byte >= 0x80
    }

    private static func isWordPart(_ byte: UInt8) -> Bool {
        Self.isWordStart(byte) || Self.isDigit(byte) || byte == UInt8(ascii: "$")
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = self.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}

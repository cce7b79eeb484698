import Foundation

/// The human output of `pgreel proxy` without a dashboard: one event in, the seed's lines out.
///
/// Pure: no I/O, no clock, no shared state; the caller writes the lines. Every non-blank line starts with
/// `[<session id>] `; blank lines stay bare, as in the seed. Query times are printed in UTC (`HH:MM:SS.mmm`),
/// the same clock as the session file's timestamps. Every piece of text that came from a client or a server is
/// escaped (`TerminalText.escaped`), so nothing it holds can drive the terminal: with `color` off the output never
/// contains an escape byte.
///
/// Bounded by what is shown, never by the value: a cell reads at most its width of the value, SQL and messages at
/// most `maxTextLines` lines of `maxLineWidth` columns, a table at most `maxRows` rows. A client's 50 MB value costs
/// what one cell shows (the full value stays in the session file).
public struct HeadlessLogFormatter: Sendable {
    public struct Options: Sendable, Equatable {
        /// Use ANSI colours (see `TerminalStyle.shouldUseColor`).
        public var color: Bool
        /// Rows of a result table shown before `… N more rows`.
        public var maxRows: Int
        /// Widest table cell or parameter value, in columns, before it is cut with `…`.
        public var maxCellWidth: Int
        /// Widest line of SQL, of a message or of any other text, before it is cut with `…`.
        public var maxLineWidth: Int
        /// Lines of SQL (and of each error message, detail or hint) shown before the rest is left out.
        public var maxTextLines: Int

        public init(
            color: Bool, maxRows: Int = 20, maxCellWidth: Int = 40, maxLineWidth: Int = 2000, maxTextLines: Int = 100
        ) {
            self.color = color
            self.maxRows = maxRows
            self.maxCellWidth = maxCellWidth
            self.maxLineWidth = maxLineWidth
            self.maxTextLines = maxTextLines
        }
    }

    /// Width of the ━ rule around a query, as in the seed.
    public static let ruleWidth = 53

    public let options: Options

    public init(options: Options) {
        self.options = options
    }

    /// The lines for one event, without line terminators; empty when the event shows nothing.
    public func lines(for event: ProxyEvent) -> [String] {
        let tag = "[" + self.clean(event.sessionID) + "]"
        let prefix = TerminalStyle.apply(.dim, to: tag, enabled: self.color) + " "
        return self.bodyLines(for: event.kind).map { line in
            switch line {
            case .blank: return ""
            case .text(let text): return prefix + text
            }
        }
    }

    /// The lines for one event joined, each ending with a newline; empty when the event shows nothing.
    public func text(for event: ProxyEvent) -> String {
        self.lines(for: event).map { $0 + "\n" }.joined()
    }

    // MARK: - Events

    private enum Line {
        case blank
        case text(String)
    }

    private var color: Bool { self.options.color }

    private func bodyLines(for kind: ProxyEvent.Kind) -> [Line] {
        switch kind {
        case .connectionOpened(let clientAddress):
            return [self.line("🔗 New connection from " + self.clean(clientAddress))]
        case .authenticating(let pseudoUser, let database):
            return [
                self.line(
                    "👤 Pseudo user attempting connection: \(self.clean(pseudoUser)) (database: \(self.clean(database)))"
                )
            ]
        case .connected(let info):
            return [
                self.line("✅ Credentials mapped: \(self.clean(info.pseudoUser)) → \(self.clean(info.realUser))"),
                self.line("🔌 Connected to real database (backend pid \(info.backendProcessID))"),
            ]
        case .refused(_, let error):
            let text = "❌ Connection refused: \(self.clean(error.message)) (SQLSTATE \(self.clean(error.code)))"
            return [self.line(text, style: .red)]
        case .recordingStarted(let path):
            return [self.line("📝 Session recording started (\(self.clean(path)))")]
        case .transactionState:
            return []
        case .recorded(let event):
            switch event.payload {
            case .activity(let activity): return self.activityLines(activity)
            case .query(let query): return self.queryLines(query, at: event.timestamp)
            case .result(let result): return self.resultLines(result)
            }
        case .notice(let notice):
            return self.problemLines(notice, indent: "", symbol: "⚠️  ", style: .yellow, duration: "")
        case .notification(let channel, let payload, let processID):
            let message = payload.isEmpty ? "" : ": " + self.clean(payload)
            return [self.line("📣 NOTIFY \(self.clean(channel))\(message) (from pid \(processID))")]
        case .cancelRequested(let forwarded):
            return [self.line(forwarded ? "🛑 Cancel request forwarded" : "🛑 Cancel request refused (unknown key)")]
        case .connectionClosed(let reason):
            return [self.line("🔌 Connection closed" + (reason.isEmpty ? "" : " (\(self.clean(reason)))"))]
        case .recordingFailed(let message):
            return [self.line("❌ Recording failed: " + self.clean(message), style: .red)]
        }
    }

    private func activityLines(_ activity: SessionActivity) -> [Line] {
        switch activity.activity {
        case SessionActivity.sessionStart, SessionActivity.connection:
            // Already shown by connectionOpened / connected.
            return []
        case SessionActivity.sessionEnd:
            var facts: [String] = []
            if let count = activity.details.queryCount {
                facts.append("\(count) \(count == 1 ? "query" : "queries")")
            }
            if let duration = activity.details.durationMS, duration.isFinite, duration >= 0 {
                facts.append(Self.formatDuration(duration))
            }
            return facts.isEmpty ? [] : [self.line("🏁 Session ended (" + facts.joined(separator: ", ") + ")")]
        default:
            return [self.line("📌 Session activity: " + self.clean(activity.activity))]
        }
    }

    private func queryLines(_ query: RecordedQuery, at timestamp: Date) -> [Line] {
        var header = "📝 Query #\(query.queryNumber) @ \(LogTimestamp(timestamp).clockMilliseconds)"
        if query.redacted {
            header += " (password masked)"
        }
        let rule = String(repeating: "━", count: Self.ruleWidth)
        var lines: [Line] = [.blank, self.line(header, style: .bold), self.line(rule)]
        let sql = self.textLines(query.sql)
        lines += sql.lines.map { self.line($0) }
        if sql.isCut {
            lines.append(self.line("   " + TerminalText.cutNote(of: query.sql, what: "SQL"), style: .dim))
        }
        lines.append(self.line(rule))

        if query.queryProtocol == .extended {
            if let name = query.statementName, !name.isEmpty {
                lines.append(self.line("   ↳ prepared statement: " + self.clean(name)))
            }
            if let parameters = query.parameters, !parameters.isEmpty {
                let rendered = parameters.enumerated().map { index, parameter in
                    "$\(index + 1)=" + self.parameterText(parameter)
                }
                lines.append(self.line("   ↳ parameters: " + rendered.joined(separator: ", ")))
            }
        }
        return lines
    }

    private func parameterText(_ parameter: RecordedParameter) -> String {
        guard let value = parameter.value else {
            return TerminalStyle.apply(.dim, to: TextTable.nullText, enabled: self.color)
        }
        let cut = TerminalText.fitted(value, toWidth: self.options.maxCellWidth).text
        let quoted = "'" + cut.replacingOccurrences(of: "'", with: "''") + "'"
        return parameter.format == .binary ? "(binary) " + quoted : quoted
    }

    private func resultLines(_ result: RecordedResult) -> [Line] {
        var lines: [Line] = []
        for notice in result.notices ?? [] {
            lines += self.problemLines(notice, indent: "   ", symbol: "⚠️  ", style: .yellow, duration: "")
        }

        let sets: [RecordedResultSet]
        if let resultSets = result.resultSets, !resultSets.isEmpty {
            sets = resultSets
        } else {
            sets = [result.result]
        }
        let duration =
            result.durationMS.isFinite && result.durationMS > 0
            ? " (" + Self.formatDuration(result.durationMS) + ")" : ""

        for (index, set) in sets.enumerated() {
            let isLast = index == sets.count - 1
            if !set.columns.isEmpty {
                lines += self.tableLines(set)
            } else if result.error == nil || set.commandTag != nil {
                // A statement that failed before producing anything is shown by its error alone.
                lines.append(self.line("   → No result set"))
            }
            let tagDuration = isLast && result.error == nil ? duration : ""
            var done: String?
            if let tag = set.commandTag {
                done = "✓ " + self.clean(tag)
            } else if isLast && result.error == nil {
                done = "✓ (no command tag)"
            }
            if let done {
                lines.append(
                    self.line("   " + TerminalStyle.apply(.green, to: done, enabled: self.color) + tagDuration))
            }
        }

        if let error = result.error {
            lines += self.problemLines(error, indent: "   ", symbol: "❌ ", style: .red, duration: duration)
        }
        return lines
    }

    private func tableLines(_ set: RecordedResultSet) -> [Line] {
        let table = TextTable(columns: set.columns, rows: set.rows, totalRowCount: set.rowCount)
        let tableOptions = TextTable.Options(
            maxRows: self.options.maxRows,
            maxCellWidth: self.options.maxCellWidth,
            color: self.color
        )
        var lines: [Line] = [.blank, self.line("   📊 Results:")]
        lines += table.render(options: tableOptions).map { self.line("   " + $0) }
        var count = "   \(set.rowCount) row(s)"
        if set.rowsTruncated {
            count += " (showing first \(table.shownRowCount(options: tableOptions)) of \(set.rowCount) rows)"
        }
        lines += [self.line(count), .blank]
        return lines
    }

    /// An ErrorResponse or NoticeResponse: `<symbol><SEVERITY> <code>: <message>` then DETAIL and HINT lines.
    /// Errors carry their SQLSTATE in the first line; notices show the severity only, as psql does.
    private func problemLines(
        _ problem: RecordedError, indent: String, symbol: String, style: TerminalStyle.Style, duration: String
    ) -> [Line] {
        let messageLines = self.textLines(problem.message).lines
        let isError = style == .red
        let code = isError && !problem.code.isEmpty ? " " + self.clean(problem.code) : ""
        let first = symbol + self.clean(problem.severity) + code + ": " + (messageLines.first ?? "")
        var lines = [self.line(indent + TerminalStyle.apply(style, to: first, enabled: self.color) + duration)]
        let continuation = indent + "   "
        lines += messageLines.dropFirst().map { self.line(continuation + $0) }
        for (label, value) in [("DETAIL", problem.detail), ("HINT", problem.hint)] {
            guard let value, !value.isEmpty else {
                continue
            }
            let valueLines = self.textLines(value).lines
            lines.append(self.line(continuation + label + ": " + (valueLines.first ?? "")))
            lines += valueLines.dropFirst().map { self.line(continuation + $0) }
        }
        return lines
    }

    // MARK: - Helpers

    private func line(_ text: String, style: TerminalStyle.Style? = nil) -> Line {
        guard let style else {
            return .text(text)
        }
        return .text(TerminalStyle.apply(style, to: text, enabled: self.color))
    }

    /// One-line text from outside: every control character escaped, newlines included, cut to a line's width.
    private func clean(_ text: String) -> String {
        TerminalText.fitted(text, toWidth: self.options.maxLineWidth).text
    }

    /// Free text from outside (SQL, a message): its first lines, each escaped and cut to a line's width.
    private func textLines(_ text: String) -> (lines: [String], isCut: Bool) {
        TerminalText.escapedLines(text, maxLines: self.options.maxTextLines, maxWidth: self.options.maxLineWidth)
    }

    /// `12.3 ms` below a second, `1.23 s` above.
    static func formatDuration(_ milliseconds: Double) -> String {
        if milliseconds < 1000 {
            return String(format: "%.1f ms", milliseconds)
        }
        return String(format: "%.2f s", milliseconds / 1000)
    }
}

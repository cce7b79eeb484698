import Testing

@testable import ProxyEngine

@Suite struct TextTableTests {
    @Test func drawsTheSeedTable() {
        let table = TextTable(
            columns: ["id", "name", "value", "created_at"],
            rows: [
                ["1", "test1", "150", "2025-10-07 22:42:12.977496"],
                ["2", "test2", "200", "2025-10-07 22:42:12.977496"],
                ["3", "test3", "300", "2025-10-07 22:42:12.977496"],
            ]
        )
        // Copied from the seed's EXAMPLE_WORKFLOW.txt, step 3.
        let expected = """
            ┌──────┬───────┬───────┬────────────────────────────┐
            │ id   │ name  │ value │ created_at                 │
            ├──────┼───────┼───────┼────────────────────────────┤
            │ 1    │ test1 │ 150   │ 2025-10-07 22:42:12.977496 │
            │ 2    │ test2 │ 200   │ 2025-10-07 22:42:12.977496 │
            │ 3    │ test3 │ 300   │ 2025-10-07 22:42:12.977496 │
            └──────┴───────┴───────┴────────────────────────────┘
            """
        #expect(table.render().joined(separator: "\n") == expected)
    }

    @Test func wideCharactersKeepTheRightEdgeAligned() {
        let table = TextTable(
            columns: ["text", "名前"],
            rows: [
                ["日本語", "x"],
                ["\u{E9}t\u{E9}", "e\u{301}te\u{301}"],
                ["😀🎉", "👍🏽"],
                ["👨‍👩‍👧", "🇯🇵"],
                ["ＡＢＣ", "ｶﾀｶﾅ"],
                ["⚠️ warn", "한국어"],
            ]
        )
        let lines = table.render()
        #expect(lines.count == 10)
        let widths = Set(lines.map { TerminalText.displayWidth(of: $0) })
        #expect(widths.count == 1, "every line must end in the same column: \(lines)")
        #expect(lines[3] == "│ 日本語  │ x      │")
        #expect(lines[4] == "│ \u{E9}t\u{E9}     │ e\u{301}te\u{301}    │")
        #expect(lines[2] == "├─────────┼────────┤")
    }

    @Test func cutsLongTablesWithAMoreRowsLine() {
        let rows: [[String?]] = (1...25).map { ["\($0)"] }
        let lines = TextTable(columns: ["n"], rows: rows).render(options: .init(maxRows: 20))
        #expect(lines.count == 3 + 20 + 1 + 1)
        #expect(lines[22] == "│ 20   │")
        #expect(lines[23] == "└──────┘")
        #expect(lines.last == "… 5 more rows")

        let one = TextTable(columns: ["n"], rows: Array(rows.prefix(21))).render(options: .init(maxRows: 20))
        #expect(one.last == "… 1 more row")
        let all = TextTable(columns: ["n"], rows: Array(rows.prefix(20))).render(options: .init(maxRows: 20))
        #expect(all.last == "└──────┘")

        // Rows the recorder did not keep count as hidden too.
        let recorded = TextTable(columns: ["n"], rows: Array(rows.prefix(3)), totalRowCount: 1000)
        #expect(recorded.render(options: .init(maxRows: 20)).last == "… 997 more rows")
    }

    @Test func cutsLongValuesByDisplayWidth() {
        let table = TextTable(columns: ["long_column_name"], rows: [[String(repeating: "x", count: 50)], ["日本語日本語"]])
        let lines = table.render(options: .init(maxCellWidth: 10))
        #expect(lines[1] == "│ long_colu… │")
        #expect(lines[3] == "│ xxxxxxxxx… │")
        #expect(lines[4] == "│ 日本語日…  │")
        #expect(Set(lines.map { TerminalText.displayWidth(of: $0) }).count == 1)
    }

    @Test func nullDiffersFromAnEmptyString() {
        let table = TextTable(columns: ["a", "b"], rows: [[nil, ""], ["", nil]])
        let plain = table.render()
        #expect(plain[3] == "│ NULL │      │")
        #expect(plain[4] == "│      │ NULL │")

        let coloured = table.render(options: .init(color: true))
        #expect(coloured[3] == "│ \u{1B}[2mNULL\u{1B}[0m │      │")
        // Colour codes take no columns: the row is padded exactly like the plain one.
        #expect(
            coloured[4].replacingOccurrences(of: "\u{1B}[2m", with: "").replacingOccurrences(
                of: "\u{1B}[0m", with: "") == plain[4])
    }

    @Test func controlCharactersNeverBreakTheBox() {
        let table = TextTable(columns: ["v"], rows: [["line1\nline2"], ["a\tb"], ["\u{1B}[2Jboom"]])
        let lines = table.render()
        #expect(lines.count == 7)
        #expect(lines[3] == "│ line1\\nline2  │")
        #expect(lines[4] == "│ a\\tb          │")
        #expect(lines[5] == "│ \\u{1B}[2Jboom │")
        #expect(!lines.joined().contains("\u{1B}"))
        #expect(!lines.joined().contains("\n"))
    }

    @Test func raggedRowsAndEmptyTables() {
        let lines = TextTable(columns: ["a", "b"], rows: [["1"], ["1", "2", "3"]]).render()
        #expect(lines[1] == "│ a    │ b    │      │")
        #expect(lines[3] == "│ 1    │      │      │")
        #expect(lines[4] == "│ 1    │ 2    │ 3    │")
        #expect(TextTable(columns: [], rows: []).render().isEmpty)
        let headerOnly = TextTable(columns: ["x"], rows: []).render()
        #expect(headerOnly == ["┌──────┐", "│ x    │", "├──────┤", "└──────┘"])
    }
}

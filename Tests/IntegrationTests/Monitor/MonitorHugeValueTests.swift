import Foundation
import Testing

/// Huge values on the dashboard: the built `pgreel monitor` in tmux, psql sending a query that returns 49 MB of
/// control, combining and wide characters. Display work is bounded by what is shown, so the dashboard keeps
/// answering keys with those values on screen, and shows them cut.
///
/// The 49 MB come as three rows of one 16.2 MB value each, so the Result pane, the detail and the scrolling all have
/// several huge cells at once (the tap keeps rows up to 64 MiB: HugeValueTests sends one 50 MB value through the
/// headless logs).
@Suite struct MonitorHugeValueTests {
    /// Keys must be answered within this: before display work was bounded, Down took 50 s and Enter 96 s here.
    static let answerLimit = Duration.seconds(5)

    /// 12 bytes a unit (a tab, a newline, a control, é with a combining acute, a wide 世): 1.35 million units,
    /// 16.2 MB a value, three rows.
    static let hugeQuery = "select repeat(E'a\\tb\\n\\x01é\\u0301世', 1350000) as huge from generate_series(1, 3)"
    static let smallQuery = "select 'small' as first"

    @Test func hugeValuesKeepTheDashboardAnswering() async throws {
        let server = try await TestPostgres.shared()
        let monitor = try await MonitorInTmux.start(server: server, database: try await server.makeDatabase())
        try await monitor.run { monitor in
            try await self.hugeValues(in: monitor)
        }
    }

    private func hugeValues(in monitor: MonitorInTmux) async throws {
        let tmux = monitor.tmux
        try await tmux.waitForScreen(containing: "No connections yet.", "127.0.0.1:\(monitor.port)")
        let psql = try monitor.psql(["-A", "-t", "-c", Self.smallQuery, "-c", Self.hugeQuery])
        let window = try await tmux.newWindow(psql + " > /dev/null; echo \"psql exited with $?\"; sleep 600")
        try await tmux.waitForScreen(containing: "psql exited with 0", target: window, timeout: .seconds(120))

        // The query arrives and, following, the Result pane shows its three rows, each cell cut at the pane's cap.
        // (A frame reaches tmux in pieces, top first: wait for the rows, below the title.)
        // (Not the é: Swift compares characters, and on screen it carries its combining accent.)
        let cell = "a\\tb\\n\\u{01}"
        func cells(_ screen: String) -> [Substring] { screen.split(separator: "\n").filter { $0.contains(cell) } }
        let shown = ContinuousClock.now
        var screen = try await tmux.waitForScreen("the huge result", timeout: .seconds(60)) { screen in
            screen.contains("Result #1 query 2 · SELECT 3 · 3 rows") && cells(screen).count == 3
        }
        #expect(screen.contains("(2) · following"))
        let huge = try #require(screen.split(separator: "\n").first { $0.contains("select repeat(") })
        #expect(huge.hasSuffix("✓"), "\(huge)")
        for row in cells(screen) {
            #expect(row.contains("世"))
            #expect(row.hasSuffix("…"), "the cell is cut: \(row)")
        }

        var answers = [("shown after psql ended", ContinuousClock.now - shown)]
        // Up: the small query; Down: the huge one again; Enter: its detail; Esc: back.
        answers.append(("Up", try await self.press("Up", in: tmux, until: "Result #1 query 1 · SELECT 1 · 1 row")))
        answers.append(
            ("Down", try await self.press("Down", in: tmux, until: "Result #1 query 2 · SELECT 3 · 3 rows")))
        answers.append(
            ("Enter", try await self.press("Enter", in: tmux, until: "Query detail", "Query 2 of session #1")))
        screen = try await tmux.waitForScreen("the detail's cells", timeout: Self.answerLimit) { cells($0).count == 3 }
        #expect(screen.contains("Result · SELECT 3 · 3 rows"))
        // The detail's cells are cut at 400 columns, past the screen's edge: scrolled right to the end, every one
        // ends there with `…`.
        let right = ContinuousClock.now
        try await tmux.press(Array(repeating: "l", count: 40))
        try await tmux.waitForScreen("the ends of the detail's cells", timeout: Self.answerLimit) { screen in
            let rows = screen.split(separator: "\n").filter { $0.contains("世") && !$0.contains("select") }
            return rows.count == 3 && rows.allSatisfy { $0.hasSuffix("…") }
        }
        answers.append(("40 x l", ContinuousClock.now - right))
        answers.append(("Escape", try await self.press("Escape", in: tmux, until: "── Connections")))
        // psql has left: q leaves the dashboard at once, and pgreel ends once the session file has all 49 MB.
        let quit = ContinuousClock.now
        try await tmux.press("q")
        try await tmux.waitForScreen("the dashboard gone", timeout: Self.answerLimit) { !$0.contains("── Connections") }
        answers.append(("q", ContinuousClock.now - quit))
        try await tmux.waitForScreen(containing: "monitor exited with 0", timeout: .seconds(120))
        answers.append(("q until pgreel ended", ContinuousClock.now - quit))
        print("keys answered in: " + answers.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
    }

    /// Presses `key` and waits until the screen shows every one of `texts`; returns how long that took.
    private func press(_ key: String, in tmux: TmuxSession, until texts: String...) async throws -> Duration {
        let start = ContinuousClock.now
        try await tmux.press(key)
        try await tmux.waitForScreen(texts.joined(separator: ", "), timeout: Self.answerLimit) { screen in
            texts.allSatisfy { screen.contains($0) }
        }
        return ContinuousClock.now - start
    }
}

import Foundation
import Monitor
import ProxyEngine
import Testing

/// The reducer, events side: what the proxy's events do to sessions, queries and totals.
@Suite struct EventReducerTests {
    @Test func aSessionGoesThroughItsStates() throws {
        var script = EventScript()
        var state = DashboardState.make()
        let connect = script.connect("s1")
        state.apply(connect[0])
        #expect(state.live.sessions["s1"]?.state == .authenticating)
        state.apply(connect[1...])
        let row = try #require(state.live.sessions["s1"])
        #expect(row.state == .idle)
        #expect(row.users == "pseudo_user → postgres")
        #expect(row.clientAddress == "127.0.0.1:53422")
        #expect(row.applicationName == "psql")
        #expect(row.number == 1)

        state.apply(script.query("s1", 1, "BEGIN;"))
        #expect(state.live.sessions["s1"]?.state == .active)
        state.apply(script.result("s1", RecordedResult(queryNumber: 1, result: RecordedResultSet(commandTag: "BEGIN"))))
        state.apply(script.event("s1", .transactionState(.inTransaction)))
        #expect(state.live.sessions["s1"]?.state == .idleInTransaction)
        state.apply(script.run("s1", 2, "SELECT 1/0;", error: RecordedError(
            severity: "ERROR", code: "22012", message: "division by zero"), transaction: .failed))
        #expect(state.live.sessions["s1"]?.state == .failedTransaction)
        #expect(state.live.sessions["s1"]?.queryCount == 2)
        #expect(state.live.totalErrors == 1)

        state.apply(script.close("s1"))
        #expect(state.live.sessions["s1"]?.state == .closed)
        #expect(state.live.openSessionCount == 0)
        // Closed sessions stay (dimmed) for the linger time, then leave.
        state.tick(now: script.time.addingTimeInterval(5), droppedEvents: 0)
        #expect(state.live.sessions["s1"] != nil)
        state.tick(now: script.time.addingTimeInterval(10), droppedEvents: 0)
        #expect(state.live.sessions["s1"] == nil)
        #expect(state.live.history.count == 2, "queries outlive their session")
    }

    @Test func refusedAndCancelConnections() {
        var script = EventScript()
        var state = DashboardState.make()
        state.apply([
            script.event("s1", .connectionOpened(clientAddress: "127.0.0.1:1")),
            script.event("s1", .authenticating(pseudoUser: "mallory", database: "postgres")),
            script.event("s1", .refused(pseudoUser: "mallory", error: RecordedError(
                severity: "FATAL", code: "28000", message: "role \"mallory\" does not exist"))),
            script.event("s1", .connectionClosed(reason: "refused")),
        ])
        #expect(state.live.sessions["s1"]?.state == .refused(code: "28000"))
        #expect(state.live.sessions["s1"]?.state.label == "refused 28000")
        state.apply([
            script.event("c1", .connectionOpened(clientAddress: "127.0.0.1:2")),
            script.event("c1", .cancelRequested(forwarded: true)),
        ])
        #expect(state.live.sessions["c1"] != nil)
        state.apply(script.close("c1"))
        #expect(state.live.sessions["c1"] == nil, "a cancel request is not a session: it leaves at once")
    }

    @Test func eventsOfAnUnseenSessionStillShow() {
        // The dashboard may miss a session's first events (dropped): its queries still appear.
        var script = EventScript()
        var state = DashboardState.make()
        state.apply(script.run("late", 7, "SELECT 7;"))
        #expect(state.live.sessions["late"]?.number == 1)
        #expect(state.live.history.count == 1)
        #expect(state.currentQuery?.query.queryNumber == 7)
    }

    @Test func aMissedResultIsMarkedUnknown() {
        var script = EventScript()
        var state = DashboardState.make()
        state.apply(script.connect("s1"))
        state.apply(script.query("s1", 1, "SELECT 1;"))
        state.apply(script.query("s1", 2, "SELECT 2;"))
        state.apply(script.result("s1", RecordedResult(queryNumber: 2)))
        let history = state.live.history
        #expect(history[1]?.outcome == .unknown)
        #expect(history[2]?.result != nil)
        state.apply(script.query("s1", 3, "SELECT pg_sleep(100);"))
        state.apply(script.close("s1"))
        #expect(state.live.history[3]?.outcome == .unknown)
        #expect(state.live.sessions["s1"]?.running == 0)
    }

    @Test func aResultWhoseQueryWasMissedStillEndsTheOlderOne() {
        // Query 2's event was dropped: its result still tells that query 1 will get none.
        var script = EventScript()
        var state = DashboardState.make()
        state.apply(script.connect("s1"))
        state.apply(script.query("s1", 1, "SELECT 1;"))
        #expect(state.live.sessions["s1"]?.running == 1)
        state.apply(script.result("s1", RecordedResult(queryNumber: 2)))
        #expect(state.live.history[1]?.outcome == .unknown)
        #expect(state.live.sessions["s1"]?.running == 0)
        #expect(state.live.sessions["s1"]?.queryCount == 1)
    }

    @Test func historyIsBoundedAndTotalsCountEverything() {
        var script = EventScript()
        var state = DashboardState.make(historyLimit: 100)
        state.apply(script.connect("s1"))
        for number in 1...1000 {
            state.apply(script.run("s1", number, "SELECT \(number);", result: RecordedResultSet(
                columns: ["n"], columnTypes: [23], rows: [["\(number)"]], rowCount: 1, commandTag: "SELECT 1")))
        }
        #expect(state.live.history.count == 100)
        #expect(state.live.history.firstSeq == 901)
        #expect(state.live.history[901]?.query.sql == "SELECT 901;")
        #expect(state.live.history[900] == nil)
        #expect(state.live.totalQueries == 1000)
        #expect(state.live.totalRows == 1000)
        #expect(state.currentQuery?.query.sql == "SELECT 1000;")
    }

    @Test func resultMemoryStaysWithinTheLimit() {
        var script = EventScript()
        var state = DashboardState.make(resultMemoryLimit: 100_000)
        state.apply(script.connect("s1"))
        let bigRows = (1...100).map { [Optional(String(repeating: "x", count: 100)), Optional("\($0)")] }
        for number in 1...50 {
            state.apply(script.run("s1", number, "SELECT big;", result: RecordedResultSet(
                columns: ["a", "b"], columnTypes: [25, 23], rows: bigRows, rowCount: 100, commandTag: "SELECT 100")))
        }
        #expect(state.live.retainedResultBytes <= 100_000)
        #expect(state.live.history[1]?.rowsReleased == true)
        #expect(state.live.history[1]?.result?.result.rows.isEmpty == true)
        #expect(state.live.history[1]?.result?.result.rowCount == 100, "the summary stays")
        #expect(state.live.history[50]?.rowsReleased == false)
        #expect(state.live.history[50]?.result?.result.rows.count == 100)
        let frame = state.layout.result!
        state.press(.home)
        #expect(state.screen.line(frame.top + 2).contains("let go to keep memory bounded"))
    }

    @Test func queriesPerSecondAveragesTheLastSeconds() {
        var script = EventScript()
        var state = DashboardState.make()
        state.apply(script.connect("s1"))
        // 30 queries over the 3 whole seconds before the tick.
        script.time = Date(timeIntervalSince1970: 1_759_872_616)
        for number in 1...30 {
            state.apply(script.query("s1", number, "SELECT 1;"))
            script.advance(0.1)
        }
        state.tick(now: script.time.addingTimeInterval(0.5), droppedEvents: 7)
        #expect(state.live.queriesPerSecond(now: state.now) == 10)
        #expect(state.droppedEvents == 7)
        state.tick(now: script.time.addingTimeInterval(10), droppedEvents: 7)
        #expect(state.live.queriesPerSecond(now: state.now) == 0)
    }
}

/// The reducer, keys side: navigation, follow, filter, sessions, pause, overlays, quit.
@Suite struct KeyReducerTests {
    @Test func tabMovesFocusAroundThePanes() {
        var state = DashboardState.make()
        #expect(state.focus == .queries)
        state.press(.tab)
        #expect(state.focus == .result)
        state.press(.tab)
        #expect(state.focus == .connections)
        state.press(.backTab)
        #expect(state.focus == .result)
        state.press(.backTab)
        #expect(state.focus == .queries)
    }

    @Test func followModeAndScrolling() {
        var script = EventScript()
        var state = DashboardState.make()
        state.apply(script.seedSession("s1"))
        #expect(state.follow)
        #expect(state.currentQuery?.query.queryNumber == 5)
        state.press(.up)
        #expect(!state.follow)
        #expect(state.currentQuery?.query.queryNumber == 4)
        // New queries arrive below; the selection stays where the operator put it.
        state.apply(script.run("s1", 6, "SELECT 6;"))
        #expect(state.currentQuery?.query.queryNumber == 4)
        state.press(.character("k"), .character("k"), .character("j"))
        #expect(state.currentQuery?.query.queryNumber == 3)
        state.press(.home)
        #expect(state.currentQuery?.query.queryNumber == 1)
        state.press(.pageDown)
        #expect(state.currentQuery?.query.queryNumber == 7 - 1, "a page is the pane's height less one")
        state.press(.end)
        #expect(state.follow)
        #expect(state.currentQuery?.query.queryNumber == 6)
        state.press(.character("f"))
        #expect(!state.follow)
        state.apply(script.run("s1", 7, "SELECT 7;"))
        #expect(state.currentQuery?.query.queryNumber == 6)
        state.press(.character("f"))
        #expect(state.currentQuery?.query.queryNumber == 7)
    }

    @Test func theWindowKeepsTheSelectionVisible() {
        var script = EventScript()
        var state = DashboardState.make()
        state.apply(script.connect("s1"))
        for number in 1...40 { state.apply(script.run("s1", number, "SELECT \(number);")) }
        let height = state.layout.queries!.height
        #expect(state.queryWindow(height: height).count == height)
        #expect(state.queryWindow(height: height).last == 40)
        state.press(.home)
        #expect(state.queryWindow(height: height).first == 1)
        for _ in 0..<height { state.press(.down) }
        let window = state.queryWindow(height: height)
        #expect(window.contains(state.currentQuerySeq!))
        #expect(window.last == state.currentQuerySeq, "scrolling down moves the window one line at a time")
    }

    @Test func filterByTextUserAndSession() {
        var script = EventScript()
        var state = DashboardState.make()
        state.apply(script.seedSession("s1"))
        state.apply(script.connect("s2", user: "alice", realUser: "app"))
        state.apply(script.run("s2", 1, "SELECT 'from alice';"))

        state.press(.character("/"))
        state.type("insert")
        #expect(state.filterInput == "insert")
        #expect(state.live.history.visibleCount == 1)
        #expect(state.currentQuery?.query.sql.hasPrefix("INSERT") == true)
        state.press(.enter)
        #expect(state.filterInput == nil)
        #expect(state.filter.text == "insert")
        #expect(state.screen.line(state.layout.queries!.titleRow).contains("filter \"insert\""))

        state.press(.character("/"), .control("u"))
        state.type("user:alice")
        #expect(state.live.history.visibleCount == 1)
        state.press(.backspace, .backspace, .backspace, .backspace, .backspace)
        state.type("postgres")
        #expect(state.live.history.visibleCount == 5)
        state.press(.control("u"))
        state.type("session:2")
        #expect(state.live.history.visibleCount == 1)
        state.press(.control("u"))
        state.type("#1")
        #expect(state.live.history.visibleCount == 5)
        state.press(.escape)
        #expect(state.filterInput == nil)
        #expect(!state.filter.isActive)
        #expect(state.live.history.visibleCount == 6)
    }

    @Test func pickASessionToShowOnlyItsQueries() {
        var script = EventScript()
        var state = DashboardState.make()
        state.apply(script.seedSession("s1"))
        state.apply(script.connect("s2", user: "alice", realUser: "app"))
        state.apply(script.run("s2", 1, "SELECT 'from alice';"))
        state.press(.character("s"))
        #expect(state.overlay == .sessionPicker(selected: 0))
        #expect(state.screen.text.contains("All sessions"))
        state.press(.down, .down, .enter)
        #expect(state.overlay == nil)
        #expect(state.filter.sessionID == "s2")
        #expect(state.live.history.visibleCount == 1)
        #expect(state.screen.line(state.layout.queries!.titleRow).contains("session #2"))
        state.press(.character("s"))
        #expect(state.overlay == .sessionPicker(selected: 2))
        state.press(.home, .enter)
        #expect(state.filter.sessionID == nil)
        // Enter on a connection does the same, and again shows all.
        state.press(.tab, .tab, .enter)
        #expect(state.focus == .connections)
        #expect(state.filter.sessionID == "s1")
        state.press(.enter)
        #expect(state.filter.sessionID == nil)
    }

    @Test func pauseFreezesTheDisplayNotTheModel() {
        var script = EventScript()
        var state = DashboardState.make()
        state.apply(script.seedSession("s1"))
        state.press(.character("p"))
        #expect(state.isPaused)
        state.apply(script.run("s1", 6, "SELECT 6;"))
        #expect(state.shown.history.count == 5)
        #expect(state.live.history.count == 6)
        #expect(state.queriesWhilePaused == 1)
        #expect(state.currentQuery?.query.queryNumber == 5)
        state.press(.character("p"))
        #expect(!state.isPaused)
        #expect(state.currentQuery?.query.queryNumber == 6)
    }

    @Test func quitAsksWhileConnectionsAreOpen() {
        var script = EventScript()
        var state = DashboardState.make()
        state.press(.character("q"))
        #expect(state.shouldQuit, "nothing open: quits at once")

        state = DashboardState.make()
        state.apply(script.connect("s1"))
        state.press(.character("q"))
        #expect(!state.shouldQuit)
        #expect(state.overlay == .confirmQuit)
        #expect(state.screen.text.contains("1 connection is open through the proxy."))
        state.press(.character("n"))
        #expect(state.overlay == nil)
        state.press(.character("q"), .character("y"))
        #expect(state.shouldQuit)
    }

    @Test func enterOpensTheDetailAndItScrolls() {
        var script = EventScript()
        var state = DashboardState.make()
        state.apply(script.connect("s1"))
        let rows = (1...100).map { [Optional("\($0)")] }
        state.apply(script.run("s1", 1, "SELECT generate_series(1, 100);", result: RecordedResultSet(
            columns: ["n"], columnTypes: [23], rows: rows, rowCount: 100, commandTag: "SELECT 100")))
        state.press(.enter)
        #expect(state.overlay == .detail(seq: 1))
        state.press(.pageDown, .pageDown)
        #expect(state.detailScroll.row == 38)
        state.press(.end)
        let document = DetailDocument.make(entry: state.currentQuery!, width: 80)
        #expect(state.detailScroll.row == document.lineCount - (state.layout.overlayRows.count - 1))
        #expect(state.screen.text.contains("  100"))
        state.press(.home, .escape)
        #expect(state.overlay == nil)
        state.press(.character("?"))
        #expect(state.overlay == .help)
        state.press(.escape)
        #expect(state.overlay == nil)
    }

    @Test func resultScrollStartsOverForAnotherQuery() {
        var script = EventScript()
        var state = DashboardState.make()
        state.apply(script.connect("s1"))
        let rows = (1...30).map { [Optional("\($0)")] }
        let result = RecordedResultSet(columns: ["n"], columnTypes: [23], rows: rows, rowCount: 30, commandTag: "SELECT 30")
        state.apply(script.run("s1", 1, "SELECT a;", result: result))
        state.apply(script.run("s1", 2, "SELECT b;", result: result))
        state.press(.tab, .down, .down, .down)
        #expect(state.resultScroll.row == 3)
        state.press(.backTab, .up)
        let frame = state.layout.result!
        #expect(state.screen.line(frame.titleRow).contains("lines 1–7"))
    }

    @Test func mouseClicksSelectAndTheWheelScrolls() {
        var script = EventScript()
        var state = DashboardState.make()
        state.apply(script.seedSession("s1"))
        let queries = state.layout.queries!
        state.press(.mouse(MouseAction(.press, row: queries.top + 1, column: 20)))
        #expect(state.focus == .queries)
        #expect(state.currentQuery?.query.queryNumber == 2)
        state.press(.mouse(MouseAction(.wheelUp, row: queries.top, column: 5)))
        #expect(state.currentQuery?.query.queryNumber == 1)
        state.press(.mouse(MouseAction(.doubleClick, row: queries.top + 2, column: 20)))
        #expect(state.overlay == .detail(seq: 3))
        state.press(.escape)
        state.press(.mouse(MouseAction(.press, row: state.layout.connections!.top, column: 3)))
        #expect(state.focus == .connections)
        #expect(state.currentSessionIndex == 0)
    }

    @Test func warningsFlashAtStartAndFade() {
        var state = DashboardState.make(warnings: ["pseudo user pseudo_user accepts any password"])
        let footer = state.layout.footerRow!
        #expect(state.screen.line(footer).contains("⚠ pseudo user pseudo_user accepts any password"))
        state.tick(now: EventScript.start.addingTimeInterval(9), droppedEvents: 0)
        #expect(state.screen.line(footer).contains("? help"))
    }
}

import Foundation
import Monitor
import ProxyEngine
import Testing

/// The session browser: what it lists and in which order, its keys, and its screen.
@Suite struct SessionBrowserTests {
    static let directory = "/srv/pgreel/sessions"

    static func file(_ name: String, size: Int, details: SessionFileInfo.Details?) -> SessionFileInfo {
        SessionFileInfo(
            name: name, path: Self.directory + "/" + name, size: size,
            modified: Date(timeIntervalSince1970: 1_759_900_000), details: details)
    }

    static func date(_ text: String) -> Date {
        Date(timeIntervalSince1970: SessionTimestamp.parse(text)!.timeIntervalSince1970)
    }

    /// Four files as a scan lists them (in directory order), then the details of three.
    static func browser(size: ScreenSize = .minimum) -> SessionBrowserState {
        var state = SessionBrowserState(
            directory: Self.directory, recording: ["pseudo_user_2025-10-07_22-05-00.json"], size: size)
        state.apply(
            .listed([
                Self.file("pseudo_user_2025-10-07_21-30-15.json", size: 2834, details: nil),
                Self.file("alice_2025-10-07_21-45-02.json", size: 120_400, details: nil),
                Self.file("pseudo_user_2025-10-07_22-05-00.json", size: 576, details: nil),
                Self.file("pseudo_user_2025-10-07_21-30-15_2.json", size: 1_300_000, details: nil),
            ]))
        state.apply(
            .detailsRead(
                path: Self.directory + "/pseudo_user_2025-10-07_21-30-15.json",
                SessionFileInfo.Details(
                    pseudoUser: "pseudo_user", startTime: Self.date("2025-10-07T21:30:15.123456Z"), queryCount: 5)))
        state.apply(
            .detailsRead(
                path: Self.directory + "/alice_2025-10-07_21-45-02.json",
                SessionFileInfo.Details(
                    pseudoUser: "alice", startTime: Self.date("2025-10-07T21:45:02.5Z"), queryCount: 1204,
                    cut: "line 2411: the file ends mid-event")))
        state.apply(
            .detailsRead(
                path: Self.directory + "/pseudo_user_2025-10-07_22-05-00.json",
                SessionFileInfo.Details(
                    pseudoUser: "pseudo_user", startTime: Self.date("2025-10-07T22:05:00Z"), queryCount: 2,
                    cut: "line 7: no closing ]")))
        return state
    }

    @Test func filesAreNewestFirstByTheTimeInTheirName() {
        let state = Self.browser()
        #expect(
            state.visible.map { state.files[$0].name } == [
                "pseudo_user_2025-10-07_22-05-00.json", "alice_2025-10-07_21-45-02.json",
                "pseudo_user_2025-10-07_21-30-15_2.json", "pseudo_user_2025-10-07_21-30-15.json",
            ])
        #expect(state.selectedFile?.name == "pseudo_user_2025-10-07_22-05-00.json")
    }

    @Test func namesGiveTheirStartTime() throws {
        let plain = try #require(SessionFileInfo.nameTime("pseudo_user_2025-10-07_21-30-15.json"))
        #expect(plain.date == Self.date("2025-10-07T21:30:15Z"))
        #expect(plain.suffix == 1)
        let second = try #require(SessionFileInfo.nameTime("a_b_2025-10-07_21-30-15_12.json"))
        #expect(second.date == plain.date)
        #expect(second.suffix == 12)
        #expect(SessionFileInfo.nameTime("user_2024-02-29_23-59-59.json")?.date == Self.date("2024-02-29T23:59:59Z"))
        #expect(SessionFileInfo.nameTime("notes.json") == nil)
        #expect(SessionFileInfo.nameTime("user_2025-13-07_21-30-15.json") == nil)
        #expect(SessionFileInfo.nameTime("user_2025-10-07_21-30-15.txt") == nil)
        #expect(SessionFileInfo.sizeText(576) == "576 B")
        #expect(SessionFileInfo.sizeText(2834) == "2.8 KB")
        #expect(SessionFileInfo.sizeText(120_400) == "118 KB")
        #expect(SessionFileInfo.sizeText(1_300_000) == "1.2 MB")
    }

    @Test func detailsComeFromTheFile() {
        var contents = SessionFileContents(events: ReplayFixtures.events(), cut: nil)
        var details = SessionFileInfo.Details(contents: contents)
        #expect(details.pseudoUser == "pseudo_user")
        #expect(details.startTime == EventScript.start)
        #expect(details.queryCount == 5)
        #expect(details.cut == nil)
        contents.events.removeFirst()  // no session_start: the connection's user, the first event's time
        contents.cut = SessionFileContents.CutOff(line: 9, reason: "the file ends mid-event")
        details = SessionFileInfo.Details(contents: contents)
        #expect(details.pseudoUser == "pseudo_user")
        #expect(details.startTime == contents.events[0].timestamp)
        #expect(details.cut == "line 9: the file ends mid-event")
    }

    @Test func enterOpensTheSelectedFileAndEscapeGoesBack() {
        var state = Self.browser()
        state.press(.down)
        #expect(state.handle(.enter) == [.open(path: Self.directory + "/alice_2025-10-07_21-45-02.json")])
        #expect(state.opening == Self.directory + "/alice_2025-10-07_21-45-02.json")
        #expect(state.handle(.enter).isEmpty, "one file at a time")
        state.apply(.openFailed(path: state.opening!, "cannot connect to postgres://app:***@db:5432/shop: refused"))
        #expect(state.opening == nil)
        #expect(state.message == "cannot connect to postgres://app:***@db:5432/shop: refused")
        #expect(state.handle(.character("r")) == [.scan])
        #expect(state.handle(.escape) == [.close])
        #expect(state.handle(.character("q")) == [.close])
    }

    @Test func slashFiltersByNameOrUser() {
        var state = Self.browser()
        state.press(.character("/"))
        state.type("alice")
        #expect(state.filterInput == "alice")
        #expect(state.visible.map { state.files[$0].name } == ["alice_2025-10-07_21-45-02.json"])
        state.press(.enter)
        #expect(state.filterInput == nil)
        #expect(state.filter == "alice")
        #expect(state.handle(.escape).isEmpty, "Esc clears the filter first")
        #expect(state.visible.count == 4)
        state.press(.character("/"))
        state.type("21-30-15_2 user")
        #expect(state.visible.map { state.files[$0].name } == ["pseudo_user_2025-10-07_21-30-15_2.json"])
    }

    @Test func anUnreadableFileSaysWhyInsteadOfOpening() {
        var state = SessionBrowserState(directory: Self.directory, size: .minimum)
        state.apply(.listed([Self.file("x.json", size: 10, details: nil)]))
        state.apply(
            .detailsRead(
                path: Self.directory + "/x.json",
                SessionFileInfo.Details(error: "x.json:1: not a session file: expected [")))
        #expect(state.handle(.enter).isEmpty)
        #expect(state.message == "x.json:1: not a session file: expected [")
    }

    @Test func theBrowserAt80x24() {
        var state = Self.browser()
        state.apply(.scanFinished)
        let screen = SessionBrowserRenderer.render(state, size: state.size)
        expectScreen(
            screen,
            #"""
             pgreel sessions  /srv/pgreel/sessions
             4 session files, newest first · 1 cut off
            ─▶ Sessions ─── started (UTC) ───── queries ─── size ───────────────────────────
              pseudo_user   2025-10-07 22:05:00       2    576 B ● recording  pseudo_user_…
              alice         2025-10-07 21:45:02   1,204   118 KB ✂ cut off    alice_2025-1…
              …             2025-10-07 21:30:15       …   1.2 MB              pseudo_user_…
              pseudo_user   2025-10-07 21:30:15       5   2.8 KB              pseudo_user_…
















            ↑↓ select  Enter replay  / filter  r reread  q back
            """#)
        #expect(screen.styleLine(3).allSatisfy { $0 == "#" }, "the newest is selected")
        #expect(screen.styleLine(4).contains("xxxxxxxxx"), "the cut-off mark is red")
    }

    @Test(arguments: [(0, 0), (1, 1), (10, 3), (40, 8), (200, 50)])
    func anySizeRendersWithoutCrashing(columns: Int, rows: Int) {
        let size = ScreenSize(columns: columns, rows: rows)
        var state = Self.browser(size: size)
        for key: ViewKey in [.end, .pageUp, .character("/"), .character("x"), .enter, .home] {
            state.press(key)
            #expect(SessionBrowserRenderer.render(state, size: size).size == size)
        }
    }

    /// A 50 MB user name (it comes from the file, so from a client): cut to its column, searched only at its start.
    @Test func aHugeUserNameIsCutToItsColumn() {
        func browser(user: String) -> SessionBrowserState {
            var state = Self.browser(size: ScreenSize(columns: 120, rows: 20))
            state.apply(
                .detailsRead(
                    path: Self.directory + "/pseudo_user_2025-10-07_21-30-15_2.json",
                    SessionFileInfo.Details(pseudoUser: user, queryCount: 1)))
            return state
        }
        var huge = browser(user: "bob" + HugeValueRenderTests.huge + "carol")
        let short = browser(user: "bob" + HugeValueRenderTests.short(100))
        let size = ScreenSize(columns: 120, rows: 20)
        let screen = SessionBrowserRenderer.render(huge, size: size)
        #expect(screen.text == SessionBrowserRenderer.render(short, size: size).text)
        let cut = TerminalText.truncated(TerminalText.escaped("bob" + HugeValueRenderTests.short(10)), toWidth: 24)
        #expect(cut.hasSuffix("…"))
        #expect(screen.text.contains("  " + cut + " "))
        huge.press(.character("/"), .character("b"), .character("o"), .character("b"))
        #expect(huge.visible.count == 1)
        huge.press(.control("u"), .character("c"), .character("a"), .character("r"), .character("o"), .character("l"))
        #expect(huge.visible.isEmpty, "past the first 256 characters")
    }
}

extension SessionBrowserState {
    mutating func press(_ keys: ViewKey...) {
        for key in keys { _ = self.handle(key) }
    }

    mutating func type(_ text: String) {
        for character in text { _ = self.handle(.character(character)) }
    }
}

import Foundation
import Monitor
import ProxyEngine
import Replay
import Testing

/// The replay view's reducer: keys and the replay session's answers in, state and commands out.
@Suite struct ReplayViewReducerTests {
    @Test func opensWithEveryQueryPendingAndConnectsFirst() {
        var state = ReplayViewState(setup: ReplayFixtures.setup(), size: .minimum)
        #expect(state.rows.map(\.query.queryNumber) == [1, 2, 3, 4, 5])
        #expect(state.rows.map(\.status) == Array(repeating: .pending, count: 5))
        #expect(state.counts[.pending] == 5)
        #expect(state.nextRow == 0)
        #expect(state.work == .connecting)
        // Activities are not rows: query 1 is event 3 of the file.
        #expect(state.rows[0].eventNumber == 3)

        #expect(state.handle(.character("n")).isEmpty, "n while connecting waits for the connection")
        #expect(state.queuedSteps == 1)
        #expect(state.apply(.connected) == [.step])
        #expect(state.connection == .connected)
        #expect(state.work == .stepping(row: 0))
        #expect(state.queuedSteps == 0)
    }

    @Test func nPressedFasterThanQueriesRunIsNotLost() {
        var state = ReplayFixtures.connectedState()
        var session = FakeReplaySession(answer: { $0.recorded })
        #expect(state.handle(.character("n")) == [.step])
        #expect(state.handle(.character("n")).isEmpty)
        #expect(state.handle(.character(" ")).isEmpty)
        #expect(state.queuedSteps == 2)
        #expect(state.screen.line(1).hasSuffix("▶ query 1… (+2) "))
        // Each answer starts the next queued step, one at a time.
        #expect(state.apply(session.event(for: .step, state: state)) == [.step])
        #expect(state.queuedSteps == 1)
        #expect(state.handle(.character("n")).isEmpty)
        // Esc drops what is queued; the step running finishes and nothing follows.
        #expect(state.handle(.escape).isEmpty)
        #expect(state.queuedSteps == 0)
        #expect(!state.isLeaving, "Esc stopped the queue, it did not leave")
        #expect(state.apply(session.event(for: .step, state: state)).isEmpty)
        #expect(state.rows.map(\.status) == [.matched, .matched, .pending, .pending, .pending])
        // Queued past the end: what is left is dropped when the last query has run.
        var commands = state.handle(.character("n"))
        for _ in 0..<5 { commands += state.handle(.character("n")) }
        #expect(commands == [.step])
        #expect(state.queuedSteps == 5)
        session.run(commands, on: &state)
        #expect(state.isFinished)
        #expect(state.queuedSteps == 0)
    }

    @Test func aStepShowsTheVerdictAndMovesToTheNextQuery() {
        var state = ReplayFixtures.connectedState()
        var session = FakeReplaySession()
        session.press(.character("n"), on: &state)
        #expect(session.log == [.step])
        #expect(state.rows[0].status == .matched)
        #expect(state.nextRow == 1)
        #expect(state.selected == 0, "the selection follows the query just replayed")
        #expect(state.counts[.matched] == 1)
        #expect(state.counts[.pending] == 4)
        #expect(state.summary.executed == 1)
        // Space steps too.
        session.press(.character(" "), on: &state)
        #expect(state.rows[1].status == .matched)
        #expect(state.selected == 1)
    }

    @Test func mRunsToTheFirstMismatchAndStopsThere() {
        var state = ReplayFixtures.connectedState()
        var session = FakeReplaySession()
        session.press(.character("n"), on: &state)
        session.press(.character("m"), on: &state)
        #expect(session.log == [.step, .step, .step], "query 1 by n, then 2 and 3 by m")
        #expect(state.rows.map(\.status) == [.matched, .matched, .mismatched, .pending, .pending])
        #expect(state.run == nil)
        #expect(state.selected == 2)
        #expect(state.nextRow == 3)
        #expect(state.notice?.text == "Stopped at a mismatched query.")
        let difference = try? #require(state.rows[2].step?.difference)
        #expect(difference?.description == #"row 2, column "value": recorded "200", replayed "151""#)

        // r runs the rest; the recorded error is replayed as recorded (a match), then the end and its summary.
        session.press(.character("r"), on: &state)
        #expect(state.rows.map(\.status) == [.matched, .matched, .mismatched, .matched, .matched])
        #expect(state.isFinished)
        #expect(state.overlay == .summary)
        #expect(state.summary.matched == 4)
        #expect(state.summary.mismatched == 1)
        #expect(state.summary.errors == 1)
        #expect(state.summary.unexpectedErrors == 0)
        let lines = state.summaryLines()
        #expect(lines.contains("   Queries executed: 5"))
        #expect(lines.contains("   Errors: 1 (all as recorded)"))
        #expect(lines.contains("   Results matched: 4"))
        #expect(lines.contains("   Results mismatched: 1"))
        #expect(lines.contains("❌ Session replay found differences: 1 mismatched"))
        #expect(state.handle(.character("n")).isEmpty)
        #expect(state.notice?.text == "Every query has been replayed: R restarts.")
    }

    @Test func anUnexpectedErrorIsAnErrorAndStopsM() {
        var state = ReplayFixtures.connectedState()
        var session = FakeReplaySession()
        session.answer = { row in
            guard row.query.queryNumber == 2 else { return row.recorded }
            return RecordedResult(
                queryNumber: 2, error: RecordedError(severity: "ERROR", code: "25006", message: "read-only"))
        }
        session.press(.character("m"), on: &state)
        #expect(state.rows.map(\.status) == [.matched, .error, .pending, .pending, .pending])
        #expect(state.counts[.error] == 1)
        #expect(state.notice?.text == "Stopped at a failed query.")
        #expect(state.summary.unexpectedErrors == 1)
    }

    @Test func aBreakpointStopsARunBeforeItsQuery() {
        var state = ReplayFixtures.connectedState()
        var session = FakeReplaySession(answer: { $0.recorded })
        state.press(.down, .down, .down)
        state.press(.character("b"))
        #expect(state.rows[3].breakpoint)
        #expect(state.breakpointCount == 1)
        session.press(.character("r"), on: &state)
        #expect(state.rows.map(\.status) == [.matched, .matched, .matched, .pending, .pending])
        #expect(state.nextRow == 3)
        #expect(state.notice?.text == "Stopped at the breakpoint before query 4.")
        #expect(state.run == nil)
        #expect(state.exitCode == 1, "not finished")
        // Running again from the breakpoint executes it and goes on.
        session.press(.character("r"), on: &state)
        #expect(state.isFinished)
        #expect(state.exitCode == 0)
        #expect(state.summaryLines().last == "✅ Session replay completed successfully!")
        #expect(state.rows[3].breakpoint, "breakpoints stay")
        // b again removes it.
        state.press(.escape, .up, .character("b"))
        #expect(!state.rows[3].breakpoint)
        #expect(state.breakpointCount == 0)
    }

    @Test func escapeStopsARunAfterTheCurrentQueryAndKeysKeepWorking() {
        var state = ReplayFixtures.connectedState()
        var session = FakeReplaySession(answer: { $0.recorded })
        #expect(state.handle(.character("r")) == [.step])
        #expect(state.run == .toEnd)
        // While query 1 executes: moving, opening the detail, a breakpoint; a second step is refused.
        state.press(.down, .down)
        #expect(state.selected == 2)
        state.press(.enter)
        #expect(state.overlay == .detail)
        #expect(state.handle(.character("n")).isEmpty)
        #expect(state.notice?.text == "Running: Esc stops after the current query.")
        state.press(.escape)
        #expect(state.stopRequested)
        #expect(state.overlay == .detail, "Esc stops the run first, the detail stays")
        let next = state.apply(session.event(for: .step, state: state))
        #expect(next.isEmpty, "no further step after Esc")
        #expect(state.run == nil)
        #expect(state.rows[0].status == .matched)
        #expect(state.rows[1].status == .pending)
        #expect(state.selected == 2, "the user's selection is kept")
        #expect(state.notice?.text == "Stopped after query 1.")
    }

    @Test func skipPassesOverAQueryWithoutExecutingIt() {
        var state = ReplayFixtures.connectedState()
        var session = FakeReplaySession()
        session.press(.character("s"), on: &state)
        #expect(session.log == [.skip])
        #expect(state.rows[0].status == .skipped)
        #expect(state.rows[0].step?.executed == false)
        #expect(state.counts[.skipped] == 1)
        #expect(state.summary.skipped == 1)
        #expect(state.nextRow == 1)
    }

    @Test func theSafetyModeChangesOnlyBeforeTheFirstStep() {
        var state = ReplayFixtures.connectedState()
        var session = FakeReplaySession(answer: { $0.recorded })
        #expect(state.canChangeSafety)
        session.press(.character("t"), on: &state)
        #expect(session.log == [.setSafety(.readOnly)])
        #expect(state.safety == .readOnly)
        #expect(state.connection == .connected)
        session.press(.character("t"), on: &state)
        #expect(state.safety == .rollback)
        session.press(.character("n"), on: &state)
        #expect(!state.canChangeSafety)
        #expect(state.handle(.character("t")).isEmpty)
        #expect(state.notice?.text == "The safety mode changes only before the first step: R restarts, then t.")
        // R: a fresh connection, every query pending again; then t works again.
        session.press(.character("R"), on: &state)
        #expect(session.log.last == .restart)
        #expect(state.counts[.pending] == 5)
        #expect(state.canChangeSafety)
        session.press(.character("t"), on: &state)
        #expect(state.safety == .none)
    }

    @Test func restartStartsOverAndKeepsBreakpoints() {
        var state = ReplayFixtures.connectedState()
        var session = FakeReplaySession()
        state.press(.end, .character("b"))
        session.press(.character("r"), on: &state)
        #expect(state.nextRow == 4)
        session.press(.character("R"), on: &state)
        #expect(state.rows.allSatisfy { $0.step == nil })
        #expect(state.rows[4].breakpoint)
        #expect(state.nextRow == 0)
        #expect(state.summary == { var summary = ReplaySummary(); summary.queries = 5; return summary }())
        #expect(state.stepsTaken == 0)
        #expect(state.startedAt == EventScript.start.addingTimeInterval(120))
        #expect(state.notice?.text == "Restarted on a fresh connection.")
    }

    @Test func aLostConnectionMarksTheQueryAndItCanBeTriedAgain() {
        var state = ReplayFixtures.connectedState()
        var session = FakeReplaySession(answer: { $0.recorded })
        #expect(state.handle(.character("r")) == [.step])
        _ = state.apply(.stepFailed("lost the connection to postgres://postgres:***@127.0.0.1:5432/postgres: EOF"))
        #expect(state.rows[0].status == .error)
        #expect(state.counts[.error] == 1)
        #expect(state.run == nil, "the run stops")
        #expect(state.nextRow == 0, "the same query is next")
        #expect(state.connection == .failed("lost the connection to postgres://postgres:***@127.0.0.1:5432/postgres: EOF"))
        #expect(state.report().files[0].error?.hasPrefix("lost the connection") == true)
        session.press(.character("n"), on: &state)
        #expect(state.rows[0].status == .matched)
        #expect(state.counts[.error] == 0)
        #expect(state.connection == .connected)
    }

    @Test func leavingClosesTheConnectionFirst() {
        var state = ReplayFixtures.connectedState()
        #expect(state.handle(.character("r")) == [.step])
        #expect(state.handle(.character("q")) == [.close])
        #expect(state.isLeaving)
        #expect(state.run == nil)
        #expect(state.handle(.character("n")).isEmpty, "keys are ignored while closing")
        // The step still running finishes (and is not followed by another), then the connection closes.
        var session = FakeReplaySession(answer: { $0.recorded })
        #expect(state.apply(session.event(for: .step, state: state)).isEmpty)
        #expect(state.overlay == nil)
        #expect(!state.isClosed)
        _ = state.apply(.closed)
        #expect(state.isClosed)
    }

    @Test func escapeLeavesWhenNothingRuns() {
        var state = ReplayFixtures.connectedState()
        state.press(.enter)
        #expect(state.overlay == .detail)
        #expect(state.handle(.escape).isEmpty, "Esc closes the detail first")
        #expect(state.overlay == nil)
        #expect(state.handle(.escape) == [.close])
    }

    @Test func theReportIsTheHeadlessOne() throws {
        var state = ReplayFixtures.connectedState()
        var session = FakeReplaySession()
        #expect(state.handle(.character("w")).isEmpty)
        #expect(state.notice?.text == "Nothing replayed yet: no report to write.")
        session.press(.character("m"), on: &state)
        let partial = state.report()
        #expect(partial.exitCode == 1)
        #expect(partial.files[0].error == "not finished: 3 of 5 queries replayed when the report was written")
        #expect(state.summaryLines().last == "❌ not finished: 3 of 5 queries replayed")
        session.press(.character("r"), on: &state)
        let commands = state.handle(.character("w"))
        #expect(state.overlay == .summary, "w writes from the summary without closing it")
        guard case .writeReport(let path, let report) = try #require(commands.first) else {
            Issue.record("expected a report, got \(commands)")
            return
        }
        #expect(path == "sessions/pseudo_user_2025-10-07_21-30-15.replay.json")
        #expect(report.tool == "pgreel replay")
        #expect(report.exitCode == 1)
        #expect(report.summary == ReplayReport.Summary(state.summary))
        #expect(report.options.safety == .none)
        let file = try #require(report.files.first)
        #expect(file.path == ReplayFixtures.path)
        #expect(file.target == ReplayFixtures.target)
        #expect(file.error == nil)
        #expect(file.queries.map(\.status) == [.matched, .matched, .mismatched, .matched, .matched])
        #expect(file.queries[2].difference?.difference.row == 2)
        #expect(file.queries[2].replayedDurationMS == 0.38)
        let json = try #require(String(data: try report.json(), encoding: .utf8))
        #expect(json.contains(#""recorded_value" : "200""#))
        #expect(json.contains(#""replayed_value" : "151""#))
        #expect(json.contains(#""started_at" : "2025-10-07T21:31:15.123000Z""#))
        _ = state.apply(.reportWritten(path: path))
        #expect(state.notice?.text == "Report written to sessions/pseudo_user_2025-10-07_21-30-15.replay.json")
    }

    @Test func aCutFileSaysSoAndItsLastQueryIsNotCompared() {
        var queries = ReplayFixtures.queries
        queries.removeLast()
        var events = ReplayFixtures.events(queries: queries)
        events.removeLast()  // session_end
        events.removeLast()  // the last result
        let setup = ReplayViewState.Setup(
            path: ReplayFixtures.path, script: ReplayScript(events: events), cut: "line 11: the file ends mid-event",
            target: ReplayFixtures.target, targetSource: "--db-url", safety: .rollback, openedAt: EventScript.start)
        var state = ReplayViewState(setup: setup, size: .minimum)
        #expect(state.notice?.text == "⚠ the file is cut off at line 11: the file ends mid-event: every complete event replays")
        _ = state.apply(.connected)
        var session = FakeReplaySession(answer: { row in row.recorded ?? RecordedResult(queryNumber: row.query.queryNumber) })
        session.press(.character("r"), on: &state)
        #expect(state.rows.last?.status == .notCompared)
        #expect(state.counts[.notCompared] == 1)
        #expect(state.summary.notCompared == 1)
    }

    @Test func selectionStaysInTheListWindow() {
        let queries = (1...60).map { number in
            (sql: "SELECT \(number);", result: RecordedResult(queryNumber: number))
        }
        var state = ReplayFixtures.connectedState(queries: queries)
        let height = state.layout.list.height
        state.press(.pageDown)
        #expect(state.selected == height - 1)
        state.press(.end)
        #expect(state.selected == 59)
        #expect(state.list.top == 60 - height)
        state.press(.home)
        #expect(state.list.top == 0)
        // A run follows the replayed query down the list.
        var session = FakeReplaySession(answer: { $0.recorded })
        session.press(.character("r"), on: &state)
        #expect(state.selected == 59)
        #expect(state.list.top == 60 - height)
    }
}

import Foundation
import Monitor
import ProxyEngine
import Replay
import Testing

/// Esc on a running query: the view asks the target to cancel it instead of waiting, says so while the cancel is
/// in flight, and takes the answer (57014) like any other; Esc keeps its other meanings where nothing runs.
@Suite struct ReplayViewCancelTests {
    static let cancelled = RecordedError(
        severity: "ERROR", code: "57014", message: "canceling statement due to user request")

    /// The step of `row` as the target ends it after a CancelRequest.
    static func cancelledStep(_ state: ReplayViewState, row: Int) -> ReplayViewEvent {
        let replayed = RecordedResult(queryNumber: state.rows[row].query.queryNumber, error: Self.cancelled, durationMS: 812)
        let step = ReplayFixtures.step(for: state.rows[row], replayed: replayed)
        return .stepped(step, elapsedMS: 812, marks: [])
    }

    @Test func escapeOnARunningStepCancelsItAndTheNextStepWorks() {
        var state = ReplayFixtures.connectedState()
        #expect(state.handle(.character("n")) == [.step])
        #expect(state.screen.line(1).hasSuffix("▶ query 1… (Esc cancels) "), "\(state.screen.line(1))")
        #expect(state.handle(.escape) == [.cancel])
        #expect(state.cancelling)
        #expect(!state.isLeaving, "Esc on a running query does not leave")
        #expect(state.screen.line(1).hasSuffix("✗ cancelling… "), "\(state.screen.line(1))")
        #expect(state.notice?.text == "Cancelling query 1 on the target…")
        #expect(state.handle(.escape).isEmpty, "one cancel is enough")
        #expect(state.cancelling)

        #expect(state.apply(Self.cancelledStep(state, row: 0)).isEmpty)
        #expect(!state.cancelling)
        #expect(state.rows[0].status == .error, "57014 where the recording answered: an unexpected error")
        #expect(state.notice?.text == "Query 1 cancelled on the target (57014).")
        #expect(state.nextRow == 1)
        #expect(state.summary.unexpectedErrors == 1)
        #expect(state.screen.text.contains("57014"))

        // The connection is still there: the next step runs as usual.
        var session = FakeReplaySession(answer: { $0.recorded })
        session.position = 1
        session.press(.character("n"), on: &state)
        #expect(session.log == [.step])
        #expect(state.rows[1].status == .matched)
    }

    @Test func escapeDuringARunStopsItFirstThenCancelsTheQuery() {
        var state = ReplayFixtures.connectedState()
        #expect(state.handle(.character("r")) == [.step])
        #expect(state.handle(.escape).isEmpty)
        #expect(state.stopRequested)
        #expect(state.notice?.text == "Stopping after the current query… (Esc again cancels it)")
        #expect(state.screen.line(1).hasSuffix("▶ stopping (Esc cancels the query) "), "\(state.screen.line(1))")
        #expect(state.handle(.escape) == [.cancel])
        #expect(state.run == nil)
        #expect(state.apply(Self.cancelledStep(state, row: 0)).isEmpty, "no further step after a cancel")
        #expect(state.rows.map(\.status) == [.error, .pending, .pending, .pending, .pending])
    }

    @Test func escapeInTheDetailCancelsTheRunningQuery() {
        var state = ReplayFixtures.connectedState()
        #expect(state.handle(.character("n")) == [.step])
        state.press(.enter)
        #expect(state.overlay == .detail)
        #expect(state.handle(.escape) == [.cancel])
        #expect(state.overlay == .detail, "the detail stays while the query is cancelled")
        #expect(state.handle(.character("q")).isEmpty, "q closes the detail, as before")
        #expect(state.overlay == nil)
    }

    @Test func aCancelThatCouldNotBeSentSaysSoAndALateAnswerIsIgnored() {
        var state = ReplayFixtures.connectedState()
        _ = state.handle(.character("n"))
        #expect(state.handle(.escape) == [.cancel])
        #expect(state.apply(.cancelFailed).isEmpty)
        #expect(!state.cancelling)
        #expect(state.notice?.text == "The target could not be asked to cancel (no cancel key): the query runs on.")
        #expect(state.handle(.escape) == [.cancel], "Esc may try again")

        // The query finished before the cancel reached it: its own answer, and the driver's late word changes nothing.
        let row = state.rows[0]
        let step = ReplayFixtures.step(for: row, replayed: row.recorded)
        #expect(state.apply(.stepped(step, elapsedMS: 1, marks: [])).isEmpty)
        #expect(state.notice?.text == "Query 1 finished before the cancel.")
        #expect(state.rows[0].status == .matched)
        _ = state.apply(.cancelFailed)
        #expect(state.notice?.text == "Query 1 finished before the cancel.")
    }

    @Test func escapeWhereNothingRunsKeepsItsMeaning() {
        var state = ReplayFixtures.connectedState()
        var session = FakeReplaySession(answer: { $0.recorded })
        session.press(.character("n"), on: &state)
        #expect(state.work == nil)
        // A skip executes nothing on the target: Esc does not cancel it.
        #expect(state.handle(.character("s")) == [.skip])
        #expect(state.handle(.escape) == [.close])
    }
}

import Foundation
@testable import Monitor
import ProxyEngine
import Replay
import Testing

/// The replay view's latency figures: `▲ 3.2x` on a query slower than the rule allows, both durations in its
/// verdict, the headless replay's percentiles in the summary and the report.
@Suite struct ReplayViewLatencyTests {
    /// The target answers as recorded, but query 2 (recorded 1.2 ms) takes 3.84 ms: 3.2x and 2.64 ms slower.
    static func slowerSecondQuery(_ row: ReplayRow) -> RecordedResult? {
        var result = row.recorded
        result?.durationMS = row.query.queryNumber == 2 ? 3.84 : (row.recorded?.durationMS ?? 0)
        return result
    }

    static func lines(_ state: ReplayViewState) -> [String] {
        state.screen.text.split(separator: "\n").map(String.init)
    }

    @Test func aSlowerQueryShowsItsRatioInTheListAndBothDurationsInItsVerdict() throws {
        var state = ReplayFixtures.connectedState(size: ScreenSize(columns: 120, rows: 40))
        var session = FakeReplaySession(answer: Self.slowerSecondQuery)
        session.press(.character("n"), on: &state)
        session.press(.character("n"), on: &state)
        let regression = try #require(state.rows[1].step?.latencyRegression)
        #expect(regression.ratio > 3.19 && regression.ratio < 3.21)
        #expect(state.rows[0].step?.latencyRegression == nil)
        let lines = Self.lines(state)
        let row2 = try #require(lines.first { $0.contains("UPDATE test_data SET value") })
        #expect(row2.hasSuffix("▲ 3.2x"), "the time column shows the ratio: \(row2)")
        let row1 = try #require(lines.first { $0.contains("SELECT count(*) FROM test_data;") })
        #expect(row1.hasSuffix("0.41 ms"), "a query as fast as recorded shows its time: \(row1)")
        #expect(
            lines.contains { $0.contains("Duration: recorded 1.20 ms · replayed 3.84 ms · ▲ 3.2x slower than recorded") },
            "the verdict of the selected query: \(lines.joined(separator: "\n"))")
        // The detail says the same.
        state.press(.enter)
        #expect(Self.lines(state).contains { $0.contains("replayed 3.84 ms · ▲ 3.2x slower than recorded") })
    }

    @Test func theRatioMarkFitsTheTimeColumn() {
        func mark(_ recorded: Double, _ replayed: Double) -> String {
            ReplayVerdict.regressionMark(LatencyRegression(recordedMS: recorded, replayedMS: replayed))
        }
        #expect(mark(1.2, 3.84) == "▲ 3.2x")
        #expect(mark(0.5, 30_000) == "▲ >9999x")
        #expect(mark(2, 250) == "▲ 125x")
        #expect(mark(0, 5) == "▲ ∞x")
    }

    @Test func theSummaryAndTheReportHaveThePercentiles() throws {
        var state = ReplayFixtures.connectedState()
        var session = FakeReplaySession(answer: Self.slowerSecondQuery)
        session.press(.character("r"), on: &state)
        #expect(state.overlay == .summary)
        let lines = state.summaryLines()
        #expect(lines.contains("   Latency (5 queries run on both sides):"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("     recorded p50 0.410 ms · p95 1.200 ms") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("     replayed p50 0.410 ms · p95 3.840 ms") }, "\(lines)")
        #expect(lines.contains("   ▲ Latency regressions (over 2x and 1 ms slower): 1, worst first:"))
        #expect(lines.contains { $0.contains("3.20x slower than recorded") && $0.contains("UPDATE test_data") })
        // The summary box shows them too.
        #expect(Self.lines(state).contains { $0.contains("Latency (5 queries run on both sides):") })

        let report = state.report()
        #expect(report.latency?.replayed.count == 5)
        #expect(report.latencyRegressions.count == 1)
        #expect(report.files.first?.latency?.recorded.count == 5)

        // R starts the figures over.
        session.press(.character("R"), on: &state)
        #expect(state.latency == LatencySamples())
        #expect(!state.summaryLines().contains { $0.contains("Latency (") })
    }
}

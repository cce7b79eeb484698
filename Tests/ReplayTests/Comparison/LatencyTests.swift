import Testing

@testable import Replay

/// The latency rule and the percentiles, on hand-made durations.
@Suite struct LatencyTests {
    @Test(arguments: [
        (2.0, 40.0, true),  // 20x and 38 ms slower
        (0.1, 0.3, false),  // 3x, but 0.2 ms: nobody waits for that
        (10_000.0, 10_500.0, false),  // 0.5 s slower, but only 1.05x
        (1.0, 2.0, false),  // exactly 2x is not over 2x
        (1.0, 2.5, true),  // over 2x and 1.5 ms slower
        (0.0, 1.5, true),  // recorded 0: 1.5 ms slower, infinitely many times
        (0.0, 0.5, false),
        (5.0, 3.0, false),  // faster
    ])
    func theDefaultRule(recorded: Double, replayed: Double, flagged: Bool) {
        #expect((LatencyRule().regression(recordedMS: recorded, replayedMS: replayed) != nil) == flagged)
    }

    @Test func thresholdAndFloorAreBothNeeded() {
        let rule = LatencyRule(threshold: 1.5, floorMS: 5)
        #expect(rule.regression(recordedMS: 10, replayedMS: 16) != nil)
        #expect(rule.regression(recordedMS: 10, replayedMS: 14.9) == nil, "under 1.5x")
        #expect(rule.regression(recordedMS: 2, replayedMS: 6.5) == nil, "3.25x but 4.5 ms")
        #expect(rule.regression(recordedMS: .nan, replayedMS: 100) == nil)
        #expect(LatencyRegression(recordedMS: 0, replayedMS: 3).ratio == .infinity)
    }

    @Test func percentilesAreNearestRank() throws {
        let hundred = (1...100).map(Double.init).shuffled()
        let all = try #require(LatencyPercentiles(hundred))
        #expect(all == LatencyPercentiles(count: 100, p50: 50, p95: 95, p99: 99, max: 100))
        let few = try #require(LatencyPercentiles([3, 1, 2]))
        #expect(few == LatencyPercentiles(count: 3, p50: 2, p95: 3, p99: 3, max: 3))
        #expect(LatencyPercentiles([7]) == LatencyPercentiles(count: 1, p50: 7, p95: 7, p99: 7, max: 7))
        #expect(LatencyPercentiles([]) == nil)
    }
}

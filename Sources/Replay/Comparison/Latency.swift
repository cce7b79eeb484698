/// When a replayed query is a latency regression: `--latency-threshold X` (default 2) times slower than recorded
/// AND more than `--latency-floor MS` (default 1 ms) slower. Both conditions, so that a 0.1 ms query taking 0.3 ms
/// (3x, but nothing anyone waits for) and a 10 s report taking 10.5 s (0.5 s, but within noise of the server's
/// load) are not flagged; a 2 ms query taking 40 ms is.
public struct LatencyRule: Sendable, Equatable {
    public var threshold: Double
    public var floorMS: Double

    public init(threshold: Double = 2.0, floorMS: Double = 1.0) {
        self.threshold = threshold
        self.floorMS = floorMS
    }

    /// The regression of one query, nil when it is none.
    public func regression(recordedMS: Double, replayedMS: Double) -> LatencyRegression? {
        guard recordedMS.isFinite, replayedMS.isFinite, recordedMS >= 0, replayedMS >= 0 else { return nil }
        guard replayedMS > self.threshold * recordedMS, replayedMS - recordedMS > self.floorMS else { return nil }
        return LatencyRegression(recordedMS: recordedMS, replayedMS: replayedMS)
    }
}

/// A query that ran slower on the target than when it was recorded, by more than `LatencyRule` allows.
public struct LatencyRegression: Sendable, Equatable {
    public var recordedMS: Double
    public var replayedMS: Double

    public init(recordedMS: Double, replayedMS: Double) {
        self.recordedMS = recordedMS
        self.replayedMS = replayedMS
    }

    /// How many times slower (infinity when the recorded time was 0).
    public var ratio: Double { self.recordedMS > 0 ? self.replayedMS / self.recordedMS : .infinity }
}

/// count, p50, p95, p99 and max of a set of durations (milliseconds), by the nearest-rank method: every figure is
/// one of the measured durations, never an interpolation.
public struct LatencyPercentiles: Sendable, Equatable {
    public var count: Int
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var max: Double

    public init(count: Int, p50: Double, p95: Double, p99: Double, max: Double) {
        self.count = count
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
        self.max = max
    }

    /// nil for no durations.
    public init?(_ durations: [Double]) {
        guard !durations.isEmpty else { return nil }
        let sorted = durations.sorted()
        func rank(_ percent: Double) -> Double {
            let index = Int((percent / 100 * Double(sorted.count)).rounded(.up)) - 1
            return sorted[Swift.min(Swift.max(index, 0), sorted.count - 1)]
        }
        self.init(count: sorted.count, p50: rank(50), p95: rank(95), p99: rank(99), max: sorted[sorted.count - 1])
    }
}

/// The durations of the queries that ran on both sides (recorded and replayed, each with a duration), kept to
/// summarise a file and the whole replay: like with like, a query that did not run on one side is not counted on
/// either. Regressions are kept small (their SQL's start, not their results), so a long replay stays light.
public struct LatencySamples: Sendable, Equatable {
    /// One regression, as the summary and the reports list it.
    public struct Regression: Sendable, Equatable {
        public var path: String
        public var eventNumber: Int
        public var queryNumber: Int
        /// The statement's first 300 characters.
        public var sql: String
        public var latency: LatencyRegression
    }

    public private(set) var recorded: [Double] = []
    public private(set) var replayed: [Double] = []
    /// The regressions, in the order the queries ran.
    public private(set) var regressions: [Regression] = []

    public init() {}

    public mutating func add(_ step: QueryStep, path: String) {
        guard let recorded = step.recorded, let replayed = step.replayed else { return }
        self.recorded.append(recorded.durationMS)
        self.replayed.append(replayed.durationMS)
        if let latency = step.latencyRegression {
            self.regressions.append(
                Regression(
                    path: path, eventNumber: step.eventNumber, queryNumber: step.query.queryNumber,
                    sql: String(step.query.sql.prefix(300)), latency: latency))
        }
    }

    public mutating func add(_ other: LatencySamples) {
        self.recorded += other.recorded
        self.replayed += other.replayed
        self.regressions += other.regressions
    }

    public var summary: LatencySummary? {
        guard let recorded = LatencyPercentiles(self.recorded), let replayed = LatencyPercentiles(self.replayed) else {
            return nil
        }
        return LatencySummary(recorded: recorded, replayed: replayed)
    }

    /// The regressions, worst (highest ratio, then the most time added) first.
    public var worstRegressions: [Regression] {
        self.regressions.sorted { left, right in
            let a = left.latency
            let b = right.latency
            if a.ratio != b.ratio { return a.ratio > b.ratio }
            return a.replayedMS - a.recordedMS > b.replayedMS - b.recordedMS
        }
    }
}

/// Recorded and replayed percentiles side by side.
public struct LatencySummary: Sendable, Equatable {
    public var recorded: LatencyPercentiles
    public var replayed: LatencyPercentiles

    /// replayed / recorded at a percentile (nil when the recorded figure is 0).
    public static func ratio(_ replayed: Double, _ recorded: Double) -> Double? {
        recorded > 0 ? replayed / recorded : nil
    }
}

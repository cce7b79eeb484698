import Foundation
import ProxyEngine

/// The machine-readable account of a replay (`--report FILE.json`), and the source of the JUnit XML.
///
/// Per query it keeps the verdict, short summaries of the recorded and replayed results (columns, row count,
/// command tag, error, digest; not the rows), the first difference and both durations, so a CI job or a script can
/// tell what changed without reading the session file again.
public struct ReplayReport: Sendable, Encodable, Equatable {
    public var tool = "pgreel replay"
    public var startedAt: String
    public var wallTimeMS: Double
    /// The process's exit code: 0 all matched, 1 a mismatch or an unexpected error, 2 could not run.
    public var exitCode: Int32
    public var options: Options
    public var summary: Summary
    /// Percentiles of every query that ran on both sides, over all files.
    public var latency: Latency?
    /// Every latency regression, worst first.
    public var latencyRegressions: [Regression]
    /// How the sessions ran (absent when the replay could not start).
    public var schedule: Schedule?
    /// With `--compare-with`: target B's side and the A vs B comparison.
    public var comparison: Comparison?
    public var files: [File]

    public init(
        startedAt: Date, wallTimeMS: Double, exitCode: Int32, options: Options, summary: Summary, files: [File],
        latency: LatencySamples = LatencySamples(), schedule: Schedule? = nil, comparison: Comparison? = nil
    ) {
        self.schedule = schedule
        self.comparison = comparison
        self.startedAt = SessionTimestamp.format(startedAt)
        self.wallTimeMS = wallTimeMS
        self.exitCode = exitCode
        self.options = options
        self.summary = summary
        self.latency = latency.summary.map(Latency.init)
        self.latencyRegressions = latency.worstRegressions.map(Regression.init)
        self.files = files
    }

    /// Recorded and replayed percentiles (milliseconds) and their ratios.
    public struct Latency: Sendable, Encodable, Equatable {
        public var recorded: Percentiles
        public var replayed: Percentiles
        /// replayed / recorded at p50, p95 and p99 (absent where the recorded figure is 0).
        public var ratioP50: Double?
        public var ratioP95: Double?
        public var ratioP99: Double?

        public init(_ summary: LatencySummary) {
            self.recorded = Percentiles(summary.recorded)
            self.replayed = Percentiles(summary.replayed)
            self.ratioP50 = LatencySummary.ratio(summary.replayed.p50, summary.recorded.p50).map(Self.rounded)
            self.ratioP95 = LatencySummary.ratio(summary.replayed.p95, summary.recorded.p95).map(Self.rounded)
            self.ratioP99 = LatencySummary.ratio(summary.replayed.p99, summary.recorded.p99).map(Self.rounded)
        }

        static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
    }

    public struct Percentiles: Sendable, Encodable, Equatable {
        public var count: Int
        public var p50MS: Double
        public var p95MS: Double
        public var p99MS: Double
        public var maxMS: Double

        public init(_ percentiles: LatencyPercentiles) {
            self.count = percentiles.count
            self.p50MS = percentiles.p50
            self.p95MS = percentiles.p95
            self.p99MS = percentiles.p99
            self.maxMS = percentiles.max
        }
    }

    /// One query slower than the latency rule allows.
    public struct Regression: Sendable, Encodable, Equatable {
        public var path: String
        public var event: Int
        public var queryNumber: Int
        public var sql: String
        public var recordedMS: Double
        public var replayedMS: Double
        /// replayed / recorded; absent when the recorded time was 0.
        public var ratio: Double?

        public init(_ regression: LatencySamples.Regression) {
            self.path = regression.path
            self.event = regression.eventNumber
            self.queryNumber = regression.queryNumber
            self.sql = regression.sql
            self.recordedMS = regression.latency.recordedMS
            self.replayedMS = regression.latency.replayedMS
            self.ratio = regression.latency.ratio.isFinite ? Latency.rounded(regression.latency.ratio) : nil
        }
    }

    public struct Options: Sendable, Encodable, Equatable {
        public var safety: ReplayOptions.Safety
        public var speed: Double?
        public var ignoredColumns: [String]
        public var unordered: Bool
        public var stopOnMismatch: Bool
        /// Queries sent ahead of the answers at most (0: one at a time); durations overlap less than they seem.
        public var pipelineDepth: Int
        /// The latency rule: a regression is over `latencyThreshold` times and `latencyFloorMS` slower.
        public var latencyThreshold: Double
        public var latencyFloorMS: Double
        /// Latency regressions fail the replay (exit 1, JUnit failures).
        public var failOnRegression: Bool

        public init(_ options: ReplayOptions, stopOnMismatch: Bool, failOnRegression: Bool = false) {
            self.latencyThreshold = options.latency.threshold
            self.latencyFloorMS = options.latency.floorMS
            self.failOnRegression = failOnRegression
            self.safety = options.safety
            self.speed = options.speed
            self.pipelineDepth = options.pipelines ? options.pipelineDepth : 0
            self.ignoredColumns = options.comparison.ignoredColumns
            self.unordered = options.comparison.unordered
            self.stopOnMismatch = stopOnMismatch
        }
    }

    public struct Summary: Sendable, Encodable, Equatable {
        public var queries: Int
        public var executed: Int
        public var errors: Int
        public var unexpectedErrors: Int
        public var matched: Int
        public var mismatched: Int
        public var notCompared: Int
        public var skipped: Int
        public var latencyRegressions: Int

        public init(_ summary: ReplaySummary) {
            self.latencyRegressions = summary.latencyRegressions
            self.queries = summary.queries
            self.executed = summary.executed
            self.errors = summary.errors
            self.unexpectedErrors = summary.unexpectedErrors
            self.matched = summary.matched
            self.mismatched = summary.mismatched
            self.notCompared = summary.notCompared
            self.skipped = summary.skipped
        }
    }

    /// `--compare-with B`: target B's side of the replay, and where A and B differ.
    public struct Comparison: Sendable, Encodable, Equatable {
        /// Target A (`--db-url`) and B (`--compare-with`), passwords masked.
        public var targetA: String
        public var targetB: String
        /// B against the recording, as `summary` is for A.
        public var summaryB: Summary
        /// B's latency against the recording, as `latency` is for A.
        public var latencyB: Latency?
        /// B's replayed percentiles over A's (`speed_ratio_p95` 1.4: B is 1.4x slower than A at p95).
        public var speedRatioP50: Double?
        public var speedRatioP95: Double?
        public var speedRatioP99: Double?
        /// Results both targets produced, and how many differ between them.
        public var comparedResults: Int
        public var differingResults: Int
        /// Which sides differ: any of "A vs recording", "B vs recording", "A vs B".
        public var differences: [String]

        public init(
            targetA: String, targetB: String, summaryB: ReplaySummary, latencyA: LatencySamples,
            latencyB: LatencySamples, pairs: PairCounts, differences: [String]
        ) {
            self.targetA = targetA
            self.targetB = targetB
            self.summaryB = Summary(summaryB)
            self.latencyB = latencyB.summary.map(Latency.init)
            let a = latencyA.summary?.replayed
            let b = latencyB.summary?.replayed
            func ratio(_ pick: (LatencyPercentiles) -> Double) -> Double? {
                guard let a, let b else { return nil }
                return LatencySummary.ratio(pick(b), pick(a)).map(Latency.rounded)
            }
            self.speedRatioP50 = ratio(\.p50)
            self.speedRatioP95 = ratio(\.p95)
            self.speedRatioP99 = ratio(\.p99)
            self.comparedResults = pairs.compared
            self.differingResults = pairs.differing
            self.differences = differences
        }
    }

    /// How many sessions ran and how, and with a speed how closely they kept to the recorded schedule.
    public struct Schedule: Sendable, Encodable, Equatable {
        /// Jobs run: session files × copies.
        public var sessions: Int
        public var scale: Int
        public var staggerMS: Double
        public var concurrency: Int
        /// Why that concurrency: `--concurrency`, the target's free connections, the recording's overlap.
        public var concurrencySource: String
        public var speed: Double?
        /// How late queries were sent after their scheduled time (with a speed).
        public var lag: Percentiles?
        public var achievedQPS: Double?
        public var scheduledQPS: Double?

        public init(
            sessions: Int, scale: Int, staggerMS: Double, concurrency: Int, concurrencySource: String,
            speed: Double?, fidelity: ReplayFidelity?
        ) {
            self.sessions = sessions
            self.scale = scale
            self.staggerMS = staggerMS
            self.concurrency = concurrency
            self.concurrencySource = concurrencySource
            self.speed = speed
            self.lag = fidelity?.lag.map(Percentiles.init)
            self.achievedQPS = fidelity.map { Latency.rounded($0.achievedQPS) }
            self.scheduledQPS = fidelity?.scheduledQPS.map(Latency.rounded)
        }
    }

    public struct File: Sendable, Encodable, Equatable {
        public var path: String
        /// 0 for the recorded session, 1 and up for `--scale` copies (not compared).
        public var copy: Int
        /// The target, password masked; nil when it could not be resolved.
        public var target: String?
        /// Where and why the file was cut off, when it was.
        public var cut: String?
        /// Why the replay of this file could not run or stopped early.
        public var error: String?
        public var summary: Summary
        public var wallTimeMS: Double
        /// Percentiles of this file's queries that ran on both sides.
        public var latency: Latency?
        public var queries: [Query]

        public init(
            path: String, target: String?, cut: String?, error: String?, summary: ReplaySummary, wallTimeMS: Double,
            queries: [Query], latency: LatencySamples = LatencySamples(), copy: Int = 0
        ) {
            self.latency = latency.summary.map(Latency.init)
            self.path = path
            self.copy = copy
            self.target = target
            self.cut = cut
            self.error = error
            self.summary = Summary(summary)
            self.wallTimeMS = wallTimeMS
            self.queries = queries
        }
    }

    public struct Query: Sendable, Encodable, Equatable {
        public var event: Int
        public var queryNumber: Int
        public var sql: String
        public var `protocol`: QueryProtocol
        public var statementName: String?
        public var status: QueryStatus
        public var executed: Bool
        public var unexpectedError: Bool
        public var skipReason: String?
        public var recorded: ResultSummary?
        public var replayed: ResultSummary?
        public var difference: Difference?
        public var differingRows: Int?
        public var notes: [String]
        public var recordedDurationMS: Double?
        public var replayedDurationMS: Double?
        /// replayed / recorded when the query is a latency regression.
        public var latencyRegressionRatio: Double?
        public var latencyRegression: Bool
        /// With `--compare-with`: the same query on target B.
        public var b: PairedQuery?
        /// `--id-mode map`: learned ids put into the query before it was sent, and ids its answer taught.
        public var idSubstitutions: [IDMap.Substitution]?
        public var idsLearned: [IDMap.Substitution]?

        public init(_ step: QueryStep, paired: PairedStep? = nil) {
            self.b = paired.flatMap(PairedQuery.init)
            self.idSubstitutions = step.substitutions.isEmpty ? nil : step.substitutions
            self.idsLearned = step.learnedIDs.isEmpty ? nil : step.learnedIDs
            self.latencyRegression = step.latencyRegression != nil
            self.latencyRegressionRatio = step.latencyRegression.flatMap {
                $0.ratio.isFinite ? Latency.rounded($0.ratio) : nil
            }
            self.event = step.eventNumber
            self.queryNumber = step.query.queryNumber
            self.sql = step.query.sql
            self.protocol = step.query.queryProtocol
            self.statementName = step.query.statementName.flatMap { $0.isEmpty ? nil : $0 }
            self.status = step.status
            self.executed = step.executed
            self.unexpectedError = step.unexpectedError
            self.skipReason = step.skipReason
            self.recorded = step.recorded.map(ResultSummary.init)
            self.replayed = step.replayed.map(ResultSummary.init)
            self.difference = step.difference.map { Difference($0) }
            self.differingRows = step.differingRows > 1 ? step.differingRows : nil
            self.notes = step.notes
            self.recordedDurationMS = step.recorded?.durationMS
            self.replayedDurationMS = step.replayed?.durationMS
        }
    }

    /// A query replayed on target B: its verdict against the recording, and its result against A's
    /// (`versus_a`, a difference whose `recorded` side is A and `replayed` side is B; absent when they agree).
    public struct PairedQuery: Sendable, Encodable, Equatable {
        public var status: QueryStatus
        public var executed: Bool
        public var unexpectedError: Bool
        public var replayed: ResultSummary?
        public var difference: Difference?
        public var replayedDurationMS: Double?
        public var latencyRegression: Bool
        /// Whether B's result equals A's (absent when either did not run).
        public var matchesA: Bool?
        public var versusA: Difference?

        public init?(_ paired: PairedStep) {
            guard let step = paired.query else { return nil }
            self.status = step.status
            self.executed = step.executed
            self.unexpectedError = step.unexpectedError
            self.replayed = step.replayed.map(ResultSummary.init)
            self.difference = step.difference.map { Difference($0) }
            self.replayedDurationMS = step.replayed?.durationMS
            self.latencyRegression = step.latencyRegression != nil
            self.matchesA = paired.versusA?.matches
            self.versusA = paired.versusA?.difference.map { Difference($0) }
        }
    }

    /// A result without its rows.
    public struct ResultSummary: Sendable, Encodable, Equatable {
        public var columns: [String]
        public var rowCount: Int
        public var commandTag: String?
        public var rowsDigest: String?
        /// How many result sets a multi-statement query returned, when more than one.
        public var resultSets: Int?
        public var error: ErrorSummary?

        public init(_ result: RecordedResult) {
            self.columns = result.result.columns
            self.rowCount = result.result.rowCount
            self.commandTag = result.result.commandTag
            self.rowsDigest = result.result.rowsDigest
            self.resultSets = result.resultSets.map(\.count)
            self.error = result.error.map { ErrorSummary(code: $0.code, message: $0.message) }
        }
    }

    public struct ErrorSummary: Sendable, Encodable, Equatable {
        public var code: String
        public var message: String
    }

    /// `ResultDifference` for JSON: cell values are written as `null` for SQL NULL, never left out.
    public struct Difference: Sendable, Encodable, Equatable {
        public var difference: ResultDifference

        public init(_ difference: ResultDifference) {
            self.difference = difference
        }

        private enum Keys: String, CodingKey {
            case kind
            case resultSet = "result_set"
            case row, column
            case recordedValue = "recorded_value"
            case replayedValue = "replayed_value"
            case recorded, replayed, message
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            let difference = self.difference
            try container.encode(difference.kind, forKey: .kind)
            try container.encodeIfPresent(difference.resultSet, forKey: .resultSet)
            try container.encodeIfPresent(difference.row, forKey: .row)
            try container.encodeIfPresent(difference.column, forKey: .column)
            if difference.kind == .value {
                try container.encode(difference.recordedValue, forKey: .recordedValue)
                try container.encode(difference.replayedValue, forKey: .replayedValue)
            }
            try container.encode(difference.recorded, forKey: .recorded)
            try container.encode(difference.replayed, forKey: .replayed)
            try container.encode(difference.description, forKey: .message)
        }
    }

    /// The report as pretty-printed JSON with sorted keys.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        var data = try encoder.encode(self)
        data.append(UInt8(ascii: "\n"))
        return data
    }
}

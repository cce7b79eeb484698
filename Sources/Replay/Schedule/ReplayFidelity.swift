import Foundation

/// How closely a replay with a speed kept to the recorded schedule, as pgreplay measures it: how late queries were
/// sent after their scheduled time, and the queries per second achieved against those the schedule asked for.
/// Late queries mean the target (or `--concurrency`) could not keep up: a session waiting for a free connection, or
/// a query waiting for the previous one, which ran longer than recorded.
public struct ReplayFidelity: Sendable, Equatable {
    /// Lateness of every executed query, milliseconds.
    public var lag: LatencyPercentiles?
    /// Executed queries per second of wall time.
    public var achievedQPS: Double
    /// Queries per second the schedule asked for (every job's queries over the scheduled span); nil when the span
    /// is unknown or zero.
    public var scheduledQPS: Double?

    public init(lag: LatencyPercentiles?, achievedQPS: Double, scheduledQPS: Double?) {
        self.lag = lag
        self.achievedQPS = achievedQPS
        self.scheduledQPS = scheduledQPS
    }

    /// nil without a speed (nothing was scheduled).
    public init?(plan: ReplayPlan, results: [ReplayRunner.FileResult], wallTime: Duration) {
        guard plan.speed != nil else { return nil }
        let seconds = Double(wallTime.components.seconds) + Double(wallTime.components.attoseconds) / 1e18
        let executed = results.reduce(0) { $0 + $1.summary.executed }
        let queries = results.reduce(0) { $0 + $1.summary.queries }
        let span = plan.scheduledSpan ?? 0
        self.init(
            lag: LatencyPercentiles(results.flatMap(\.lagMS)),
            achievedQPS: seconds > 0 ? Double(executed) / seconds : 0,
            scheduledQPS: span > 0 ? Double(queries) / span : nil)
    }
}

/// The counts of a replay, as the summary prints them.
public struct ReplaySummary: Sendable, Equatable {
    /// Queries in the file(s).
    public var queries = 0
    /// Queries sent to the target.
    public var executed = 0
    /// Executed queries that failed, whether or not the recording failed the same way.
    public var errors = 0
    /// Failures the recording did not have.
    public var unexpectedErrors = 0
    public var matched = 0
    public var mismatched = 0
    /// Executed without a recorded result to compare with.
    public var notCompared = 0
    public var skipped = 0
    /// Executed queries slower than the latency rule allows (`LatencyRule`).
    public var latencyRegressions = 0

    public init() {}

    public mutating func add(_ step: QueryStep) {
        if step.executed { self.executed += 1 }
        if step.failed { self.errors += 1 }
        if step.unexpectedError { self.unexpectedErrors += 1 }
        if step.latencyRegression != nil { self.latencyRegressions += 1 }
        switch step.status {
        case .matched: self.matched += 1
        case .mismatched: self.mismatched += 1
        case .executed: self.notCompared += 1
        case .skipped: self.skipped += 1
        }
    }

    public mutating func add(_ other: ReplaySummary) {
        self.queries += other.queries
        self.executed += other.executed
        self.errors += other.errors
        self.unexpectedErrors += other.unexpectedErrors
        self.matched += other.matched
        self.mismatched += other.mismatched
        self.notCompared += other.notCompared
        self.skipped += other.skipped
        self.latencyRegressions += other.latencyRegressions
    }

    /// Everything that ran matched: no mismatch and no unexpected error.
    public var succeeded: Bool { self.mismatched == 0 && self.unexpectedErrors == 0 }
}

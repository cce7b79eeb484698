/// How a replay runs: its safety mode, pacing and comparison rules.
public struct ReplayOptions: Sendable, Equatable {
    /// What a replay may do to the target.
    public enum Safety: String, Sendable, Equatable, Codable {
        /// Everything runs as recorded.
        case none
        /// The session is read-only (`default_transaction_read_only=on`); statements that would switch it back
        /// to read-write are not replayed.
        case readOnly = "read_only"
        /// Everything runs in one transaction that is rolled back at the end; recorded transaction control
        /// becomes savepoints.
        case rollback
    }

    public var safety: Safety
    /// nil: as fast as possible. Otherwise recorded gaps are kept, divided by this factor (`--realtime` is 1).
    public var speed: Double?
    public var comparison: ComparisonOptions
    /// Rows kept per replayed result set for display and comparison (at least one more than the recording
    /// kept, so an extra replayed row can be shown).
    public var keptRows: Int
    /// How many queries may be sent before the answer to the first of them is read (0: one at a time). Sending
    /// ahead hides the network round trip per query; the server still runs them one at a time, in order. It is
    /// used only where nothing the replay sends depends on an answer in between: not with `--rollback` or a
    /// speed, and a query that does depend on one waits (see `ReplayProtocolState.canGoAhead`). Each query's duration
    /// then runs from when the server could start it (the previous answer) to its answer.
    public var pipelineDepth: Int
    /// When a query counts as a latency regression (`--latency-threshold`, `--latency-floor`). Not judged when
    /// queries are sent ahead (`pipelines`): answers read in one batch share one arrival time, so a query's own
    /// duration is not measured like the recording's.
    public var latency: LatencyRule
    /// `--id-mode`: whether generated ids learned from answers are put back into later queries (`IDMap`).
    public enum IDMode: String, Sendable, Equatable, Codable, CaseIterable {
        /// Learn recorded → replayed ids, substitute them, compare modulo them (the default).
        case map
        /// Send every query exactly as recorded.
        case off
    }

    public var idMode: IDMode = .map
    /// False for a `--scale` copy: its results are not compared with the recording (copies of writes diverge);
    /// its queries count for latency, errors and throughput.
    public var compareResults = true

    public init(
        safety: Safety = .none, speed: Double? = nil, comparison: ComparisonOptions = ComparisonOptions(),
        keptRows: Int = 1000, pipelineDepth: Int = 0, latency: LatencyRule = LatencyRule(), idMode: IDMode = .map
    ) {
        self.idMode = idMode
        self.safety = safety
        self.speed = speed
        self.comparison = comparison
        self.keptRows = keptRows
        self.pipelineDepth = max(pipelineDepth, 0)
        self.latency = latency
    }

    /// Whether queries are sent ahead of the answers.
    public var pipelines: Bool { self.pipelineDepth > 0 && self.safety != .rollback && self.speed == nil }
}

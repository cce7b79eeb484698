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

    public init(
        safety: Safety = .none, speed: Double? = nil, comparison: ComparisonOptions = ComparisonOptions(),
        keptRows: Int = 1000
    ) {
        self.safety = safety
        self.speed = speed
        self.comparison = comparison
        self.keptRows = keptRows
    }
}

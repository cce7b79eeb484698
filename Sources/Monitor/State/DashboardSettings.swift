import Foundation

/// What the dashboard shows about the proxy itself, and its limits. Fixed for a run.
public struct DashboardSettings: Sendable, Equatable {
    /// Where the proxy listens, e.g. `127.0.0.1:5433`.
    public var listenAddress: String
    /// The upstream URLs with their passwords masked (one per distinct upstream of the pseudo users).
    public var maskedUpstreams: [String]
    /// The sessions directory, or nil when recording is off.
    public var sessionsDirectory: String?
    /// Queries kept in the dashboard's history; older ones leave (the session files keep everything).
    public var historyLimit: Int
    /// Bytes of result values kept in memory across the history; past it the oldest results keep only their
    /// summary (tag, row count) so memory stays flat under a flood of large results.
    public var resultMemoryLimit: Int
    /// How long a closed session stays on screen (dimmed) before it leaves.
    public var closedSessionLinger: TimeInterval
    /// Closed sessions kept at most, whatever their age (a flood of short connections).
    public var closedSessionLimit: Int
    /// How to connect through the proxy (`psql -h ... -p ... -U ... -d ...`), shown while no one is connected.
    public var connectHint: String?
    /// Warnings from the configuration (e.g. a pseudo user that accepts any password), shown at start.
    public var warnings: [String]

    public init(
        listenAddress: String, maskedUpstreams: [String], sessionsDirectory: String?, historyLimit: Int = 10_000,
        resultMemoryLimit: Int = 64 << 20, closedSessionLinger: TimeInterval = 10, closedSessionLimit: Int = 200,
        connectHint: String? = nil, warnings: [String] = []
    ) {
        self.listenAddress = listenAddress
        self.maskedUpstreams = maskedUpstreams
        self.sessionsDirectory = sessionsDirectory
        self.historyLimit = max(historyLimit, 1)
        self.resultMemoryLimit = max(resultMemoryLimit, 0)
        self.closedSessionLinger = closedSessionLinger
        self.closedSessionLimit = max(closedSessionLimit, 0)
        self.connectHint = connectHint
        self.warnings = warnings
    }

    public var isRecording: Bool { self.sessionsDirectory != nil }
}

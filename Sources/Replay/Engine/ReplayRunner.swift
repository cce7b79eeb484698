import Foundation
import NIOConcurrencyHelpers

/// Runs one or more replay sessions to the end, as `pgreel replay` does: all files at once, one connection each.
///
/// Without a speed, every file runs as fast as it can. With one (`--realtime` is 1), each event waits for its
/// recorded time, scaled: the origin is the earliest first event of all files, so files keep their recorded
/// start times relative to each other.
public struct ReplayRunner: Sendable {
    /// What happens, as it happens, for the caller to print.
    public enum Event: Sendable {
        /// File `file` (its index in `sessions`) is connected.
        case connected(file: Int)
        case step(file: Int, ReplayStep)
        /// The file's replay could not start or stopped early.
        case stopped(file: Int, ReplayError)
    }

    /// How one file's replay ended.
    public struct FileResult: Sendable {
        public var summary: ReplaySummary
        public var error: ReplayError?
        public var wallTime: Duration
        /// Per query, for the JSON and JUnit reports (only when `collectReport`).
        public var queries: [ReplayReport.Query]
    }

    public var sessions: [ReplaySession]
    public var speed: Double?
    /// Stop every file after the first mismatch or unexpected error.
    public var stopOnMismatch: Bool
    public var collectReport: Bool

    public init(sessions: [ReplaySession], speed: Double?, stopOnMismatch: Bool, collectReport: Bool) {
        self.sessions = sessions
        self.speed = speed
        self.stopOnMismatch = stopOnMismatch
        self.collectReport = collectReport
    }

    /// Replays every file and returns their results in the order of `sessions`.
    public func run(observe: @escaping @Sendable (Event) async -> Void) async -> [FileResult] {
        let origin = self.sessions.compactMap(\.script.firstTimestamp).min()
        let start = ContinuousClock.now
        let stop = NIOLockedValueBox(false)
        return await withTaskGroup(of: (Int, FileResult).self) { group in
            for (index, session) in self.sessions.enumerated() {
                group.addTask {
                    let result = await self.runFile(
                        session, index: index, origin: origin, start: start, stop: stop, observe: observe)
                    return (index, result)
                }
            }
            var results: [Int: FileResult] = [:]
            for await (index, result) in group {
                results[index] = result
            }
            return self.sessions.indices.map { results[$0]! }
        }
    }

    private func runFile(
        _ session: ReplaySession, index: Int, origin: Date?, start: ContinuousClock.Instant,
        stop: NIOLockedValueBox<Bool>, observe: @Sendable (Event) async -> Void
    ) async -> FileResult {
        let fileStart = ContinuousClock.now
        var queries: [ReplayReport.Query] = []
        var failure: ReplayError?
        do throws(ReplayError) {
            try await session.connect()
            await observe(.connected(file: index))
            while !stop.withLockedValue({ $0 }) {
                if let speed = self.speed, let origin, let item = await session.upcoming {
                    let offset = max(0, item.timestamp.timeIntervalSince(origin)) / speed
                    let deadline = start + .nanoseconds(Int64(offset * 1e9))
                    if deadline > ContinuousClock.now {
                        try? await Task.sleep(until: deadline, clock: .continuous)
                    }
                }
                guard let step = try await session.next() else { break }
                await observe(.step(file: index, step))
                if case .query(let query) = step {
                    if self.collectReport { queries.append(ReplayReport.Query(query)) }
                    if self.stopOnMismatch, query.status == .mismatched || query.unexpectedError {
                        stop.withLockedValue { $0 = true }
                    }
                }
            }
        } catch {
            failure = error
            await observe(.stopped(file: index, error))
        }
        await session.close()
        return FileResult(
            summary: await session.summary, error: failure, wallTime: ContinuousClock.now - fileStart,
            queries: queries)
    }
}

import Foundation
import NIOConcurrencyHelpers

/// Runs a `ReplayPlan` to the end, as `pgreel replay` does: each job (a session file, or a `--scale` copy of one)
/// on a connection of its own, at most `concurrency` at once, each started when it is due and a connection is free.
///
/// A job's file is read whole only when it starts, and let go when it ends, so a capture of thousands of sessions
/// replays in the memory of `concurrency` of them. With a speed, each event waits for its scheduled time
/// (`ReplayPlan.due`) and how late it was sent is kept (`FileResult.lagMS`): pgreplay's measure of fidelity.
public struct ReplayRunner: Sendable {
    /// What happens, as it happens, for the caller to print.
    public enum Event: Sendable {
        /// Job `job` (its index in `plan.jobs`) is loaded and connected (on B too with `--compare-with`).
        case started(job: Int, ReplaySession, b: ReplaySession?)
        /// A step, and with `--compare-with` the same step on B.
        case step(job: Int, ReplayStep, paired: PairedStep?)
        /// The job's replay could not start or stopped early.
        case stopped(job: Int, ReplayError)
        /// The job is over (whether it ran, stopped early or was never started).
        case finished(job: Int, FileResult)
    }

    /// How one job's replay ended.
    public struct FileResult: Sendable {
        public var path: String
        public var copy: Int
        /// The target, its password masked (nil when the file could not be loaded).
        public var target: String?
        /// Where the file was cut off, when it was.
        public var cut: String?
        public var summary: ReplaySummary
        public var error: ReplayError?
        /// Why the job never ran (`--stop-on-mismatch` stopped the replay first).
        public var notRun: String?
        public var wallTime: Duration
        /// Per query, for the JSON and JUnit reports (only when `collectReport`).
        public var queries: [ReplayReport.Query]
        /// The recorded and replayed durations of the queries that ran on both sides, and the regressions.
        public var latency: LatencySamples
        /// With a speed: per executed query, how many milliseconds after its scheduled time it was sent.
        public var lagMS: [Double]
        /// With `--compare-with`: the replay on B (its queries are attached to A's in `queries`, as `b`).
        public var b: Side?
        /// With `--compare-with`: results compared between A and B, and how many differ.
        public var pairs = PairCounts()
    }

    /// The replay of a job on target B.
    public struct Side: Sendable {
        public var target: String
        public var summary = ReplaySummary()
        public var latency = LatencySamples()
    }

    public var plan: ReplayPlan
    /// Jobs running at once, at most.
    public var concurrency: Int
    /// Stop every job after the first mismatch or unexpected error.
    public var stopOnMismatch: Bool
    public var collectReport: Bool
    /// Reads a job's file and resolves its target (`ReplaySession.load`); called when the job starts.
    public var load: @Sendable (ReplayPlan.Job) throws(ReplayError) -> ReplaySession
    /// `--compare-with`: A's session on target B (`ReplaySession.on`); each job then runs on A and B at the same
    /// time, step by step.
    public var loadB: (@Sendable (ReplaySession) throws(ReplayError) -> ReplaySession)?
    /// How B's results are compared with A's.
    public var comparison = ComparisonOptions()

    public init(
        plan: ReplayPlan, concurrency: Int, stopOnMismatch: Bool, collectReport: Bool,
        load: @escaping @Sendable (ReplayPlan.Job) throws(ReplayError) -> ReplaySession
    ) {
        self.plan = plan
        self.concurrency = max(concurrency, 1)
        self.stopOnMismatch = stopOnMismatch
        self.collectReport = collectReport
        self.load = load
    }

    /// Replays every job and returns their results in the order of `plan.jobs`.
    public func run(observe: @escaping @Sendable (Event) async -> Void) async -> [FileResult] {
        let start = ContinuousClock.now
        let stop = NIOLockedValueBox(false)
        return await withTaskGroup(of: (Int, FileResult).self) { group in
            var results = [FileResult?](repeating: nil, count: self.plan.jobs.count)
            var running = 0
            for (index, job) in self.plan.jobs.enumerated() {
                while running >= self.concurrency, let (done, result) = await group.next() {
                    results[done] = result
                    running -= 1
                }
                if stop.withLockedValue({ $0 }) {
                    let result = FileResult(
                        path: job.head.path, copy: job.copy, summary: ReplaySummary(),
                        notRun: "not run: the replay stopped at the first mismatch", wallTime: .zero)
                    results[index] = result
                    await observe(.finished(job: index, result))
                    continue
                }
                let due = start + Self.duration(seconds: job.due)
                if due > ContinuousClock.now {
                    try? await Task.sleep(until: due, clock: .continuous)
                }
                group.addTask {
                    let result = await self.runJob(job, index: index, start: start, stop: stop, observe: observe)
                    await observe(.finished(job: index, result))
                    return (index, result)
                }
                running += 1
            }
            for await (done, result) in group {
                results[done] = result
            }
            return results.map { $0! }
        }
    }

    private func runJob(
        _ job: ReplayPlan.Job, index: Int, start: ContinuousClock.Instant, stop: NIOLockedValueBox<Bool>,
        observe: @Sendable (Event) async -> Void
    ) async -> FileResult {
        let jobStart = ContinuousClock.now
        var result = FileResult(path: job.head.path, copy: job.copy, summary: ReplaySummary(), wallTime: .zero)
        var session: ReplaySession?
        var sessionB: ReplaySession?
        do throws(ReplayError) {
            let loaded = try self.load(job)
            session = loaded
            result.target = loaded.target.masked
            result.cut = loaded.cut?.description
            if let loadB = self.loadB {
                let b = try loadB(loaded)
                sessionB = b
                result.b = Side(target: b.target.masked)
            }
            try await Self.connect(loaded, sessionB)
            await observe(.started(job: index, loaded, b: sessionB))
            while !stop.withLockedValue({ $0 }) {
                var scheduled: ContinuousClock.Instant?
                if let item = await loaded.upcoming, let due = self.plan.due(item.timestamp, job: job) {
                    let deadline = start + Self.duration(seconds: due)
                    if deadline > ContinuousClock.now {
                        try? await Task.sleep(until: deadline, clock: .continuous)
                    }
                    scheduled = deadline
                }
                let sent = ContinuousClock.now
                let (next, nextB) = try await Self.next(loaded, sessionB)
                guard let step = next else { break }
                let paired = nextB.map { PairedStep.pair(a: step, b: $0, options: self.comparison) }
                await observe(.step(job: index, step, paired: paired))
                guard case .query(let query) = step else { continue }
                if let paired, let queryB = paired.query {
                    result.b?.latency.add(queryB, path: job.head.path)
                    result.pairs.add(paired)
                    if self.stopOnMismatch, paired.isProblem {
                        stop.withLockedValue { $0 = true }
                    }
                }
                if let scheduled, query.executed {
                    result.lagMS.append(QueryExecutor.milliseconds(sent - scheduled))
                }
                result.latency.add(query, path: job.head.path)
                if self.collectReport { result.queries.append(ReplayReport.Query(query, paired: paired)) }
                if self.stopOnMismatch, query.status == .mismatched || query.unexpectedError {
                    stop.withLockedValue { $0 = true }
                }
            }
        } catch {
            result.error = error
            await observe(.stopped(job: index, error))
        }
        if let session {
            await session.close()
            result.summary = await session.summary
        }
        if let sessionB {
            await sessionB.close()
            result.b?.summary = await sessionB.summary
        }
        result.wallTime = ContinuousClock.now - jobStart
        return result
    }

    /// Connects A (and B) at the same time.
    private static func connect(_ a: ReplaySession, _ b: ReplaySession?) async throws(ReplayError) {
        guard let b else {
            try await a.connect()
            return
        }
        async let left = Self.outcome { () async throws(ReplayError) in try await a.connect() }
        async let right = Self.outcome { () async throws(ReplayError) in try await b.connect() }
        let (connectedA, connectedB) = await (left, right)
        try connectedA.get()
        try connectedB.get()
    }

    /// The next step of A (and of B, at the same time: each on its own connection).
    private static func next(
        _ a: ReplaySession, _ b: ReplaySession?
    ) async throws(ReplayError) -> (ReplayStep?, ReplayStep?) {
        guard let b else { return (try await a.next(), nil) }
        async let left = Self.outcome { () async throws(ReplayError) in try await a.next() }
        async let right = Self.outcome { () async throws(ReplayError) in try await b.next() }
        let (stepA, stepB) = await (left, right)
        return (try stepA.get(), try stepB.get())
    }

    private static func outcome<T: Sendable>(
        _ body: () async throws(ReplayError) -> T
    ) async -> Result<T, ReplayError> {
        do throws(ReplayError) {
            return .success(try await body())
        } catch {
            return .failure(error)
        }
    }

    static func duration(seconds: Double) -> Duration {
        .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}

extension ReplayRunner.FileResult {
    init(path: String, copy: Int, summary: ReplaySummary, notRun: String? = nil, wallTime: Duration) {
        self.init(
            path: path, copy: copy, target: nil, cut: nil, summary: summary, error: nil, notRun: notRun,
            wallTime: wallTime, queries: [], latency: LatencySamples(), lagMS: [], b: nil)
    }
}

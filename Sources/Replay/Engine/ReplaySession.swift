import Foundation
import ProxyEngine

/// The replay of one session file, one step at a time: the engine behind `pgreel replay` and the dashboard's
/// step-through replay.
///
/// ```swift
/// let session = try ReplaySession.load(path: file, dbURL: nil, environment: env, options: options)
/// try await session.connect()
/// while let step = try await session.next() {
///     // .activity(item) or .query(QueryStep): the recording, the replay, the verdict
/// }
/// await session.close()
/// ```
///
/// `next()` executes the next event (activities are shown, not sent) and returns its step; `skip()` passes over it
/// without executing it; `restart()` starts again from the first event on a new connection. One step runs at a
/// time: calling `next()` while one runs throws `ReplayError.busy`. A thrown error means the connection is gone
/// (or `--rollback` could not be kept); the step that failed is not counted and can be tried again after
/// `restart()` or `connect()`.
public actor ReplaySession {
    static let leftOutNote = "not executed, as recorded: an earlier query of the same pipeline failed"
    static let copyNote = "a --scale copy: counted for latency and errors, its results not compared"

    public nonisolated let path: String
    public nonisolated let script: ReplayScript
    /// Where the file was cut off, when the recording was interrupted.
    public nonisolated let cut: SessionFileContents.CutOff?
    public nonisolated let target: ReplayTarget
    public nonisolated let options: ReplayOptions

    /// The index in `script.items` of the next step.
    public private(set) var position = 0
    /// The counts so far.
    public private(set) var summary = ReplaySummary()
    private var executor: QueryExecutor?
    private var busy = false
    /// The previous query failed or was left out as recorded: a recorded "not executed" query is left out too.
    private var pipelineFailed = false
    /// Items before this index were sent ahead (or looked at and passed over) by `sendAhead`.
    private var aheadEnd = 0
    /// An item that must wait for every answer before it: nothing after it is sent ahead until it has run.
    private var aheadBarrier: Int?
    /// `--id-mode map`: the ids learned so far in this session.
    private var ids = IDMap()
    /// The server ended the session in the answer to this query (a FATAL, then the connection closed), as it
    /// may have when recorded (pg_terminate_backend): nothing more can run.
    private var endedByServer: QueryStep?

    public init(
        path: String, contents: SessionFileContents, target: ReplayTarget, options: ReplayOptions
    ) {
        self.init(
            path: path, script: ReplayScript(events: contents.events), cut: contents.cut, target: target,
            options: options)
    }

    init(
        path: String, script: ReplayScript, cut: SessionFileContents.CutOff?, target: ReplayTarget,
        options: ReplayOptions
    ) {
        self.path = path
        self.script = script
        self.cut = cut
        self.target = target
        self.options = options
        self.summary = self.script.emptySummary
    }

    /// Reads a session file and resolves its target (`dbURL`, else DATABASE_URL, else the recorded connection).
    public static func load(
        path: String, dbURL: String?, environment: [String: String], options: ReplayOptions
    ) throws(ReplayError) -> ReplaySession {
        let contents: SessionFileContents
        do {
            contents = try SessionFileReader.read(path: path)
        } catch {
            throw .file(error)
        }
        let script = ReplayScript(events: contents.events)
        let target = try ReplayTarget.resolve(
            dbURL: dbURL, environment: environment, script: script, path: path, safety: options.safety)
        return ReplaySession(path: path, script: script, cut: contents.cut, target: target, options: options)
    }

    /// The same recording replayed against another target (`--compare-with`), from its first event.
    public nonisolated func on(_ target: ReplayTarget) -> ReplaySession {
        ReplaySession(path: self.path, script: self.script, cut: self.cut, target: target, options: self.options)
    }

    /// The next step's event, nil at the end.
    public var upcoming: ReplayScript.Item? {
        self.position < self.script.items.count ? self.script.items[self.position] : nil
    }

    public var isFinished: Bool { self.position >= self.script.items.count }

    /// Opens the connection (and, for `--rollback`, the replay's transaction). `next()` connects by itself when
    /// needed; calling this first lets a caller report the connection before the first step.
    public func connect() async throws(ReplayError) {
        guard self.executor == nil else { return }
        let connection: ReplayConnection
        do {
            connection = try await ReplayConnection.open(self.target.upstream)
        } catch {
            throw .unreachable(target: self.target.masked, reason: "\(error)")
        }
        let executor = QueryExecutor(connection: connection, target: self.target.masked, safety: self.options.safety)
        do {
            try await executor.start()
        } catch {
            await executor.finish()
            throw error
        }
        self.executor = executor
    }

    /// Executes the next step and returns it; nil when every event has been replayed.
    public func next() async throws(ReplayError) -> ReplayStep? {
        guard !self.busy else { throw .busy }
        guard let item = self.upcoming else { return nil }
        self.busy = true
        defer { self.busy = false }
        switch item {
        case .activity(let activity):
            self.position += 1
            return .activity(activity)
        case .query(let query):
            if let ended = self.endedByServer {
                let code = ended.replayed?.error?.code ?? ""
                throw .connectionLost(
                    target: self.target.masked,
                    reason: "the server ended the session at query #\(ended.query.queryNumber) (FATAL \(code)), "
                        + "but the recording goes on")
            }
            try await self.connect()
            let step: QueryStep
            do {
                if self.options.pipelines {
                    try await self.sendAhead()
                }
                step = try await self.replay(query, index: self.position)
            } catch {
                await self.executor?.finish()
                self.executor = nil
                throw error
            }
            self.position += 1
            self.summary.add(step)
            return .query(step)
        }
    }

    /// Cancels the query `next()` is running, on the target (a CancelRequest, as psql's Ctrl-C): the step then
    /// ends with the target's 57014 "canceling statement due to user request", compared like any answer. Callable
    /// while `next()` waits (the actor is reentrant there). False when nothing runs or the server gave no key.
    public func cancelRunningQuery() async -> Bool {
        guard self.busy, let executor = self.executor else { return false }
        return await executor.connection.cancelRunningQuery(
            host: self.target.upstream.host, port: self.target.upstream.port)
    }

    /// Passes over the next step without executing it; nil at the end.
    public func skip() async throws(ReplayError) -> ReplayStep? {
        guard !self.busy else { throw .busy }
        guard let item = self.upcoming else { return nil }
        self.position += 1
        switch item {
        case .activity(let activity):
            return .activity(activity)
        case .query(let query):
            self.pipelineFailed = false
            if self.aheadEnd > self.position - 1 {
                // It was sent already: read its answer and drop it, so the next answers stay in step.
                try await self.dropAnswer(index: self.position - 1)
            }
            let step = QueryStep(
                index: self.position - 1, eventNumber: query.eventNumber, timestamp: query.timestamp,
                query: query.query, recorded: query.recorded, replayed: nil, status: .skipped,
                skipReason: "skipped by the user")
            self.summary.add(step)
            return .query(step)
        }
    }

    /// Starts again from the first event on a new connection (rolling back the old one's transaction with
    /// `--rollback`; without it, whatever the first run changed on the target stays changed).
    public func restart() async throws(ReplayError) {
        guard !self.busy else { throw .busy }
        await self.executor?.finish()
        self.executor = nil
        self.position = 0
        self.pipelineFailed = false
        self.aheadEnd = 0
        self.aheadBarrier = nil
        self.endedByServer = nil
        self.ids = IDMap()
        self.summary = self.script.emptySummary
        try await self.connect()
    }

    /// Closes the connection; with `--rollback` its transaction is rolled back first.
    public func close() async {
        await self.executor?.finish()
        self.executor = nil
    }

    // MARK: - Pipelining

    /// Sends queries ahead of the next one (`ReplayOptions.pipelineDepth`), topping the pipeline up once half of
    /// it has been read, so each write carries many queries.
    private func sendAhead() async throws(ReplayError) {
        guard let executor = self.executor else { return }
        if let barrier = self.aheadBarrier {
            guard self.position > barrier else { return }
            self.aheadBarrier = nil
        }
        let depth = self.options.pipelineDepth
        let outstanding = await executor.sentAheadCount
        guard outstanding <= depth / 2 else { return }
        var index = max(self.aheadEnd, self.position)
        var batch: [(key: Int, query: RecordedQuery, recorded: RecordedResult?)] = []
        var teaches = false
        while index < self.script.items.count, outstanding + batch.count < depth {
            if case .query(let item) = self.script.items[index] {
                // Whether the server runs it depends on how the previous answer went.
                if item.recorded?.error?.isNotExecuted == true {
                    break
                }
                batch.append((index, self.sendable(item.query).query, item.recorded))
                // What comes after may use the ids its answer teaches: it goes last, and the rest waits for it.
                if self.options.idMode == .map, IDMap.teaches(item.query) {
                    index += 1
                    teaches = true
                    break
                }
            }
            index += 1
        }
        let sent = try await executor.sendAhead(batch)
        if sent < batch.count {
            self.aheadEnd = batch[sent].key
            self.aheadBarrier = batch[sent].key
        } else {
            self.aheadEnd = index
            if index < self.script.items.count, outstanding + batch.count < depth || teaches {
                self.aheadBarrier = index
            }
        }
    }

    /// A skipped query that was sent ahead: its answer is read and dropped.
    private func dropAnswer(index: Int) async throws(ReplayError) {
        guard let executor = self.executor, case .query(let item) = self.script.items[index] else { return }
        do {
            _ = try await executor.execute(item.query, recorded: item.recorded, keepRows: 0, key: index)
        } catch {
            await executor.finish()
            self.executor = nil
            throw error
        }
    }

    // MARK: - One query

    private func replay(_ item: ReplayScript.QueryItem, index: Int) async throws(ReplayError) -> QueryStep {
        var step = QueryStep(
            index: index, eventNumber: item.eventNumber, timestamp: item.timestamp, query: item.query,
            recorded: item.recorded, replayed: nil, status: .skipped)
        // A pipeline query the server did not run because the one before it failed: when the replay's previous
        // query failed too, the server would skip it again, so it is left out rather than run on its own.
        if item.recorded?.error?.isNotExecuted == true, self.pipelineFailed {
            step.status = .matched
            step.notes = [Self.leftOutNote]
            return step
        }
        guard let executor = self.executor else {
            throw .connectionLost(target: self.target.masked, reason: "not connected")
        }
        let keepRows = max(self.options.keptRows, Self.recordedRows(item.recorded) + 1)
        let (sent, substitutions) = self.sendable(item.query)
        step.substitutions = substitutions
        let execution = try await executor.execute(
            sent, recorded: item.recorded, keepRows: keepRows, key: index)
        step.notes = execution.notes
        guard let replayed = execution.result else {
            self.pipelineFailed = false
            step.skipReason = execution.skipped
            return step
        }
        self.pipelineFailed = replayed.error != nil
        step.replayed = replayed
        if execution.serverEnded {
            self.endedByServer = step
        }
        if let recorded = item.recorded, !self.options.pipelines {
            step.latencyRegression = self.options.latency.regression(
                recordedMS: recorded.durationMS, replayedMS: replayed.durationMS)
        }
        guard let recorded = item.recorded else {
            step.status = .executed
            step.notes.append("no recorded result to compare with: the file ends before it")
            return step
        }
        guard self.options.compareResults else {
            step.status = .executed
            step.notes.append(Self.copyNote)
            return step
        }
        if self.options.idMode == .map {
            step.learnedIDs = self.ids.learn(from: item.query, recorded: recorded, replayed: replayed)
        }
        let outcome = ResultComparison.compare(
            recorded: self.options.idMode == .map ? self.ids.mapped(recorded) : recorded, replayed: replayed,
            options: self.options.comparison)
        step.status = outcome.matches ? .matched : .mismatched
        step.difference = outcome.difference
        step.differingRows = outcome.differingRows
        step.notes += outcome.notes
        return step
    }

    /// The query as it is sent: with `--id-mode map`, the ids learned so far put in (`IDMap.substitute`).
    private func sendable(_ query: RecordedQuery) -> (query: RecordedQuery, substitutions: [IDMap.Substitution]) {
        guard self.options.idMode == .map else { return (query, []) }
        return self.ids.substitute(query)
    }

    /// The most rows the recording kept in any result set of this result.
    private static func recordedRows(_ result: RecordedResult?) -> Int {
        guard let result else { return 0 }
        return (result.resultSets ?? [result.result]).map(\.rows.count).max() ?? 0
    }
}

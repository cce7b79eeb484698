import Foundation
import ProxyEngine

/// What the proxy did, as far as the dashboard remembers it: sessions, the recent queries and the totals.
///
/// A value changed only by `apply(_:settings:)`; the dashboard keeps a second, frozen copy of it while paused.
public struct DashboardModel: Sendable, Equatable {
    /// Sessions by ID; `sessionOrder` lists them by arrival (their `#n`).
    public private(set) var sessions: [String: SessionRow] = [:]
    public private(set) var sessionOrder: [String] = []
    public private(set) var history: QueryHistory
    /// Queries without a result yet: session ID → query number → seq.
    private var pending: [String: [Int: Int]] = [:]
    private var nextSessionNumber = 1

    /// Every query seen since the start, failed ones, and rows returned (not only those still in the history).
    public private(set) var totalQueries = 0
    public private(set) var totalErrors = 0
    public private(set) var totalRows = 0
    /// Queries started per wall-clock second, for the last few seconds (queries per second).
    private var rate: [RateBucket] = []
    /// Bytes of result values the history holds, and where to look for the oldest ones to let go.
    public private(set) var retainedResultBytes = 0
    private var releaseCursor = 1

    private struct RateBucket: Sendable, Equatable {
        var second: Int64
        var count: Int
    }

    /// Seconds over which `queriesPerSecond` averages.
    static let rateWindow: Int64 = 3

    public init(historyLimit: Int) {
        self.history = QueryHistory(capacity: historyLimit)
    }

    public var orderedSessions: [SessionRow] {
        self.sessionOrder.compactMap { self.sessions[$0] }
    }

    /// Sessions seen since the start (closed ones included).
    public var sessionsSeen: Int { self.nextSessionNumber - 1 }

    public var openSessionCount: Int {
        self.sessions.values.reduce(0) { $0 + ($1.state.isOpen ? 1 : 0) }
    }

    /// Queries per second over the last complete seconds before `now`.
    public func queriesPerSecond(now: Date) -> Double {
        let current = Int64(now.timeIntervalSince1970.rounded(.down))
        let window = (current - Self.rateWindow)..<current
        let count = self.rate.reduce(0) { window.contains($1.second) ? $0 + $1.count : $0 }
        return Double(count) / Double(Self.rateWindow)
    }

    // MARK: - Events

    /// Folds one proxy event in. `filter` decides whether a new query is visible.
    mutating func apply(_ event: ProxyEvent, settings: DashboardSettings, filter: QueryFilter) {
        switch event.kind {
        case .connectionOpened(let clientAddress):
            self.ensureSession(event.sessionID, at: event.time, clientAddress: clientAddress)
        case .authenticating(let pseudoUser, let database):
            self.updateSession(event.sessionID, at: event.time) { row in
                row.pseudoUser = pseudoUser
                row.database = database
            }
        case .connected(let info):
            self.updateSession(event.sessionID, at: event.time) { row in
                row.authenticated = true
                row.pseudoUser = info.pseudoUser
                row.realUser = info.realUser
                row.database = info.database
                row.clientAddress = info.clientAddress
                row.backendProcessID = info.backendProcessID
            }
        case .refused(let pseudoUser, let error):
            self.updateSession(event.sessionID, at: event.time) { row in
                if let pseudoUser { row.pseudoUser = pseudoUser }
                row.refusedCode = error.code
                row.closeReason = error.message
                row.closedAt = row.closedAt ?? event.time
            }
        case .recordingStarted(let path):
            self.updateSession(event.sessionID, at: event.time) { $0.recordingPath = path }
        case .recorded(let recorded):
            switch recorded.payload {
            case .query(let query):
                self.queryStarted(query, sessionID: event.sessionID, at: recorded.timestamp, filter: filter)
            case .result(let result):
                self.resultArrived(result, sessionID: event.sessionID, settings: settings)
            case .activity(let activity):
                if activity.activity == SessionActivity.sessionStart {
                    self.updateSession(event.sessionID, at: event.time) { row in
                        if let name = activity.details.applicationName, !name.isEmpty { row.applicationName = name }
                    }
                }
            }
        case .transactionState(let state):
            self.updateSession(event.sessionID, at: event.time) { $0.transaction = state }
        case .cancelRequested:
            self.updateSession(event.sessionID, at: event.time) { $0.isCancelRequest = true }
        case .connectionClosed(let reason):
            guard self.sessions[event.sessionID] != nil else { return }
            self.finishPending(sessionID: event.sessionID, below: Int.max)
            guard var row = self.sessions[event.sessionID] else { return }
            row.closedAt = row.closedAt ?? event.time
            row.closeReason = row.closeReason ?? reason
            self.sessions[event.sessionID] = row
            if row.isCancelRequest {
                self.removeSession(event.sessionID)
            }
        case .notice, .notification, .recordingFailed:
            break
        }
    }

    /// Lets closed sessions go once they have been shown long enough (or when too many pile up).
    mutating func prune(now: Date, settings: DashboardSettings) {
        let expired = self.sessions.values.filter { row in
            guard let closedAt = row.closedAt else { return false }
            return now.timeIntervalSince(closedAt) >= settings.closedSessionLinger
        }
        for row in expired {
            self.removeSession(row.id)
        }
        let closed = self.sessionOrder.filter { self.sessions[$0]?.state.isOpen == false }
        if closed.count > settings.closedSessionLimit {
            for id in closed.prefix(closed.count - settings.closedSessionLimit) {
                self.removeSession(id)
            }
        }
        let current = Int64(now.timeIntervalSince1970.rounded(.down))
        self.rate.removeAll { $0.second < current - Self.rateWindow }
    }

    /// Recomputes which queries the filter lets through.
    mutating func refilter(_ filter: QueryFilter) {
        self.history.updateAll { entry in
            entry.isVisible = filter.matches(entry)
        }
    }

    // MARK: - Sessions

    @discardableResult
    private mutating func ensureSession(_ id: String, at time: Date, clientAddress: String = "?") -> Bool {
        guard self.sessions[id] == nil else { return false }
        self.sessions[id] = SessionRow(
            id: id, number: self.nextSessionNumber, clientAddress: clientAddress, openedAt: time)
        self.nextSessionNumber += 1
        self.sessionOrder.append(id)
        return true
    }

    /// Changes a session, creating its row first if its opening event never arrived (dropped events).
    private mutating func updateSession(_ id: String, at time: Date, _ body: (inout SessionRow) -> Void) {
        self.ensureSession(id, at: time)
        body(&self.sessions[id]!)
    }

    private mutating func removeSession(_ id: String) {
        guard self.sessions.removeValue(forKey: id) != nil else { return }
        self.sessionOrder.removeAll { $0 == id }
        self.pending[id] = nil
    }

    // MARK: - Queries

    // Under a flood these two run for every query, on the terminal thread: each looks the session up once (by
    // index) and its pending queries once, instead of hashing the session ID for every field it touches.

    private mutating func queryStarted(_ query: RecordedQuery, sessionID: String, at time: Date, filter: QueryFilter) {
        let index = self.sessionIndex(sessionID, at: time)
        self.totalQueries += 1
        let second = Int64(time.timeIntervalSince1970.rounded(.down))
        if let last = self.rate.indices.last, self.rate[last].second == second {
            self.rate[last].count += 1
        } else {
            self.rate.append(RateBucket(second: second, count: 1))
            if self.rate.count > Int(Self.rateWindow) + 2 { self.rate.removeFirst() }
        }

        // One copy of the row for the three fields (each `values[index].field` copies the whole row).
        let row = self.sessions.values[index]
        var entry = QueryEntry(
            seq: 0, sessionID: sessionID, sessionNumber: row.number, pseudoUser: row.pseudoUser ?? "?",
            realUser: row.realUser ?? "?", query: query, startedAt: time, outcome: .running, resultBytes: 0,
            rowsReleased: false, isVisible: true)
        entry.isVisible = filter.matches(entry)
        let seq = self.history.nextSeq
        if let evicted = self.history.append(entry) {
            self.forget(evicted)
        }
        let running = Self.insert(seq, for: query.queryNumber, into: &self.pending[sessionID, default: [:]])
        // `forget` may have changed the dictionary, but never removes a session: the index still holds.
        let current = self.sessions.index(forKey: sessionID) ?? index
        self.sessions.values[current].queryCount = max(row.queryCount, query.queryNumber)
        self.sessions.values[current].running = running
    }

    private mutating func resultArrived(_ result: RecordedResult, sessionID: String, settings: DashboardSettings) {
        if result.error != nil { self.totalErrors += 1 }
        self.totalRows += result.result.rowCount
        // Results come back in the order the queries went out: anything older still pending lost its result.
        let (seq, unknown, running) = Self.take(result.queryNumber, from: &self.pending[sessionID, default: [:]])
        self.markUnknown(unknown, sessionID: sessionID, running: running)
        guard let seq else { return }
        let bytes = Self.approximateBytes(of: result)
        self.history.update(seq) { entry in
            entry.outcome = .finished(result)
            entry.resultBytes = bytes
        }
        guard self.history.contains(seq) else { return }
        self.retainedResultBytes += bytes
        self.releaseResults(toFit: settings.resultMemoryLimit, sparing: seq)
    }

    /// The session's position in `sessions`, creating its row first if its opening event never arrived.
    private mutating func sessionIndex(_ id: String, at time: Date) -> Dictionary<String, SessionRow>.Index {
        if let index = self.sessions.index(forKey: id) { return index }
        self.ensureSession(id, at: time)
        return self.sessions.index(forKey: id)!
    }

    /// Adds a pending query; returns how many the session now waits for.
    private static func insert(_ seq: Int, for number: Int, into pending: inout [Int: Int]) -> Int {
        pending[number] = seq
        return pending.count
    }

    /// Takes query `number` out of the pending ones, and with it those numbered below it; returns its seq (if it
    /// was pending), the seqs of the older ones, and how many are still waiting.
    private static func take(_ number: Int, from pending: inout [Int: Int]) -> (Int?, [Int], Int) {
        let seq = pending.removeValue(forKey: number)
        let older = Self.takeOlder(than: number, from: &pending)
        return (seq, older, pending.count)
    }

    /// Takes the queries numbered below `limit` out of the pending ones; returns their seqs.
    private static func takeOlder(than limit: Int, from pending: inout [Int: Int]) -> [Int] {
        guard !pending.isEmpty else { return [] }
        let older = pending.filter { $0.key < limit }
        for number in older.keys { pending[number] = nil }
        return Array(older.values)
    }

    /// Marks the session's queries numbered below `limit` that still wait for a result as unknown.
    private mutating func finishPending(sessionID: String, below limit: Int) {
        guard self.pending[sessionID] != nil else { return }
        let unknown = Self.takeOlder(than: limit, from: &self.pending[sessionID]!)
        self.markUnknown(unknown, sessionID: sessionID, running: self.pending[sessionID]?.count ?? 0)
    }

    /// History entries whose result will never come, and the session's count of queries still waiting.
    private mutating func markUnknown(_ seqs: [Int], sessionID: String, running: Int) {
        for seq in seqs {
            self.history.update(seq) { $0.outcome = .unknown }
        }
        if let index = self.sessions.index(forKey: sessionID) {
            self.sessions.values[index].running = running
        }
    }

    /// An entry left the history: its result memory goes with it, and it no longer waits for a result.
    private mutating func forget(_ entry: QueryEntry) {
        if !entry.rowsReleased { self.retainedResultBytes -= entry.resultBytes }
        if self.pending[entry.sessionID]?[entry.query.queryNumber] == entry.seq {
            self.pending[entry.sessionID]?[entry.query.queryNumber] = nil
            self.sessions[entry.sessionID]?.running = self.pending[entry.sessionID]?.count ?? 0
        }
        self.releaseCursor = max(self.releaseCursor, self.history.firstSeq)
    }

    /// Lets go of the rows of the oldest results until the kept values fit in `limit` bytes.
    private mutating func releaseResults(toFit limit: Int, sparing newest: Int) {
        self.releaseCursor = max(self.releaseCursor, self.history.firstSeq)
        while self.retainedResultBytes > limit, self.releaseCursor < newest {
            let seq = self.releaseCursor
            self.releaseCursor += 1
            var freed = 0
            self.history.update(seq) { entry in
                guard !entry.rowsReleased, entry.resultBytes > 0, case .finished(var result) = entry.outcome else {
                    return
                }
                result.result.rows = []
                if let sets = result.resultSets {
                    result.resultSets = sets.map { set in
                        var set = set
                        set.rows = []
                        return set
                    }
                }
                result.copyData = nil
                entry.outcome = .finished(result)
                entry.rowsReleased = true
                freed = entry.resultBytes
            }
            self.retainedResultBytes -= freed
        }
    }

    /// Roughly what a result's values cost in memory: their UTF-8 bytes plus a String's own size per value.
    static func approximateBytes(of result: RecordedResult) -> Int {
        func bytes(of set: RecordedResultSet) -> Int {
            set.rows.reduce(0) { total, row in
                row.reduce(total) { $0 + 16 + ($1?.utf8.count ?? 0) }
            }
        }
        var total = bytes(of: result.result)
        for set in result.resultSets ?? [] { total += bytes(of: set) }
        for chunk in result.copyData ?? [] { total += chunk.utf8.count }
        return total
    }
}

import ProxyEngine

/// How many connections a replay may open on a target when `--concurrency` is not given: what the target has free.
///
/// A capture of thousands of sessions replayed all at once is refused by the server ("sorry, too many clients
/// already") for all but the first `max_connections`; so the replay asks the target first and keeps under what it
/// can take: max_connections − the reserved slots − the client connections in use (the probe's own counted),
/// less two for the operator's psql and monitoring, between 1 and `ceiling`. Other sessions wait for a free
/// connection (with a speed, their lag behind the schedule says so).
public struct ConnectionBudget: Sendable, Equatable {
    public var maxConnections: Int
    /// superuser_reserved_connections + reserved_connections (PostgreSQL 16+).
    public var reserved: Int
    /// Client backends connected when asked.
    public var inUse: Int

    public init(maxConnections: Int, reserved: Int, inUse: Int) {
        self.maxConnections = maxConnections
        self.reserved = reserved
        self.inUse = inUse
    }

    /// Past this many sessions at once a replay measures the target's contention more than its queries; a larger
    /// `--concurrency` can still be given.
    public static let ceiling = 100

    /// Slots free for ordinary roles when asked.
    public var free: Int { max(0, self.maxConnections - self.reserved - self.inUse) }

    public var defaultConcurrency: Int { min(max(self.free - 2, 1), Self.ceiling) }

    static let query = """
        SELECT current_setting('max_connections')::int,
               current_setting('superuser_reserved_connections')::int
                 + coalesce(current_setting('reserved_connections', true)::int, 0),
               (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int
        """

    /// Connects to `target` (which also proves it reachable), reads the budget and disconnects.
    public static func probe(_ target: ReplayTarget) async throws(ReplayError) -> ConnectionBudget {
        let connection: ReplayConnection
        do {
            connection = try await ReplayConnection.open(target.upstream)
        } catch {
            throw .unreachable(target: target.masked, reason: "\(error)")
        }
        let executor = QueryExecutor(connection: connection, target: target.masked, safety: .none)
        let answer: RecordedResult
        do {
            answer = try await executor.query(Self.query, keepRows: 1)
        } catch {
            await executor.finish()
            throw error
        }
        await executor.finish()
        guard answer.error == nil, let row = answer.result.rows.first, row.count == 3,
            let maxConnections = row[0].flatMap({ Int($0) }), let reserved = row[1].flatMap({ Int($0) }),
            let inUse = row[2].flatMap({ Int($0) })
        else {
            // A server that hides these (a pooler in front, a restricted role): 10 at once, which any server takes.
            return ConnectionBudget(maxConnections: 12, reserved: 0, inUse: 0)
        }
        return ConnectionBudget(maxConnections: maxConnections, reserved: reserved, inUse: inUse)
    }
}

import NIOConcurrencyHelpers

/// Counts client sessions against `--max-connections` and each pseudo user's `max_connections`, shared by all
/// event loops. A slot is taken when a client's StartupMessage arrives (server-wide, as PostgreSQL counts backends
/// before authentication) or when it has authenticated (per user, as PostgreSQL's role connection limit), and given
/// back when the connection closes. Cancel requests never take a slot.
public final class ConnectionLimiter: Sendable {
    private struct Counts {
        var total = 0
        var perUser: [String: Int] = [:]
    }

    /// nil: no server-wide limit.
    public let maxConnections: Int?
    private let counts = NIOLockedValueBox(Counts())

    public init(maxConnections: Int?) {
        self.maxConnections = maxConnections
    }

    /// Takes a server-wide slot, or returns false when all are taken.
    public func acquire() -> Bool {
        self.counts.withLockedValue { counts in
            if let limit = self.maxConnections, counts.total >= limit {
                return false
            }
            counts.total += 1
            return true
        }
    }

    public func release() {
        self.counts.withLockedValue { $0.total -= 1 }
    }

    /// Takes one of `user`'s slots, or returns false when `limit` sessions of that user are open.
    public func acquire(user: String, limit: Int?) -> Bool {
        self.counts.withLockedValue { counts in
            let open = counts.perUser[user, default: 0]
            if let limit, open >= limit {
                return false
            }
            counts.perUser[user] = open + 1
            return true
        }
    }

    public func release(user: String) {
        self.counts.withLockedValue { counts in
            let open = counts.perUser[user, default: 0] - 1
            counts.perUser[user] = open > 0 ? open : nil
        }
    }

    /// Sessions holding a server-wide slot (tests, the shutdown path).
    public var open: Int { self.counts.withLockedValue { $0.total } }

    /// Sessions of one pseudo user.
    public func open(user: String) -> Int { self.counts.withLockedValue { $0.perUser[user, default: 0] } }
}

import NIOConcurrencyHelpers
import NIOCore

/// Maps the keys clients hold to the upstream backends they cancel.
///
/// A client sees the real backend process ID (tools compare it with `pg_backend_pid()`) but the proxy's own random
/// secret key; the upstream's real key never leaves the proxy. A CancelRequest is honoured only when both match.
/// The two keys are independent: a protocol 3.2 client holds 32 bytes even in front of a PostgreSQL 15 (whose key
/// is 4), and a 3.0 client holds 4 in front of a PostgreSQL 18 that gave pgreel 32.
public final class CancelKeyRegistry: Sendable {
    public struct Entry: Sendable {
        public var proxyKey: [UInt8]
        public var upstreamKey: BackendKeyData
        public var upstreamHost: String
        public var upstreamPort: Int
    }

    private let entries = NIOLockedValueBox([Int32: [Entry]]())

    public init() {}

    /// Registers a session's upstream key and returns the key to hand the client: `clientKeyLength` random bytes
    /// (`ProtocolVersion.issuedCancelKeyLength` of the version the client speaks).
    public func register(upstreamKey: BackendKeyData, clientKeyLength: Int, host: String, port: Int) -> BackendKeyData {
        var generator = SystemRandomNumberGenerator()
        var proxyKey = (0..<clientKeyLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        // Never the upstream's own key, so a client can never learn it even by chance (4-byte keys can collide).
        if proxyKey == upstreamKey.secretKey, let last = proxyKey.indices.last { proxyKey[last] &+= 1 }
        let entry = Entry(proxyKey: proxyKey, upstreamKey: upstreamKey, upstreamHost: host, upstreamPort: port)
        self.entries.withLockedValue { $0[upstreamKey.processID, default: []].append(entry) }
        return BackendKeyData(processID: upstreamKey.processID, secretKey: proxyKey)
    }

    public func unregister(processID: Int32, proxyKey: [UInt8]) {
        self.entries.withLockedValue { entries in
            entries[processID]?.removeAll { $0.proxyKey == proxyKey }
            if entries[processID]?.isEmpty == true { entries[processID] = nil }
        }
    }

    /// The upstream to cancel for a client's (pid, key), or nil when they do not match a live session. The key is
    /// compared in constant time, so response times say nothing about how much of a guess was right.
    public func lookup(processID: Int32, proxyKey: [UInt8]) -> Entry? {
        self.entries.withLockedValue { entries in
            entries[processID]?.first { constantTimeEquals($0.proxyKey, proxyKey) }
        }
    }

    public var count: Int { self.entries.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }
}

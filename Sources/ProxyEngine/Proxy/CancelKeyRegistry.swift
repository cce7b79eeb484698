import NIOConcurrencyHelpers
import NIOCore

/// Maps the keys clients hold to the upstream backends they cancel.
///
/// A client sees the real backend process ID (tools compare it with `pg_backend_pid()`) but the proxy's own random
/// secret key; the upstream's real key never leaves the proxy. A CancelRequest is honoured only when both match.
public final class CancelKeyRegistry: Sendable {
    public struct Entry: Sendable {
        public var proxyKey: Int32
        public var upstreamKey: BackendKeyData
        public var upstreamHost: String
        public var upstreamPort: Int
    }

    private let entries = NIOLockedValueBox([Int32: [Entry]]())

    public init() {}

    /// Registers a session's upstream key and returns the key to hand the client.
    public func register(upstreamKey: BackendKeyData, host: String, port: Int) -> BackendKeyData {
        var proxyKey = Int32.random(in: .min ... .max)
        if proxyKey == upstreamKey.secretKey { proxyKey &+= 1 }
        let entry = Entry(proxyKey: proxyKey, upstreamKey: upstreamKey, upstreamHost: host, upstreamPort: port)
        self.entries.withLockedValue { $0[upstreamKey.processID, default: []].append(entry) }
        return BackendKeyData(processID: upstreamKey.processID, secretKey: proxyKey)
    }

    public func unregister(processID: Int32, proxyKey: Int32) {
        self.entries.withLockedValue { entries in
            entries[processID]?.removeAll { $0.proxyKey == proxyKey }
            if entries[processID]?.isEmpty == true { entries[processID] = nil }
        }
    }

    /// The upstream to cancel for a client's (pid, key), or nil when they do not match a live session.
    public func lookup(processID: Int32, proxyKey: Int32) -> Entry? {
        self.entries.withLockedValue { entries in
            entries[processID]?.first { $0.proxyKey == proxyKey }
        }
    }

    public var count: Int { self.entries.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }
}

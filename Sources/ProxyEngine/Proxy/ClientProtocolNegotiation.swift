/// How pgreel answers the protocol version and `_pq_.` options of a client's StartupMessage, as PostgreSQL 18's
/// ProcessStartupPacket does: the session runs the client's version capped at the newest pgreel speaks (3.2), and
/// NegotiateProtocolVersion is sent only when the client asked for a newer minor or for `_pq_.` options, which
/// pgreel knows none of (all of them are listed, in the client's order). A 3.2 client gets no such message.
///
/// This is independent of the upstream: pgreel issues its own cancel keys, so it serves 3.2 even in front of a
/// PostgreSQL that speaks only 3.0.
struct ClientProtocolNegotiation: Equatable {
    /// The version the client's session runs.
    var served: ProtocolVersion
    /// What to send before the first authentication request, if anything.
    var message: NegotiateProtocolVersion?

    init(requested: ProtocolVersion, parameters: [(String, String)]) {
        self.served = min(requested, .latest)
        let unsupported = parameters.map(\.0).filter { $0.hasPrefix("_pq_.") }
        if requested.minor > ProtocolVersion.latest.minor || !unsupported.isEmpty {
            self.message = NegotiateProtocolVersion(version: self.served, unsupportedOptions: unsupported)
        }
    }
}

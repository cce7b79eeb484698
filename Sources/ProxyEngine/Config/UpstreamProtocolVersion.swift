extension ProtocolVersion {
    /// libpq 18's `max_protocol_version` of an upstream URL (else `PGMAXPROTOCOLVERSION`): `3.0`, `3.2` or `latest`
    /// (the default, 3.2), the newest version pgreel asks that upstream for. PostgreSQL negotiates 3.2 down by
    /// itself; this is for a pooler in between that refuses 3.2 outright instead. Clients are served 3.2 anyway.
    public static func upstreamMaximum(url: UpstreamURL, environment: [String: String]) throws(ConfigError)
        -> ProtocolVersion
    {
        guard
            let text = url.parameters["max_protocol_version"]
                ?? environment["PGMAXPROTOCOLVERSION"].flatMap({ $0.isEmpty ? nil : $0 })
        else { return .latest }
        switch text {
        case "3.0": return .v3_0
        case "3.2", "latest": return .v3_2
        default:
            throw .invalidUpstreamURL(
                url: url.masked, reason: "max_protocol_version \"\(text)\" is not one of 3.0, 3.2, latest")
        }
    }
}

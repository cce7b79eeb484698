import NIOCore

/// What a client reads once pgreel has authenticated it and holds its upstream session, in one write: what
/// PostgreSQL itself would send after authentication, with the proxy's cancel key instead of the server's.
struct SessionGreeting {
    /// NegotiateProtocolVersion (`ClientProtocolNegotiation`), when a trust user's session needs one; with a
    /// password it went before the authentication request.
    var negotiate: NegotiateProtocolVersion?
    /// The SASLFinal payload of a SCRAM exchange, which must come before AuthenticationOk.
    var serverFinal: [UInt8]?
    /// The upstream's notices, parameters and transaction state, relayed as they came.
    var handshake: UpstreamHandshake
    /// The real process ID with the proxy's own secret, as long as the client's protocol version wants (4 bytes
    /// under 3.0, 32 under 3.2, whatever the upstream's was); sent only when the upstream sent a key.
    var clientKey: BackendKeyData

    func encode(into buffer: inout ByteBuffer) {
        self.negotiate?.encode(into: &buffer)
        if let serverFinal = self.serverFinal {
            AuthenticationRequest.saslFinal(data: serverFinal).encode(into: &buffer)
        }
        AuthenticationRequest.ok.encode(into: &buffer)
        for notice in self.handshake.notices {
            notice.encode(into: &buffer, id: BackendMessageID.noticeResponse)
        }
        for parameter in self.handshake.parameters {
            parameter.encode(into: &buffer)
        }
        if self.handshake.backendKey != nil {
            self.clientKey.encode(into: &buffer)
        }
        ReadyForQuery.encode(self.handshake.transactionState, into: &buffer)
    }
}

/// Channel binding data for SCRAM-SHA-256-PLUS: name "tls-server-end-point" and the hash of the server's
/// certificate (`TLSServerEndPoint`). The client binds what it saw; the server checks it against its own.
public struct SCRAMChannelBinding: Sendable, Equatable {
    /// The channel binding type, sent as `p=NAME` in the gs2 header.
    public var name: String
    /// The binding data, sent (after the gs2 header, base64) in the client-final-message's `c=` attribute.
    public var data: [UInt8]

    public init(name: String, data: [UInt8]) {
        self.name = name
        self.data = data
    }
}

/// Channel binding data for a SCRAM-SHA-256-PLUS client, e.g. name "tls-server-end-point" and the hash of the
/// server's certificate. Kept as a hook: the server side does not offer channel binding yet.
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

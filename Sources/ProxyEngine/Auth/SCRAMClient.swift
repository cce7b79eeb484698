/// The client side of a SCRAM-SHA-256 exchange (RFC 5802, RFC 7677), as pgreel uses it towards a real PostgreSQL:
/// a pure state machine that produces the client's SASL messages and checks the server's, never doing I/O.
///
/// After an error the exchange is over: every further call throws `unexpectedMessage`.
public struct SCRAMClient {
    private enum State {
        case initial
        case waitingForServerFirst
        case waitingForServerFinal(expectedServerSignature: [UInt8])
        case finished
        case failed
    }

    private let password: [UInt8]
    private let clientNonce: String
    private let gs2Header: [UInt8]
    private let channelBindingData: [UInt8]
    private let clientFirstBare: [UInt8]
    private var state: State = .initial

    /// - Parameters:
    ///   - username: sent in the client-first-message. PostgreSQL ignores it (the user is the startup message's)
    ///     and libpq sends an empty one; pass "" to do the same.
    ///   - password: normalised as described on `SASLprep`.
    ///   - nonce: injectable for tests, otherwise 18 random bytes in base64. Printable ASCII without ",".
    ///   - channelBinding: for SCRAM-SHA-256-PLUS: the client then sends `p=NAME,,` and binds the data in `c=`.
    ///   - couldBind: without `channelBinding`: the client could bind (it speaks TLS) but the server did not offer
    ///     SCRAM-SHA-256-PLUS, so it says `y,,`; a server that did offer it then knows the offer was tampered with.
    public init(
        username: String, password: String, nonce: String? = nil, channelBinding: SCRAMChannelBinding? = nil,
        couldBind: Bool = false
    ) {
        let clientNonce = nonce ?? SCRAMCrypto.randomNonce()
        precondition(SCRAMMessages.isValidNonce(clientNonce.utf8), "a SCRAM nonce is printable ASCII without \",\"")
        self.password = SASLprep.normalize(password)
        self.clientNonce = clientNonce
        if let channelBinding {
            self.gs2Header = Array("p=\(channelBinding.name),,".utf8)
            self.channelBindingData = channelBinding.data
        } else {
            self.gs2Header = Array((couldBind ? "y,," : "n,,").utf8)
            self.channelBindingData = []
        }
        self.clientFirstBare = SCRAMMessages.clientFirstBare(username: username, nonce: clientNonce)
    }

    /// Whether the server has proven it knows the password; only then is the exchange complete.
    public var isAuthenticated: Bool {
        if case .finished = self.state {
            return true
        }
        return false
    }

    /// The client-first-message, the data of SASLInitialResponse. Asking again returns the same message.
    public mutating func clientFirstMessage() -> [UInt8] {
        if case .initial = self.state {
            self.state = .waitingForServerFirst
        }
        return self.gs2Header + self.clientFirstBare
    }

    /// Takes the server-first-message (AuthenticationSASLContinue) and returns the client-final-message.
    public mutating func receiveServerFirst(_ message: [UInt8]) throws(SCRAMError) -> [UInt8] {
        guard case .waitingForServerFirst = self.state else {
            self.state = .failed
            throw .unexpectedMessage(.serverFirst)
        }
        self.state = .failed
        let serverFirst = try SCRAMMessages.parseServerFirst(message)
        // The server must extend our nonce with its own fresh part, or the exchange could be a replay.
        guard serverFirst.nonce.count > self.clientNonce.count, serverFirst.nonce.hasPrefix(self.clientNonce) else {
            throw .nonceMismatch(.serverFirst)
        }
        let keys = try SCRAMCrypto.keys(
            password: self.password,
            salt: serverFirst.salt,
            iterations: serverFirst.iterations
        )
        let withoutProof = SCRAMMessages.clientFinalWithoutProof(
            channelBinding: self.gs2Header + self.channelBindingData,
            nonce: serverFirst.nonce
        )
        let authMessage = SCRAMMessages.authMessage(
            clientFirstBare: self.clientFirstBare,
            serverFirst: message,
            clientFinalWithoutProof: withoutProof
        )
        let clientSignature = SCRAMCrypto.hmac(key: keys.storedKey, authMessage)
        let proof = SCRAMCrypto.xor(keys.clientKey, clientSignature)
        self.state = .waitingForServerFinal(
            expectedServerSignature: SCRAMCrypto.hmac(key: keys.serverKey, authMessage)
        )
        return withoutProof + Array(",p=\(SCRAMMessages.base64(proof))".utf8)
    }

    /// Takes the server-final-message (AuthenticationSASLFinal) and checks the server's signature.
    public mutating func receiveServerFinal(_ message: [UInt8]) throws(SCRAMError) {
        guard case .waitingForServerFinal(let expected) = self.state else {
            self.state = .failed
            throw .unexpectedMessage(.serverFinal)
        }
        self.state = .failed
        switch try SCRAMMessages.parseServerFinal(message) {
        case .error(let error):
            throw .serverError(error)
        case .verifier(let signature):
            guard constantTimeEquals(signature, expected) else {
                throw .serverSignatureMismatch
            }
            self.state = .finished
        }
    }
}

extension SCRAMClient: Sendable {}

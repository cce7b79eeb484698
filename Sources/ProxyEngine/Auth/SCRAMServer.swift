/// The server side of a SCRAM-SHA-256 exchange (RFC 5802, RFC 7677) as PostgreSQL runs it: a pure state machine
/// that turns the client's SASL messages into the server's answers and never does I/O.
///
/// The caller carries the bytes in AuthenticationSASLContinue / AuthenticationSASLFinal and maps a thrown
/// `SCRAMError.authenticationFailed` to SQLSTATE 28P01, any other error to 08P01. After an error the exchange is
/// over: every further call throws `unexpectedMessage`.
///
/// Channel binding (`p=`, SCRAM-SHA-256-PLUS) is refused for now. A client that sends `y` ("I could bind, but you
/// do not offer it") is accepted; once the server offers PLUS over TLS, `y` must be refused as a downgrade sign.
public struct SCRAMServer {
    private enum State {
        case waitingForClientFirst
        case waitingForClientFinal(Exchange)
        case finished
        case failed
    }

    /// What the server-first-message fixed, needed to check the client-final-message.
    private struct Exchange {
        var gs2Header: [UInt8]
        var clientFirstBare: [UInt8]
        var serverFirst: [UInt8]
        var nonce: String
    }

    private let verifier: SCRAMVerifier
    private let serverNonce: String
    private var state: State = .waitingForClientFirst

    /// - Parameter nonce: the server's part of the nonce, appended to the client's; injectable for tests,
    ///   otherwise 18 random bytes in base64. It must be printable ASCII without ",".
    public init(verifier: SCRAMVerifier, nonce: String? = nil) {
        let serverNonce = nonce ?? SCRAMCrypto.randomNonce()
        precondition(SCRAMMessages.isValidNonce(serverNonce.utf8), "a SCRAM nonce is printable ASCII without \",\"")
        self.verifier = verifier
        self.serverNonce = serverNonce
    }

    /// Whether the client has proven it knows the password.
    public var isAuthenticated: Bool {
        if case .finished = self.state {
            return true
        }
        return false
    }

    /// Takes the client-first-message (the data of SASLInitialResponse) and returns the server-first-message.
    public mutating func receiveClientFirst(_ message: [UInt8]) throws(SCRAMError) -> [UInt8] {
        guard case .waitingForClientFirst = self.state else {
            self.state = .failed
            throw .unexpectedMessage(.clientFirst)
        }
        self.state = .failed
        let clientFirst = try SCRAMMessages.parseClientFirst(message)
        if case .required(let name) = clientFirst.channelBinding {
            throw .channelBindingNotSupported(name)
        }
        let nonce = clientFirst.nonce + self.serverNonce
        let serverFirst = SCRAMMessages.serverFirst(
            nonce: nonce,
            salt: self.verifier.salt,
            iterations: self.verifier.iterations
        )
        self.state = .waitingForClientFinal(
            Exchange(
                gs2Header: clientFirst.gs2Header,
                clientFirstBare: clientFirst.bare,
                serverFirst: serverFirst,
                nonce: nonce
            )
        )
        return serverFirst
    }

    /// Takes the client-final-message (the data of SASLResponse), checks the proof and returns the
    /// server-final-message `v=...` that proves the server knew the password too.
    public mutating func receiveClientFinal(_ message: [UInt8]) throws(SCRAMError) -> [UInt8] {
        guard case .waitingForClientFinal(let exchange) = self.state else {
            self.state = .failed
            throw .unexpectedMessage(.clientFinal)
        }
        self.state = .failed
        let clientFinal = try SCRAMMessages.parseClientFinal(message)
        // Without channel binding, c= carries the gs2 header alone ("biws" is base64 of "n,,").
        guard clientFinal.channelBinding == exchange.gs2Header else {
            throw .channelBindingMismatch
        }
        guard clientFinal.nonce == exchange.nonce else {
            throw .nonceMismatch(.clientFinal)
        }
        let authMessage = SCRAMMessages.authMessage(
            clientFirstBare: exchange.clientFirstBare,
            serverFirst: exchange.serverFirst,
            clientFinalWithoutProof: clientFinal.withoutProof
        )
        let clientSignature = SCRAMCrypto.hmac(key: self.verifier.storedKey, authMessage)
        let clientKey = SCRAMCrypto.xor(clientFinal.proof, clientSignature)
        guard constantTimeEquals(SCRAMCrypto.sha256(clientKey), self.verifier.storedKey) else {
            throw .authenticationFailed
        }
        let serverSignature = SCRAMCrypto.hmac(key: self.verifier.serverKey, authMessage)
        self.state = .finished
        return Array("v=\(SCRAMMessages.base64(serverSignature))".utf8)
    }
}

extension SCRAMServer: Sendable {}

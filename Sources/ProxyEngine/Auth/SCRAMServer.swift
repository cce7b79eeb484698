/// The server side of a SCRAM-SHA-256 exchange (RFC 5802, RFC 7677) as PostgreSQL runs it: a pure state machine
/// that turns the client's SASL messages into the server's answers and never does I/O.
///
/// The caller carries the bytes in AuthenticationSASLContinue / AuthenticationSASLFinal and maps a thrown
/// `SCRAMError.authenticationFailed` to SQLSTATE 28P01, any other error to 08P01. After an error the exchange is
/// over: every further call throws `unexpectedMessage`.
///
/// Channel binding (SCRAM-SHA-256-PLUS, RFC 5802 section 6) is checked as PostgreSQL does: over TLS the server
/// offers it with its `tls-server-end-point` data; a client that chose PLUS must send `p=tls-server-end-point` and
/// bind exactly that data, and a client that says `y` ("I could bind, but you do not offer it") while it was offered
/// is refused as a sign that someone in the middle removed PLUS from the offer.
public struct SCRAMServer {
    /// The SASL mechanism names.
    public static let mechanism = "SCRAM-SHA-256"
    public static let mechanismPlus = "SCRAM-SHA-256-PLUS"

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
        /// What `c=` must decode to: the gs2 header, then the binding data when the client bound.
        var expectedBinding: [UInt8]
    }

    private let verifier: SCRAMVerifier
    private let serverNonce: String
    private let offeredBinding: SCRAMChannelBinding?
    private let clientChosePlus: Bool
    private var state: State = .waitingForClientFirst

    /// - Parameters:
    ///   - nonce: the server's part of the nonce, appended to the client's; injectable for tests, otherwise 18 random
    ///     bytes in base64. It must be printable ASCII without ",".
    ///   - channelBinding: the binding this server offered (SCRAM-SHA-256-PLUS over TLS); nil when it offered
    ///     SCRAM-SHA-256 only.
    ///   - clientChosePlus: whether the client's SASLInitialResponse named SCRAM-SHA-256-PLUS.
    public init(
        verifier: SCRAMVerifier, nonce: String? = nil, channelBinding: SCRAMChannelBinding? = nil,
        clientChosePlus: Bool = false
    ) {
        let serverNonce = nonce ?? SCRAMCrypto.randomNonce()
        precondition(SCRAMMessages.isValidNonce(serverNonce.utf8), "a SCRAM nonce is printable ASCII without \",\"")
        self.verifier = verifier
        self.serverNonce = serverNonce
        self.offeredBinding = channelBinding
        self.clientChosePlus = clientChosePlus
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
        if self.clientChosePlus, !clientFirst.channelBinding.isRequired {
            throw .channelBindingMissing
        }
        var expectedBinding = clientFirst.gs2Header
        switch clientFirst.channelBinding {
        case .required(let name):
            guard self.clientChosePlus, let offered = self.offeredBinding else {
                throw .channelBindingNotSupported(name)
            }
            guard name == offered.name else {
                throw .unsupportedChannelBindingType(name)
            }
            expectedBinding += offered.data
        case .supportedButNotUsed:
            if self.offeredBinding != nil {
                throw .channelBindingDowngrade
            }
        case .none:
            break
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
                nonce: nonce,
                expectedBinding: expectedBinding
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
        // Without channel binding, c= carries the gs2 header alone ("biws" is base64 of "n,,"); with it, the header
        // and the binding data, which a man in the middle with another certificate cannot match.
        guard constantTimeEquals(clientFinal.channelBinding, exchange.expectedBinding) else {
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

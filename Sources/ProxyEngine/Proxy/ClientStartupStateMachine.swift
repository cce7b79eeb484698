import NIOCore

/// What the proxy knows about a pseudo user when a client names it.
public struct ClientCredential: Sendable {
    public var pseudoUser: PseudoUser
    /// Precomputed once at start-up, so a SCRAM exchange costs no PBKDF2 per connection.
    public var scramVerifier: SCRAMVerifier?
    /// The TLS context toward this user's upstream, built once at start-up.
    public var upstreamTLS: UpstreamTLS

    public init(pseudoUser: PseudoUser, scramVerifier: SCRAMVerifier?, upstreamTLS: UpstreamTLS = .disabled) {
        self.pseudoUser = pseudoUser
        self.scramVerifier = scramVerifier
        self.upstreamTLS = upstreamTLS
    }
}

/// What the proxy offers clients that ask for encryption.
public struct ClientEncryptionPolicy: Sendable {
    /// SSLRequest is answered `S` (a certificate is configured).
    public var tlsAvailable: Bool
    /// A StartupMessage that did not come over TLS is refused.
    public var tlsRequired: Bool
    /// Offered as SCRAM-SHA-256-PLUS over TLS; nil offers SCRAM-SHA-256 only.
    public var channelBinding: SCRAMChannelBinding?

    public init(tlsAvailable: Bool, tlsRequired: Bool = false, channelBinding: SCRAMChannelBinding? = nil) {
        self.tlsAvailable = tlsAvailable
        self.tlsRequired = tlsRequired
        self.channelBinding = channelBinding
    }

    /// No certificate: every SSLRequest gets `N`.
    public static let unavailable = ClientEncryptionPolicy(tlsAvailable: false)
}

/// The proxy's side of a client's startup: answer SSL/GSS requests, route cancels, authenticate the pseudo user.
/// Pure: every input returns an action for the handler to carry out.
public struct ClientStartupStateMachine {
    public enum Action {
        /// Answer an SSLRequest with 'S'; the TLS handshake follows, then the real startup packet inside TLS.
        case acceptEncryption
        /// Answer an SSLRequest or GSSENCRequest with 'N' and wait for the real startup packet.
        case refuseEncryption
        /// A CancelRequest: look the key up and forward it; then close.
        case forwardCancel(processID: Int32, secretKey: [UInt8])
        /// Send NegotiateProtocolVersion first when there is one, then the authentication request.
        case sendAuthentication(AuthenticationRequest, negotiate: NegotiateProtocolVersion?)
        /// The client is authenticated: open the upstream session.
        case connectUpstream(
            ClientCredential, database: String, parameters: [(String, String)], negotiate: NegotiateProtocolVersion?)
        /// Send this FATAL error and close.
        case fail(ErrorFields)
        /// Close without a word, logging this error: the client expects TLS records, so a PostgreSQL message would
        /// be noise to it (PostgreSQL logs these cases as COMMERROR and closes too).
        case closeWithoutAnswer(ErrorFields)
        case wait
    }

    /// What was settled before the StartupMessage, as PostgreSQL's ProcessStartupPacket tracks it (`ssl_done`,
    /// `gss_done`): each of SSL and GSS may be asked once (libpq asks GSS first, then SSL), neither once TLS runs
    /// after an SSLRequest. Direct TLS settles neither: inside it both are answered `N`, as PostgreSQL does.
    private struct Negotiation {
        var sslDone = false
        var gssDone = false
        var encrypted = false
    }

    private enum State {
        case awaitingStartup(Negotiation)
        case awaitingPassword(Pending, method: PasswordExchange)
        case authenticated
        case failed
    }

    private struct Pending {
        var credential: ClientCredential
        var database: String
        var parameters: [(String, String)]
        var negotiate: NegotiateProtocolVersion?
    }

    private enum PasswordExchange {
        case cleartext
        case md5(salt: [UInt8])
        case scramInitial
        case scram(SCRAMServer)
    }

    private var state: State = .awaitingStartup(Negotiation())
    private let lookup: (String) -> ClientCredential?
    private let makeSalt: () -> [UInt8]
    private let encryption: ClientEncryptionPolicy
    /// Whether the session runs over TLS (decided before the StartupMessage).
    public private(set) var isEncrypted = false
    /// The protocol version the client's session runs (`ClientProtocolNegotiation`), once its StartupMessage came.
    public private(set) var protocolVersion = ProtocolVersion.v3_0

    public init(
        lookup: @escaping (String) -> ClientCredential?,
        encryption: ClientEncryptionPolicy = .unavailable,
        makeSalt: @escaping () -> [UInt8] = { (0..<4).map { _ in UInt8.random(in: 0...255) } }
    ) {
        self.lookup = lookup
        self.encryption = encryption
        self.makeSalt = makeSalt
    }

    /// The pseudo user named in the startup packet, once known (for logs and errors).
    public private(set) var pseudoUserName: String?
    public private(set) var database: String?

    public mutating func startupPacket(_ packet: StartupPacket) -> Action {
        guard case .awaitingStartup(var negotiation) = self.state else {
            return self.fail(.protocolViolation("unexpected startup packet"))
        }
        switch packet {
        case .sslRequest:
            guard !negotiation.sslDone else {
                return self.fail(.protocolViolation("SSL encryption requested twice"))
            }
            negotiation.sslDone = true
            if self.encryption.tlsAvailable && !negotiation.encrypted {
                negotiation.encrypted = true
                negotiation.gssDone = true
                self.isEncrypted = true
                self.state = .awaitingStartup(negotiation)
                return .acceptEncryption
            }
            self.state = .awaitingStartup(negotiation)
            return .refuseEncryption
        case .gssEncryptionRequest:
            guard !negotiation.gssDone else {
                return self.fail(.protocolViolation("GSS encryption requested twice or inside SSL"))
            }
            negotiation.gssDone = true
            self.state = .awaitingStartup(negotiation)
            return .refuseEncryption
        case .cancel(let pid, let key):
            self.state = .failed
            return .forwardCancel(processID: pid, secretKey: key)
        case .startup(let version, let parameters):
            return self.startup(version: version, parameters: parameters)
        }
    }

    /// A TLS ClientHello came first (sslnegotiation=direct): the handshake starts at once, without SSLRequest.
    /// PostgreSQL closes without a word when it has no certificate (the client expects TLS records); so does pgreel,
    /// and says why in its log.
    public mutating func directTLSRequested() -> Action {
        guard case .awaitingStartup(var negotiation) = self.state, !negotiation.sslDone, !negotiation.gssDone,
            !negotiation.encrypted
        else {
            return self.fail(.protocolViolation("unexpected TLS handshake"))
        }
        guard self.encryption.tlsAvailable else {
            self.state = .failed
            return .closeWithoutAnswer(
                .protocolViolation(
                    "direct SSL connection rejected: the client sent a TLS ClientHello (sslnegotiation=direct), "
                        + "but pgreel has no certificate (--tls-cert, --tls-key)"))
        }
        negotiation.encrypted = true
        self.isEncrypted = true
        self.state = .awaitingStartup(negotiation)
        return .acceptEncryption
    }

    private mutating func startup(version: Int32, parameters: [(String, String)]) -> Action {
        let negotiation = ClientProtocolNegotiation(requested: ProtocolVersion(code: version), parameters: parameters)
        self.protocolVersion = negotiation.served
        let negotiate = negotiation.message
        guard let user = parameters.first(where: { $0.0 == "user" })?.1, !user.isEmpty else {
            return self.fail(.fatal("28000", "no PostgreSQL user name specified in startup packet"))
        }
        self.pseudoUserName = user
        if self.encryption.tlsRequired && !self.isEncrypted {
            // As a pg_hba.conf that has only hostssl lines; said before the user is looked up, so it reveals nothing.
            let database = parameters.first(where: { $0.0 == "database" })?.1 ?? user
            return self.fail(
                .fatal(
                    "28000",
                    "pgreel accepts only encrypted connections: user \"\(user)\", database \"\(database)\", "
                        + "no encryption",
                    hint: "Connect with SSL: sslmode=require, verify-ca or verify-full."))
        }
        if parameters.contains(where: { $0.0 == "replication" && $0.1 != "false" && $0.1 != "off" && $0.1 != "0" }) {
            return self.fail(.fatal("0A000", "replication connections are not supported by pgreel"))
        }
        let database = parameters.first(where: { $0.0 == "database" })?.1 ?? ""
        guard let credential = self.lookup(user) else {
            return self.fail(.unknownRole(user))
        }
        let effectiveDatabase = database.isEmpty ? credential.pseudoUser.upstream.database : database
        self.database = effectiveDatabase
        if let allowed = credential.pseudoUser.allowedDatabases, !allowed.contains(effectiveDatabase) {
            return self.fail(
                .fatal(
                    "28000",
                    "pseudo user \"\(user)\" is not allowed to connect to database \"\(effectiveDatabase)\"",
                    hint: "Allowed: \(allowed.joined(separator: ", "))."))
        }
        let forwarded = parameters.filter { $0.0 != "user" && $0.0 != "database" && !$0.0.hasPrefix("_pq_.") }
        let pending = Pending(
            credential: credential, database: effectiveDatabase, parameters: forwarded, negotiate: negotiate)
        switch credential.pseudoUser.authMethod {
        case .trust:
            self.state = .authenticated
            return .connectUpstream(credential, database: effectiveDatabase, parameters: forwarded, negotiate: negotiate)
        case .cleartext:
            self.state = .awaitingPassword(pending, method: .cleartext)
            return .sendAuthentication(.cleartextPassword, negotiate: negotiate)
        case .md5:
            let salt = self.makeSalt()
            self.state = .awaitingPassword(pending, method: .md5(salt: salt))
            return .sendAuthentication(.md5Password(salt: salt), negotiate: negotiate)
        case .scramSHA256:
            self.state = .awaitingPassword(pending, method: .scramInitial)
            var mechanisms = [SCRAMServer.mechanism]
            if self.offeredBinding != nil {
                mechanisms.append(SCRAMServer.mechanismPlus)
            }
            return .sendAuthentication(.sasl(mechanisms: mechanisms), negotiate: negotiate)
        }
    }

    /// A 'p' message: password, SASLInitialResponse or SASLResponse, depending on what was asked.
    public mutating func passwordMessage(_ payload: ByteBuffer) -> Action {
        guard case .awaitingPassword(let pending, let method) = self.state else {
            return self.fail(.protocolViolation("unexpected password message"))
        }
        let user = pending.credential.pseudoUser
        do {
            switch method {
            case .cleartext:
                let password = try PasswordMessage.password(from: payload)
                guard let expected = user.password,
                    constantTimeEquals(Array(password.utf8), Array(expected.utf8))
                else { return self.fail(.passwordFailed(user: user.name)) }
                return self.authenticated(pending)
            case .md5(let salt):
                let response = try PasswordMessage.password(from: payload)
                guard let expected = user.password,
                    MD5Password.verify(response: response, user: user.name, password: expected, salt: salt)
                else { return self.fail(.passwordFailed(user: user.name)) }
                return self.authenticated(pending)
            case .scramInitial:
                let (mechanism, data) = try PasswordMessage.saslInitial(from: payload)
                let plus = mechanism == SCRAMServer.mechanismPlus && self.offeredBinding != nil
                guard mechanism == SCRAMServer.mechanism || plus else {
                    return self.fail(
                        .protocolViolation("client selected an invalid SASL authentication mechanism"))
                }
                guard let verifier = pending.credential.scramVerifier else {
                    return self.fail(.passwordFailed(user: user.name))
                }
                var server = SCRAMServer(verifier: verifier, channelBinding: self.offeredBinding, clientChosePlus: plus)
                self.scramMechanism = mechanism
                let serverFirst = try server.receiveClientFirst(data)
                self.state = .awaitingPassword(pending, method: .scram(server))
                return .sendAuthentication(.saslContinue(data: serverFirst), negotiate: nil)
            case .scram(var server):
                let result = Result { () throws(SCRAMError) in
                    try server.receiveClientFinal(Array(payload.readableBytesView))
                }
                switch result {
                case .success(let serverFinal):
                    let action = self.authenticated(pending)
                    // SASLFinal must reach the client before AuthenticationOk; the handler sends it first.
                    self.serverFinal = serverFinal
                    return action
                case .failure(let error) where error == .authenticationFailed:
                    return self.fail(.passwordFailed(user: user.name))
                case .failure(let error):
                    return self.fail(.protocolViolation("SCRAM authentication failed: \(error)"))
                }
            }
        } catch let violation as ProtocolViolation {
            return self.fail(.protocolViolation(violation.message))
        } catch {
            return self.fail(.protocolViolation("SCRAM authentication failed: \(error)"))
        }
    }

    /// The SASLFinal payload to send before AuthenticationOk, after a successful SCRAM exchange.
    public private(set) var serverFinal: [UInt8]?

    /// The SASL mechanism the client chose ("SCRAM-SHA-256" or "SCRAM-SHA-256-PLUS"), once it has.
    public private(set) var scramMechanism: String?

    /// The channel binding SCRAM-SHA-256-PLUS offers: only over TLS, and only when the certificate allows one.
    private var offeredBinding: SCRAMChannelBinding? {
        self.isEncrypted ? self.encryption.channelBinding : nil
    }

    private mutating func authenticated(_ pending: Pending) -> Action {
        self.state = .authenticated
        return .connectUpstream(
            pending.credential, database: pending.database, parameters: pending.parameters,
            negotiate: nil)
    }

    private mutating func fail(_ error: ErrorFields) -> Action {
        self.state = .failed
        return .fail(error)
    }
}

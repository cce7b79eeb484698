import NIOCore

/// The life of a client connection until the relay takes it over: for each thing that happens on it (a startup
/// packet or message decoded, a limiter's answer, the upstream connected or not, the session file created or not,
/// the TLS handshake, the auth timeout, the channel closing) it decides what the handler does next.
///
/// `ClientStartupStateMachine` decides who the client is and whether it may in; this machine wraps it with
/// everything around that decision: connection slots, TLS, the auth timeout, cancel requests, the upstream
/// connection, the session file, the cancel key and the greeting. Pure, as postgres-nio's ConnectionStateMachine:
/// each event returns one `Action` for `ClientConnectionHandler` to carry out, and where the outcome of an action
/// matters (a slot taken, a file created) the handler reports it back as the next event. No I/O, no clock.
struct ClientConnectionStateMachine {
    /// What the handler does next.
    enum Action {
        /// Nothing until the next event.
        case wait
        /// The connection is open: announce it and arm the authentication timeout (`authTimeoutFired`).
        case armAuthTimeout(clientAddress: String)
        /// The channel closed: disarm the timeout; announce why when there is something to say.
        case disarmAuthTimeout(announcing: String?)
        /// Answer an SSLRequest or GSSENCRequest with `N`.
        case refuseEncryption
        /// Answer an SSLRequest with `S` and put TLS in front of the handler (`tlsSetupFailed` if that fails).
        case startTLS
        /// The client began with a TLS ClientHello (direct TLS): put TLS in front of the handler and hand it the
        /// bytes read so far, the ClientHello among them (`tlsSetupFailed` if that fails).
        case startDirectTLS
        /// Answer `S`, then refuse: bytes came behind the SSLRequest, unprotected by TLS (CVE-2021-23214).
        case acceptEncryptionThenRefuse(ErrorFields)
        /// A StartupMessage: announce who asks (when it names a user), take a server-wide slot
        /// (`serverSlotAcquired`).
        case acquireServerSlot(pseudoUser: String?, database: String)
        case sendAuthentication(AuthenticationRequest, negotiate: NegotiateProtocolVersion?)
        /// Authenticated: the auth timeout no longer applies; take one of the user's slots (`userSlotAcquired`).
        case acquireUserSlot(PseudoUser)
        /// Stop reading and open the upstream session (`upstreamConnected` or `upstreamFailed`).
        case connectUpstream(UpstreamTarget)
        /// Create the session file (`recordingCreated` or `recordingFailed`).
        case createRecording(pseudoUser: String)
        /// Register the upstream's key and get the key the client holds, `clientKeyLength` bytes long
        /// (`cancelKeyRegistered`).
        case registerCancelKey(upstreamKey: BackendKeyData, clientKeyLength: Int, host: String, port: Int)
        /// Greet the client, start the session and hand both channels to the relay.
        case startSession(SessionStart)
        /// A CancelRequest: find the session its key names (`cancelKeyLookedUp`).
        case lookUpCancelKey(processID: Int32, secretKey: [UInt8])
        /// Send the cancel to the upstream with its real key, then close; the client gets no answer either way.
        case forwardCancel(CancelKeyRegistry.Entry)
        /// A key that names no session: close without an answer, as PostgreSQL does.
        case dropCancel
        /// Announce the refusal, send this FATAL error and close.
        case refuse(ErrorFields, pseudoUser: String?)
        /// Announce the refusal and close without sending it: the client expects TLS records (PostgreSQL logs these
        /// as COMMERROR and closes).
        case refuseWithoutAnswer(ErrorFields)
        /// The session file could not be created: close the upstream, announce the failure, send FATAL and close.
        case refuseUnrecorded(ErrorFields, message: String, upstream: any Channel)
        /// The upstream arrived for a client that is gone.
        case closeUpstream(any Channel)
        /// Close the connection, announcing why when there is something to say.
        case close(announcing: String?)
    }

    /// Everything the handler needs to start a session, decided here so the handler only carries it out.
    struct SessionStart {
        var upstream: UpstreamConnection
        var recorder: SessionRecorder?
        var info: ProxyEvent.ConnectedInfo
        var greeting: SessionGreeting
        var clientKey: BackendKeyData
        var clientAddress: String
        var applicationName: String?
    }

    /// How the handler reads what the client sends, which depends on the state.
    enum Input: Equatable {
        /// The connection's first bytes, to tell a TLS ClientHello (direct TLS) from a startup packet
        /// (`firstBytesReceived`).
        case firstBytes
        /// Startup packets: SSLRequest, GSSENCRequest, CancelRequest, StartupMessage.
        case startupPackets
        /// Typed messages: the password exchange.
        case messages
        /// Kept unread: for the relay while the upstream is being opened, or until the TLS handshake is over.
        case held
        /// Nothing more is read (refused, cancelled, or handed over).
        case ignored
    }

    /// Whether TLS runs on the connection. During the handshake no plain-text error can be sent.
    enum Encryption {
        case none
        /// `direct`: the client began with a ClientHello, not an SSLRequest, and must then have negotiated ALPN.
        case handshaking(direct: Bool)
        case established
    }

    /// What authentication settled, carried until the session starts.
    struct Login {
        var credential: ClientCredential
        var database: String
        var parameters: [(String, String)]
        var negotiate: NegotiateProtocolVersion?
    }

    private enum State {
        /// The channel is not active yet.
        case initialized
        /// Nothing read yet: a TLS ClientHello is possible only now (PostgreSQL's ProcessSSLStartup).
        case awaitingFirstPacket
        case awaitingStartup(Encryption)
        /// A StartupMessage came; a server-wide slot is being taken.
        case acquiringServerSlot(StartupPacket, Encryption)
        /// The password exchange (led by `ClientStartupStateMachine`).
        case authenticating
        case acquiringUserSlot(Login)
        case connectingUpstream(Login)
        case creatingRecording(Login, UpstreamConnection)
        case registeringCancelKey(Login, UpstreamConnection, SessionRecorder?)
        case lookingUpCancelKey
        /// The relay took the connection over.
        case relaying
        /// Refused, cancelled, closed or gone: every outcome has been announced.
        case closed
    }

    private var state: State = .initialized
    private var authentication: ClientStartupStateMachine
    /// Sessions are recorded (a session file writer exists).
    private let recording: Bool
    private(set) var clientAddress = "unknown"
    private(set) var applicationName: String?

    init(authentication: ClientStartupStateMachine, recording: Bool) {
        self.authentication = authentication
        self.recording = recording
    }

    var input: Input {
        switch self.state {
        case .awaitingFirstPacket: return .firstBytes
        case .awaitingStartup(.handshaking): return .held
        case .awaitingStartup(.none), .awaitingStartup(.established): return .startupPackets
        case .authenticating: return .messages
        case .acquiringServerSlot, .acquiringUserSlot, .connectingUpstream, .creatingRecording, .registeringCancelKey:
            return .held
        case .initialized, .lookingUpCancelKey, .relaying, .closed: return .ignored
        }
    }

    // MARK: The channel

    mutating func connected(clientAddress: String) -> Action {
        switch self.state {
        case .initialized:
            self.clientAddress = clientAddress
            self.state = .awaitingFirstPacket
            return .armAuthTimeout(clientAddress: clientAddress)
        case .awaitingFirstPacket, .awaitingStartup, .acquiringServerSlot, .authenticating, .acquiringUserSlot,
            .connectingUpstream, .creatingRecording, .registeringCancelKey, .lookingUpCancelKey, .relaying, .closed:
            return .wait
        }
    }

    mutating func channelInactive() -> Action {
        switch self.state {
        case .initialized, .awaitingFirstPacket, .awaitingStartup, .acquiringServerSlot, .authenticating,
            .acquiringUserSlot, .connectingUpstream, .creatingRecording, .registeringCancelKey, .lookingUpCancelKey:
            self.state = .closed
            return .disarmAuthTimeout(announcing: "client disconnected during startup")
        case .relaying, .closed:
            return .disarmAuthTimeout(announcing: nil)
        }
    }

    /// An error on the channel: it is closed; only a failed TLS handshake is worth a word (the close announces
    /// every other case as a disconnect).
    mutating func errorCaught(_ error: any Error) -> Action {
        switch self.state {
        case .awaitingStartup(.handshaking):
            self.state = .closed
            return .close(announcing: "TLS handshake failed: \(error)")
        case .initialized, .awaitingFirstPacket, .awaitingStartup(.none), .awaitingStartup(.established),
            .acquiringServerSlot, .authenticating, .acquiringUserSlot, .connectingUpstream, .creatingRecording,
            .registeringCancelKey, .lookingUpCancelKey, .relaying, .closed:
            return .close(announcing: nil)
        }
    }

    /// As PostgreSQL's authentication_timeout: FATAL 57014. During a TLS handshake no message can be sent (the
    /// client expects TLS records), so the connection just closes.
    mutating func authTimeoutFired() -> Action {
        switch self.state {
        case .awaitingStartup(.handshaking):
            self.state = .closed
            return .close(announcing: "authentication timeout during the TLS handshake")
        case .awaitingFirstPacket, .awaitingStartup(.none), .awaitingStartup(.established), .authenticating:
            return self.refuse(.fatal("57014", "canceling authentication due to timeout"))
        case .initialized, .acquiringServerSlot, .acquiringUserSlot, .connectingUpstream, .creatingRecording,
            .registeringCancelKey, .lookingUpCancelKey, .relaying, .closed:
            return .wait
        }
    }

    // MARK: What the client sends

    /// The connection's first bytes are a TLS handshake record (direct TLS) or a startup packet
    /// (`DirectTLSProbe`). Only the first bytes may start TLS this way: after an SSLRequest answered `N`, 0x16 is
    /// just a bad length.
    mutating func firstBytesReceived(_ kind: DirectTLSProbe.FirstBytes) -> Action {
        switch self.state {
        case .awaitingFirstPacket:
            self.state = .awaitingStartup(.none)
            switch kind {
            case .startupPacket:
                return .wait
            case .tlsHandshake:
                switch self.authentication.directTLSRequested() {
                case .acceptEncryption:
                    self.state = .awaitingStartup(.handshaking(direct: true))
                    return .startDirectTLS
                case let other:
                    return self.authenticationAction(other, unreadBytes: 0)
                }
            }
        case .initialized, .awaitingStartup, .acquiringServerSlot, .authenticating, .acquiringUserSlot,
            .connectingUpstream, .creatingRecording, .registeringCancelKey, .lookingUpCancelKey, .relaying, .closed:
            return .wait
        }
    }

    /// A startup packet; `unreadBytes` is what the client sent behind it, which must be nothing after an
    /// SSLRequest that is accepted: those bytes were not protected by TLS, and are refused unread.
    mutating func startupPacketReceived(_ packet: StartupPacket, unreadBytes: Int) -> Action {
        switch self.state {
        case .awaitingFirstPacket:
            // A whole startup packet: the first bytes were not a ClientHello.
            self.state = .awaitingStartup(.none)
            return self.startupPacketReceived(packet, unreadBytes: unreadBytes)
        case .awaitingStartup(let encryption):
            if case .startup = packet {
                // As PostgreSQL: the server-wide limit is checked before authentication.
                self.applicationName = packet.parameter("application_name")
                self.state = .acquiringServerSlot(packet, encryption)
                let user = packet.parameter("user")
                return .acquireServerSlot(pseudoUser: user, database: packet.parameter("database") ?? user ?? "")
            }
            return self.authenticationAction(self.authentication.startupPacket(packet), unreadBytes: unreadBytes)
        case .initialized, .acquiringServerSlot, .authenticating, .acquiringUserSlot, .connectingUpstream,
            .creatingRecording, .registeringCancelKey, .lookingUpCancelKey, .relaying, .closed:
            return .wait
        }
    }

    /// A message during authentication: a password (or SASL response), or Terminate.
    mutating func messageReceived(_ message: RawMessage) -> Action {
        switch self.state {
        case .authenticating:
            switch message.id {
            case FrontendMessageID.password:
                return self.authenticationAction(self.authentication.passwordMessage(message.payload), unreadBytes: 0)
            case FrontendMessageID.terminate:
                self.state = .closed
                return .close(announcing: nil)
            default:
                return self.refuse(
                    .protocolViolation("expected password response, got message type \(Int(message.id))"))
            }
        case .initialized, .awaitingFirstPacket, .awaitingStartup, .acquiringServerSlot, .acquiringUserSlot,
            .connectingUpstream, .creatingRecording, .registeringCancelKey, .lookingUpCancelKey, .relaying, .closed:
            return .wait
        }
    }

    /// Bytes that are not a valid startup packet or message (bad length, unknown protocol version ...).
    mutating func protocolViolation(_ message: String) -> Action {
        switch self.state {
        case .awaitingFirstPacket, .awaitingStartup, .authenticating:
            return self.refuse(.protocolViolation(message))
        case .initialized, .acquiringServerSlot, .acquiringUserSlot, .connectingUpstream, .creatingRecording,
            .registeringCancelKey, .lookingUpCancelKey, .relaying, .closed:
            return .wait
        }
    }

    // MARK: TLS

    /// The handshake is over; `negotiatedProtocol` is what ALPN settled on (nil: the client offered none pgreel
    /// speaks). A direct TLS client must have negotiated "postgresql", as PostgreSQL 17 requires: ALPN is then what
    /// tells a PostgreSQL client from an HTTPS one that reached the port (cross-protocol attacks).
    mutating func tlsHandshakeCompleted(negotiatedProtocol: String?) -> Action {
        switch self.state {
        case .awaitingStartup(.handshaking(let direct)):
            guard !direct || negotiatedProtocol == ClientTLS.alpnProtocol else {
                self.state = .closed
                return .refuseWithoutAnswer(
                    .protocolViolation(
                        "received direct SSL connection request without ALPN protocol negotiation extension"))
            }
            self.state = .awaitingStartup(.established)
            return .wait
        case .initialized, .awaitingFirstPacket, .awaitingStartup(.none), .awaitingStartup(.established),
            .acquiringServerSlot, .authenticating, .acquiringUserSlot, .connectingUpstream, .creatingRecording,
            .registeringCancelKey, .lookingUpCancelKey, .relaying, .closed:
            return .wait
        }
    }

    /// The TLS handler could not be put in place (the channel is closing).
    mutating func tlsSetupFailed() -> Action {
        self.state = .closed
        return .close(announcing: nil)
    }

    // MARK: Outcomes of the handler's actions

    mutating func serverSlotAcquired(_ acquired: Bool) -> Action {
        switch self.state {
        case .acquiringServerSlot(let packet, let encryption):
            guard acquired else {
                return self.refuse(.fatal("53300", "sorry, too many clients already"))
            }
            self.state = .awaitingStartup(encryption)
            return self.authenticationAction(self.authentication.startupPacket(packet), unreadBytes: 0)
        case .initialized, .awaitingFirstPacket, .awaitingStartup, .authenticating, .acquiringUserSlot,
            .connectingUpstream, .creatingRecording, .registeringCancelKey, .lookingUpCancelKey, .relaying, .closed:
            return .wait
        }
    }

    mutating func userSlotAcquired(_ acquired: Bool) -> Action {
        switch self.state {
        case .acquiringUserSlot(let login):
            let user = login.credential.pseudoUser
            guard acquired else {
                return self.refuse(.fatal("53300", "too many connections for role \"\(user.name)\""))
            }
            self.state = .connectingUpstream(login)
            return .connectUpstream(
                UpstreamTarget(
                    host: user.upstream.host, port: user.upstream.port, user: user.upstream.user,
                    password: user.upstream.password, database: login.database, parameters: login.parameters,
                    tls: login.credential.upstreamTLS, maxProtocolVersion: user.upstreamMaxProtocolVersion))
        case .initialized, .awaitingFirstPacket, .awaitingStartup, .acquiringServerSlot, .authenticating,
            .connectingUpstream, .creatingRecording, .registeringCancelKey, .lookingUpCancelKey, .relaying, .closed:
            return .wait
        }
    }

    mutating func upstreamConnected(_ upstream: UpstreamConnection) -> Action {
        switch self.state {
        case .connectingUpstream(let login):
            if self.recording {
                self.state = .creatingRecording(login, upstream)
                return .createRecording(pseudoUser: login.credential.pseudoUser.name)
            }
            return self.registerCancelKey(login, upstream, recorder: nil)
        case .initialized, .awaitingFirstPacket, .awaitingStartup, .acquiringServerSlot, .authenticating,
            .acquiringUserSlot, .creatingRecording, .registeringCancelKey, .lookingUpCancelKey, .relaying, .closed:
            return .closeUpstream(upstream.channel)
        }
    }

    mutating func upstreamFailed(_ error: any Error) -> Action {
        switch self.state {
        case .connectingUpstream(let login):
            let masked = login.credential.pseudoUser.upstream.masked
            switch error as? UpstreamError {
            case .serverError(let fields):
                // The server's own refusal (database does not exist, too many connections ...) is meaningful as is.
                return self.refuse(fields)
            case .some(let upstreamError):
                return self.refuse(
                    .fatal("08006", "pgreel could not connect to the upstream \(masked): \(upstreamError)"))
            case nil:
                return self.refuse(.fatal("08006", "pgreel could not connect to the upstream \(masked): \(error)"))
            }
        case .initialized, .awaitingFirstPacket, .awaitingStartup, .acquiringServerSlot, .authenticating,
            .acquiringUserSlot, .creatingRecording, .registeringCancelKey, .lookingUpCancelKey, .relaying, .closed:
            return .wait
        }
    }

    mutating func recordingCreated(_ recorder: SessionRecorder) -> Action {
        switch self.state {
        case .creatingRecording(let login, let upstream):
            return self.registerCancelKey(login, upstream, recorder: recorder)
        case .initialized, .awaitingFirstPacket, .awaitingStartup, .acquiringServerSlot, .authenticating,
            .acquiringUserSlot, .connectingUpstream, .registeringCancelKey, .lookingUpCancelKey, .relaying, .closed:
            return .wait
        }
    }

    /// Policy: a session that cannot be recorded is refused, never silently unrecorded.
    mutating func recordingFailed(_ message: String) -> Action {
        switch self.state {
        case .creatingRecording(_, let upstream):
            self.state = .closed
            return .refuseUnrecorded(
                .fatal("58030", "pgreel could not record this session: \(message)"), message: message,
                upstream: upstream.channel)
        case .initialized, .awaitingFirstPacket, .awaitingStartup, .acquiringServerSlot, .authenticating,
            .acquiringUserSlot, .connectingUpstream, .registeringCancelKey, .lookingUpCancelKey, .relaying, .closed:
            return .wait
        }
    }

    mutating func cancelKeyRegistered(_ clientKey: BackendKeyData) -> Action {
        switch self.state {
        case .registeringCancelKey(let login, let upstream, let recorder):
            self.state = .relaying
            let user = login.credential.pseudoUser
            let info = ProxyEvent.ConnectedInfo(
                pseudoUser: user.name, realUser: user.upstream.user, database: login.database,
                upstreamHost: user.upstream.host, upstreamPort: user.upstream.port, clientAddress: self.clientAddress,
                backendProcessID: upstream.handshake.backendKey?.processID ?? 0)
            let greeting = SessionGreeting(
                negotiate: login.negotiate, serverFinal: self.authentication.serverFinal, handshake: upstream.handshake,
                clientKey: clientKey)
            return .startSession(
                SessionStart(
                    upstream: upstream, recorder: recorder, info: info, greeting: greeting, clientKey: clientKey,
                    clientAddress: self.clientAddress, applicationName: self.applicationName))
        case .initialized, .awaitingFirstPacket, .awaitingStartup, .acquiringServerSlot, .authenticating,
            .acquiringUserSlot, .connectingUpstream, .creatingRecording, .lookingUpCancelKey, .relaying, .closed:
            return .wait
        }
    }

    mutating func cancelKeyLookedUp(_ entry: CancelKeyRegistry.Entry?) -> Action {
        switch self.state {
        case .lookingUpCancelKey:
            self.state = .closed
            guard let entry else { return .dropCancel }
            return .forwardCancel(entry)
        case .initialized, .awaitingFirstPacket, .awaitingStartup, .acquiringServerSlot, .authenticating,
            .acquiringUserSlot, .connectingUpstream, .creatingRecording, .registeringCancelKey, .relaying, .closed:
            return .wait
        }
    }

    // MARK: Helpers

    /// Turns the authentication's decision into what the connection does.
    private mutating func authenticationAction(_ action: ClientStartupStateMachine.Action, unreadBytes: Int) -> Action {
        switch action {
        case .wait:
            return .wait
        case .refuseEncryption:
            return .refuseEncryption
        case .acceptEncryption:
            guard unreadBytes == 0 else {
                self.state = .closed
                return .acceptEncryptionThenRefuse(
                    .fatal(
                        "08P01", "received unencrypted data after SSL request",
                        detail: "This could be either a client-software bug or evidence of an attempted "
                            + "man-in-the-middle attack."))
            }
            self.state = .awaitingStartup(.handshaking(direct: false))
            return .startTLS
        case .forwardCancel(let processID, let secretKey):
            self.state = .lookingUpCancelKey
            return .lookUpCancelKey(processID: processID, secretKey: secretKey)
        case .sendAuthentication(let request, let negotiate):
            self.state = .authenticating
            return .sendAuthentication(request, negotiate: negotiate)
        case .connectUpstream(let credential, let database, let parameters, let negotiate):
            self.state = .acquiringUserSlot(
                Login(credential: credential, database: database, parameters: parameters, negotiate: negotiate))
            return .acquireUserSlot(credential.pseudoUser)
        case .fail(let error):
            return self.refuse(error)
        case .closeWithoutAnswer(let error):
            self.state = .closed
            return .refuseWithoutAnswer(error)
        }
    }

    private mutating func registerCancelKey(_ login: Login, _ upstream: UpstreamConnection, recorder: SessionRecorder?)
        -> Action
    {
        self.state = .registeringCancelKey(login, upstream, recorder)
        let upstreamURL = login.credential.pseudoUser.upstream
        return .registerCancelKey(
            upstreamKey: upstream.handshake.backendKey ?? BackendKeyData(processID: 0, secretKey: 0),
            clientKeyLength: self.authentication.protocolVersion.issuedCancelKeyLength, host: upstreamURL.host,
            port: upstreamURL.port)
    }

    private mutating func refuse(_ error: ErrorFields) -> Action {
        self.state = .closed
        return .refuse(error, pseudoUser: self.authentication.pseudoUserName)
    }
}

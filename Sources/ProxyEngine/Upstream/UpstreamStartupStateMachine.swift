import NIOCore
import NIOSSL

/// The frontend side of a connection's startup: negotiate TLS as sslmode says, then authenticate to a real
/// PostgreSQL with real credentials. Pure: it says what to send and when the session is ready; the handler does
/// the I/O and reports what happened (the server's SSL answer, the TLS handshake, messages, errors).
///
/// Supports trust, cleartext, md5, SCRAM-SHA-256 and, over TLS, SCRAM-SHA-256-PLUS, as libpq does without GSS/SSPI;
/// `channel_binding` decides as in libpq whether binding is used, and with `require` no other method is accepted.
///
/// It asks for protocol 3.2 (unless the URL's `max_protocol_version` says 3.0) and takes what the server answers:
/// PostgreSQL 18 runs 3.2 (and sends a 32-byte cancel key), older servers send NegotiateProtocolVersion naming 3.0
/// and run that. Clients never notice: pgreel serves them their own version and its own cancel keys.
public struct UpstreamStartupStateMachine {
    public enum Action: Equatable {
        case send(ByteBuffer)
        case none
        /// The server answered `S`: put TLS in front of the handler, then report `tlsEstablished`.
        case establishTLS
        /// ReadyForQuery arrived: the session is usable.
        case ready(UpstreamHandshake)
        case fail(UpstreamError)
    }

    /// How the handler reads what the server sends, which depends on the state.
    enum Input: Equatable {
        /// The one-byte answer to SSLRequest.
        case sslAnswer
        /// Typed messages (authentication, parameters, ReadyForQuery).
        case messages
        /// Nothing may come now (before the connection, or in clear text during the TLS handshake).
        case unexpected
        /// The startup is over: bytes belong to whoever follows.
        case passOn
    }

    private enum State {
        /// Not connected yet.
        case initialized
        case sslRequestSent
        case tlsHandshaking
        /// StartupMessage sent.
        case awaitingAuthentication
        case scramInProgress(SCRAMClient)
        case awaitingReady
        case done
    }

    private var state: State
    private let target: UpstreamTarget
    private var security: UpstreamSecurity
    private var handshake = UpstreamHandshake()

    /// A machine for a connection about to open: it sends SSLRequest or the StartupMessage when told `connected`.
    init(target: UpstreamTarget) {
        self.target = target
        self.state = .initialized
        self.security = .plaintext
    }

    /// A machine whose StartupMessage is already sent, over a connection secured as `security` says.
    public init(user: String, password: String?, security: UpstreamSecurity = .plaintext) {
        self.target = UpstreamTarget(host: "", port: 0, user: user, password: password, database: "")
        self.state = .awaitingAuthentication
        self.security = security
        self.handshake.tlsVersion = security.tlsVersion
    }

    var input: Input {
        switch self.state {
        case .sslRequestSent: return .sslAnswer
        case .awaitingAuthentication, .scramInProgress, .awaitingReady: return .messages
        case .initialized, .tlsHandshaking: return .unexpected
        case .done: return .passOn
        }
    }

    // MARK: The connection and TLS

    /// The connection is open: TLS at once with sslnegotiation=direct, else SSLRequest first unless sslmode is
    /// `disable`.
    mutating func connected() -> Action {
        switch self.state {
        case .initialized:
            guard self.target.tls.settings.mode != .disable else {
                return self.sendStartup(security: .plaintext)
            }
            if self.isDirect {
                self.state = .tlsHandshaking
                return .establishTLS
            }
            self.state = .sslRequestSent
            var buffer = ByteBuffer()
            StartupPacket.sslRequest.encode(into: &buffer)
            return .send(buffer)
        case .sslRequestSent, .tlsHandshaking, .awaitingAuthentication, .scramInProgress, .awaitingReady, .done:
            return .none
        }
    }

    /// The answer to SSLRequest: `S` (TLS follows) or `N` (plain text, if sslmode allows it). `unreadBytes` is what
    /// came behind the answer: it was sent before TLS and cannot be trusted (CVE-2021-23222).
    mutating func sslAnswerReceived(_ answer: UInt8, unreadBytes: Int) -> Action {
        switch self.state {
        case .sslRequestSent:
            let mode = self.target.tls.settings.mode
            switch answer {
            case UInt8(ascii: "S"):
                guard unreadBytes == 0 else {
                    return self.fail(.protocolViolation("the server sent unencrypted data after its SSL answer"))
                }
                self.state = .tlsHandshaking
                return .establishTLS
            case UInt8(ascii: "N"):
                guard !mode.requiresEncryption else {
                    return self.fail(
                        .tls(
                            "the server \(self.target.address) does not support SSL, but sslmode=\(mode.rawValue) "
                                + "requires it"))
                }
                guard unreadBytes == 0 else {
                    return self.fail(.protocolViolation("the server sent data after refusing SSL"))
                }
                return self.sendStartup(
                    security: UpstreamSecurity(
                        tlsVersion: nil, bindingData: nil, channelBinding: self.target.tls.settings.channelBinding))
            default:
                return self.fail(
                    .protocolViolation(
                        "received invalid response to SSL negotiation: \(MessageFramer.printable(answer))"))
            }
        case .initialized, .tlsHandshaking, .awaitingAuthentication, .scramInProgress, .awaitingReady, .done:
            return .none
        }
    }

    /// The TLS handler could not be put in place; nil: there is no TLS context for this sslmode.
    mutating func tlsSetupFailed(_ error: (any Error)?) -> Action {
        guard let error else {
            return self.fail(.tls("no TLS context for sslmode=\(self.target.tls.settings.mode.rawValue)"))
        }
        return self.fail(.tls("SSL error: \(UpstreamConnector.describeTLS(error, host: self.target.host))"))
    }

    /// The handshake is done: the StartupMessage goes inside TLS, and SCRAM may bind to the server's certificate.
    /// A direct connection must have negotiated ALPN "postgresql", as libpq requires: without an SSLRequest, that
    /// is what shows the server knows it speaks PostgreSQL inside TLS.
    mutating func tlsEstablished(version: TLSVersion?, peerCertificateDER: [UInt8]?, negotiatedProtocol: String?)
        -> Action
    {
        switch self.state {
        case .tlsHandshaking:
            if self.isDirect {
                guard let negotiatedProtocol else {
                    return self.fail(
                        .tls("direct SSL connection was established without ALPN protocol negotiation extension"))
                }
                guard negotiatedProtocol == ClientTLS.alpnProtocol else {
                    return self.fail(.tls("SSL connection was established with unexpected ALPN protocol"))
                }
            }
            let binding = peerCertificateDER.flatMap { TLSServerEndPoint.binding(certificateDER: $0) }
            return self.sendStartup(
                security: UpstreamSecurity(
                    tlsVersion: version.map(Self.name(of:)) ?? "TLS", bindingData: binding,
                    channelBinding: self.target.tls.settings.channelBinding))
        case .initialized, .sslRequestSent, .awaitingAuthentication, .scramInProgress, .awaitingReady, .done:
            return .none
        }
    }

    /// Bytes that arrived when none may (see `Input.unexpected`).
    mutating func unexpectedData() -> Action {
        self.fail(.protocolViolation("unexpected data during the TLS handshake"))
    }

    /// Bytes that do not frame as messages.
    mutating func messageDecodingFailed(_ error: any Error) -> Action {
        self.fail(.protocolViolation("\(error)"))
    }

    mutating func errorCaught(_ error: any Error) -> Action {
        switch self.state {
        case .tlsHandshaking:
            return self.fail(
                .tls("SSL error: \(UpstreamConnector.describeTLS(error, host: self.target.host))" + self.directHint))
        case .initialized, .sslRequestSent, .awaitingAuthentication, .scramInProgress, .awaitingReady, .done:
            if error is NIOSSLError || error is NIOSSLExtraError {
                return self.fail(.tls("SSL error: \(UpstreamConnector.describeTLS(error, host: self.target.host))"))
            }
            return self.fail(
                .unreachable("connection to \(self.target.address) failed: \(UpstreamConnector.describe(error))"))
        }
    }

    /// The connection closed; before ReadyForQuery that fails the startup.
    mutating func closed() -> Action {
        switch self.state {
        case .tlsHandshaking:
            return self.fail(.tls("the server closed the connection during the TLS handshake" + self.directHint))
        case .initialized, .sslRequestSent, .awaitingAuthentication, .scramInProgress, .awaitingReady, .done:
            return self.fail(.closed)
        }
    }

    private var isDirect: Bool { self.target.tls.settings.negotiation == .direct }

    /// What a failed direct handshake most likely means: a server older than 17 reads the ClientHello as a
    /// startup packet and hangs up.
    private var directHint: String {
        self.isDirect ? " (sslnegotiation=direct needs PostgreSQL 17 or later)" : ""
    }

    static func name(of version: TLSVersion) -> String {
        switch version {
        case .tlsv1: return "TLSv1"
        case .tlsv11: return "TLSv1.1"
        case .tlsv12: return "TLSv1.2"
        case .tlsv13: return "TLSv1.3"
        }
    }

    private mutating func sendStartup(security: UpstreamSecurity) -> Action {
        self.state = .awaitingAuthentication
        self.security = security
        self.handshake.tlsVersion = security.tlsVersion
        var parameters: [(String, String)] = [("user", self.target.user), ("database", self.target.database)]
        parameters.append(contentsOf: self.target.parameters.filter { $0.0 != "user" && $0.0 != "database" })
        var buffer = ByteBuffer()
        self.handshake.protocolVersion = self.target.maxProtocolVersion
        StartupPacket.startup(protocolVersion: self.target.maxProtocolVersion.code, parameters: parameters)
            .encode(into: &buffer)
        return .send(buffer)
    }

    /// Fails once; after the startup ended (ready or failed) nothing more happens.
    private mutating func fail(_ error: UpstreamError) -> Action {
        switch self.state {
        case .done:
            return .none
        case .initialized, .sslRequestSent, .tlsHandshaking, .awaitingAuthentication, .scramInProgress, .awaitingReady:
            self.state = .done
            return .fail(error)
        }
    }

    // MARK: Messages

    public mutating func message(id: UInt8, payload: ByteBuffer) -> Action {
        switch self.state {
        case .awaitingAuthentication, .scramInProgress, .awaitingReady:
            do {
                return try self.handle(id: id, payload: payload)
            } catch let error as UpstreamError {
                return self.fail(error)
            } catch {
                return self.fail(.protocolViolation("\(error)"))
            }
        case .initialized, .sslRequestSent, .tlsHandshaking:
            return self.fail(
                .protocolViolation("unexpected message \"\(MessageFramer.printable(id))\" before the startup"))
        case .done:
            return .none
        }
    }

    private mutating func handle(id: UInt8, payload: ByteBuffer) throws -> Action {
        switch id {
        case BackendMessageID.authentication:
            return try self.authentication(AuthenticationRequest.decode(from: payload))
        case BackendMessageID.errorResponse:
            let fields = try ErrorFields.decode(from: payload)
            if fields.code == "28P01" || fields.code == "28000" {
                return self.fail(.authenticationFailed(fields))
            }
            return self.fail(.serverError(fields))
        case BackendMessageID.noticeResponse:
            self.handshake.notices.append(try ErrorFields.decode(from: payload))
            return .none
        case BackendMessageID.parameterStatus:
            self.handshake.parameters.append(try ParameterStatus.decode(from: payload))
            return .none
        case BackendMessageID.backendKeyData:
            self.handshake.backendKey = try BackendKeyData.decode(from: payload)
            return .none
        case BackendMessageID.negotiateProtocolVersion:
            try self.negotiated(NegotiateProtocolVersion.decode(from: payload))
            return .none
        case BackendMessageID.readyForQuery:
            guard case .awaitingReady = self.state else {
                throw UpstreamError.protocolViolation("ReadyForQuery before authentication completed")
            }
            self.handshake.transactionState = try ReadyForQuery.state(of: payload)
            self.state = .done
            return .ready(self.handshake)
        default:
            throw UpstreamError.protocolViolation(
                "unexpected message \"\(MessageFramer.printable(id))\" during startup")
        }
    }

    /// The server speaks an older version than asked (PostgreSQL before 18: 3.0). It comes first, before any
    /// authentication request, and can only go down; pgreel sends no `_pq_.` options, so none may be named.
    private mutating func negotiated(_ message: NegotiateProtocolVersion) throws {
        let requested = self.target.maxProtocolVersion
        guard case .awaitingAuthentication = self.state, self.handshake.protocolVersion == requested else {
            throw UpstreamError.protocolViolation("unexpected NegotiateProtocolVersion")
        }
        guard message.version >= .v3_0, message.version < requested else {
            throw UpstreamError.protocolViolation(
                "the server offered protocol \(message.version) in answer to \(requested)")
        }
        guard message.unsupportedOptions.isEmpty else {
            throw UpstreamError.protocolViolation(
                "the server named protocol options pgreel did not send: "
                    + message.unsupportedOptions.joined(separator: ", "))
        }
        self.handshake.protocolVersion = message.version
    }

    private mutating func authentication(_ request: AuthenticationRequest) throws -> Action {
        if self.security.channelBinding == .require {
            try self.checkBindingRequired(request)
        }
        if case .unsupported(let code) = request {
            throw UpstreamError.unsupportedAuthentication("authentication method \(code) is not supported by pgreel")
        }
        switch self.state {
        case .awaitingAuthentication:
            return try self.firstAuthenticationRequest(request)
        case .scramInProgress(var client):
            switch request {
            case .saslContinue(let data):
                let final: [UInt8]
                do {
                    final = try client.receiveServerFirst(data)
                } catch {
                    throw UpstreamError.protocolViolation("SCRAM exchange with the server failed: \(error)")
                }
                self.state = .scramInProgress(client)
                var out = ByteBuffer()
                PasswordMessage.encodeSASLResponse(final, into: &out)
                return .send(out)
            case .saslFinal(let data):
                do {
                    try client.receiveServerFinal(data)
                } catch {
                    throw UpstreamError.protocolViolation("the server's SCRAM signature is invalid: \(error)")
                }
                self.state = .scramInProgress(client)
                return .none
            case .ok:
                // AuthenticationOk without a verified SASLFinal would let a fake server skip proving it knows the key.
                guard client.isAuthenticated else {
                    throw UpstreamError.protocolViolation("the server skipped the final SCRAM message")
                }
                self.state = .awaitingReady
                return .none
            case .cleartextPassword, .md5Password, .sasl, .unsupported:
                throw UpstreamError.protocolViolation("unexpected authentication request \(request)")
            }
        case .initialized, .sslRequestSent, .tlsHandshaking, .awaitingReady, .done:
            throw UpstreamError.protocolViolation("unexpected authentication request \(request)")
        }
    }

    /// The server's first authentication request: how it wants pgreel to prove who it is.
    private mutating func firstAuthenticationRequest(_ request: AuthenticationRequest) throws -> Action {
        var out = ByteBuffer()
        switch request {
        case .ok:
            self.handshake.authentication = "trust"
            self.state = .awaitingReady
            return .none
        case .cleartextPassword:
            PasswordMessage.encodePassword(try self.requirePassword(), into: &out)
            self.handshake.authentication = "password"
            return .send(out)
        case .md5Password(let salt):
            let response = MD5Password.response(
                user: self.target.user, password: try self.requirePassword(), salt: salt)
            PasswordMessage.encodePassword(response, into: &out)
            self.handshake.authentication = "md5"
            return .send(out)
        case .sasl(let mechanisms):
            let password = try self.requirePassword()
            var client: SCRAMClient
            let mechanism: String
            if self.security.channelBinding != .disable, let binding = self.security.bindingData,
                mechanisms.contains(SCRAMServer.mechanismPlus)
            {
                mechanism = SCRAMServer.mechanismPlus
                client = SCRAMClient(username: self.target.user, password: password, channelBinding: binding)
            } else if self.security.channelBinding == .require {
                if mechanisms.contains(SCRAMServer.mechanismPlus) {
                    throw UpstreamError.channelBindingRequired(
                        "the server's certificate is signed with an algorithm that tls-server-end-point cannot bind "
                            + "to (Ed25519, RSA-PSS ...)")
                }
                throw UpstreamError.channelBindingRequired(
                    "the server did not offer SCRAM-SHA-256-PLUS (it offers \(mechanisms.joined(separator: ", ")))")
            } else if mechanisms.contains(SCRAMServer.mechanism) {
                mechanism = SCRAMServer.mechanism
                // "y": we could bind over this TLS connection, but the server did not offer it.
                let couldBind = self.security.isEncrypted && self.security.channelBinding != .disable
                    && !mechanisms.contains(SCRAMServer.mechanismPlus)
                client = SCRAMClient(username: self.target.user, password: password, couldBind: couldBind)
            } else {
                throw UpstreamError.unsupportedAuthentication(
                    "the server offers SASL mechanisms \(mechanisms.joined(separator: ", ")), none of which pgreel "
                        + "supports")
            }
            let first = client.clientFirstMessage()
            self.state = .scramInProgress(client)
            self.handshake.authentication = mechanism
            PasswordMessage.encodeSASLInitial(mechanism: mechanism, data: first, into: &out)
            return .send(out)
        case .saslContinue, .saslFinal, .unsupported:
            throw UpstreamError.protocolViolation("unexpected authentication request \(request)")
        }
    }

    /// With channel_binding=require, only SCRAM-SHA-256-PLUS may authenticate: a password is never sent to a server
    /// (or a man in the middle) that has not proven it holds the certificate's key, and a server that lets us in
    /// without SCRAM is refused.
    private func checkBindingRequired(_ request: AuthenticationRequest) throws {
        switch self.state {
        case .awaitingAuthentication:
            switch request {
            case .ok:
                throw UpstreamError.channelBindingRequired("the server authenticated pgreel without channel binding")
            case .cleartextPassword:
                throw UpstreamError.channelBindingRequired("the server asked for a cleartext password")
            case .md5Password:
                throw UpstreamError.channelBindingRequired("the server asked for an md5 password")
            case .sasl:
                guard self.security.isEncrypted else {
                    throw UpstreamError.channelBindingRequired("the connection is not encrypted")
                }
            case .saslContinue, .saslFinal, .unsupported:
                break
            }
        case .initialized, .sslRequestSent, .tlsHandshaking, .scramInProgress, .awaitingReady, .done:
            break
        }
    }

    private func requirePassword() throws -> String {
        guard let password = self.target.password else { throw UpstreamError.passwordRequired }
        return password
    }
}

/// What the upstream told us while starting the session.
public struct UpstreamHandshake: Sendable, Equatable {
    public var parameters: [ParameterStatus] = []
    public var backendKey: BackendKeyData?
    public var notices: [ErrorFields] = []
    public var transactionState: TransactionState = .idle
    /// How pgreel authenticated: "trust", "password", "md5", "SCRAM-SHA-256" or "SCRAM-SHA-256-PLUS".
    public var authentication: String?
    /// The negotiated TLS version ("TLSv1.3"), nil on a plain-text connection.
    public var tlsVersion: String?
    /// The protocol version the server speaks: 3.2 from PostgreSQL 18, else what its NegotiateProtocolVersion said.
    public var protocolVersion = ProtocolVersion.latest

    public init() {}
}

/// What the connection offers the authentication: whether TLS is on, the channel binding data taken from the
/// server's certificate, and the `channel_binding` policy.
public struct UpstreamSecurity: Sendable, Equatable {
    public var tlsVersion: String?
    /// `tls-server-end-point` over the certificate the server presented; nil without TLS or for a certificate whose
    /// signature hash is unknown.
    public var bindingData: SCRAMChannelBinding?
    public var channelBinding: ChannelBindingMode

    public init(tlsVersion: String?, bindingData: SCRAMChannelBinding?, channelBinding: ChannelBindingMode) {
        self.tlsVersion = tlsVersion
        self.bindingData = bindingData
        self.channelBinding = channelBinding
    }

    public static let plaintext = UpstreamSecurity(tlsVersion: nil, bindingData: nil, channelBinding: .disable)

    public var isEncrypted: Bool { self.tlsVersion != nil }
}

/// Why a connection to the real database could not be used. Descriptions never include a password.
public enum UpstreamError: Error, Equatable, CustomStringConvertible, Sendable {
    case unreachable(String)
    case authenticationFailed(ErrorFields)
    case serverError(ErrorFields)
    case passwordRequired
    case unsupportedAuthentication(String)
    case protocolViolation(String)
    case closed
    /// TLS could not be set up: the server does not offer it though sslmode demands it, or the handshake or the
    /// certificate check failed.
    case tls(String)
    /// channel_binding=require, and the authentication the server asked for is not bound to the TLS channel.
    case channelBindingRequired(String)

    public var description: String {
        switch self {
        case .unreachable(let reason): return reason
        case .authenticationFailed(let fields): return fields.message
        case .serverError(let fields): return fields.message
        case .passwordRequired:
            return "the server asked for a password and none is configured (URL, PGPASSWORD or ~/.pgpass)"
        case .unsupportedAuthentication(let reason): return reason
        case .protocolViolation(let reason): return "protocol violation: \(reason)"
        case .closed: return "the server closed the connection during startup"
        case .tls(let reason): return reason
        case .channelBindingRequired(let reason):
            return "channel binding is required (channel_binding=require), but \(reason)"
        }
    }
}

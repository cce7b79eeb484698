import NIOCore

/// The frontend side of a connection's startup: authenticate to a real PostgreSQL with real credentials.
/// Pure: it says what to send and when the session is ready; the handler does the I/O.
///
/// Supports trust, cleartext, md5, SCRAM-SHA-256 and, over TLS, SCRAM-SHA-256-PLUS, as libpq does without GSS/SSPI;
/// `channel_binding` decides as in libpq whether binding is used, and with `require` no other method is accepted.
public struct UpstreamStartupStateMachine {
    public enum Action: Equatable {
        case send(ByteBuffer)
        case none
        /// ReadyForQuery arrived: the session is usable.
        case ready(UpstreamHandshake)
        case fail(UpstreamError)
    }

    private enum State {
        case awaitingAuthentication
        case scramInProgress(SCRAMClient)
        case awaitingReady
        case done
    }

    private var state: State = .awaitingAuthentication
    private let user: String
    private let password: String?
    private let security: UpstreamSecurity
    private var handshake = UpstreamHandshake()

    public init(user: String, password: String?, security: UpstreamSecurity = .plaintext) {
        self.user = user
        self.password = password
        self.security = security
        self.handshake.tlsVersion = security.tlsVersion
    }

    public mutating func message(id: UInt8, payload: ByteBuffer) -> Action {
        do {
            return try self.handle(id: id, payload: payload)
        } catch let error as UpstreamError {
            self.state = .done
            return .fail(error)
        } catch {
            self.state = .done
            return .fail(.protocolViolation("\(error)"))
        }
    }

    private mutating func handle(id: UInt8, payload: ByteBuffer) throws -> Action {
        switch id {
        case BackendMessageID.authentication:
            return try self.authentication(AuthenticationRequest.decode(from: payload))
        case BackendMessageID.errorResponse:
            let fields = try ErrorFields.decode(from: payload)
            self.state = .done
            if fields.code == "28P01" || fields.code == "28000" {
                return .fail(.authenticationFailed(fields))
            }
            return .fail(.serverError(fields))
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

    private mutating func authentication(_ request: AuthenticationRequest) throws -> Action {
        var out = ByteBuffer()
        if self.security.channelBinding == .require {
            try self.checkBindingRequired(request)
        }
        switch (self.state, request) {
        case (.awaitingAuthentication, .ok):
            self.handshake.authentication = "trust"
            self.state = .awaitingReady
            return .none
        case (.scramInProgress(let client), .ok):
            // AuthenticationOk without a verified SASLFinal would let a fake server skip proving it knows the key.
            guard client.isAuthenticated else {
                throw UpstreamError.protocolViolation("the server skipped the final SCRAM message")
            }
            self.state = .awaitingReady
            return .none
        case (.awaitingAuthentication, .cleartextPassword):
            PasswordMessage.encodePassword(try self.requirePassword(), into: &out)
            self.handshake.authentication = "password"
            return .send(out)
        case (.awaitingAuthentication, .md5Password(let salt)):
            let response = MD5Password.response(user: self.user, password: try self.requirePassword(), salt: salt)
            PasswordMessage.encodePassword(response, into: &out)
            self.handshake.authentication = "md5"
            return .send(out)
        case (.awaitingAuthentication, .sasl(let mechanisms)):
            let password = try self.requirePassword()
            var client: SCRAMClient
            let mechanism: String
            if self.security.channelBinding != .disable, let binding = self.security.bindingData,
                mechanisms.contains(SCRAMServer.mechanismPlus)
            {
                mechanism = SCRAMServer.mechanismPlus
                client = SCRAMClient(username: self.user, password: password, channelBinding: binding)
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
                client = SCRAMClient(username: self.user, password: password, couldBind: couldBind)
            } else {
                throw UpstreamError.unsupportedAuthentication(
                    "the server offers SASL mechanisms \(mechanisms.joined(separator: ", ")), none of which pgreel supports")
            }
            let first = client.clientFirstMessage()
            self.state = .scramInProgress(client)
            self.handshake.authentication = mechanism
            PasswordMessage.encodeSASLInitial(mechanism: mechanism, data: first, into: &out)
            return .send(out)
        case (.scramInProgress(var client), .saslContinue(let data)):
            let final: [UInt8]
            do {
                final = try client.receiveServerFirst(data)
            } catch {
                throw UpstreamError.protocolViolation("SCRAM exchange with the server failed: \(error)")
            }
            self.state = .scramInProgress(client)
            PasswordMessage.encodeSASLResponse(final, into: &out)
            return .send(out)
        case (.scramInProgress(var client), .saslFinal(let data)):
            do {
                try client.receiveServerFinal(data)
            } catch {
                throw UpstreamError.protocolViolation("the server's SCRAM signature is invalid: \(error)")
            }
            self.state = .scramInProgress(client)
            return .none
        case (_, .unsupported(let code)):
            throw UpstreamError.unsupportedAuthentication("authentication method \(code) is not supported by pgreel")
        default:
            throw UpstreamError.protocolViolation("unexpected authentication request \(request)")
        }
    }

    /// With channel_binding=require, only SCRAM-SHA-256-PLUS may authenticate: a password is never sent to a server
    /// (or a man in the middle) that has not proven it holds the certificate's key, and a server that lets us in
    /// without SCRAM is refused.
    private func checkBindingRequired(_ request: AuthenticationRequest) throws {
        switch (self.state, request) {
        case (.awaitingAuthentication, .ok):
            throw UpstreamError.channelBindingRequired("the server authenticated pgreel without channel binding")
        case (.awaitingAuthentication, .cleartextPassword):
            throw UpstreamError.channelBindingRequired("the server asked for a cleartext password")
        case (.awaitingAuthentication, .md5Password):
            throw UpstreamError.channelBindingRequired("the server asked for an md5 password")
        case (.awaitingAuthentication, .sasl):
            guard self.security.isEncrypted else {
                throw UpstreamError.channelBindingRequired("the connection is not encrypted")
            }
        default:
            break
        }
    }

    private func requirePassword() throws -> String {
        guard let password = self.password else { throw UpstreamError.passwordRequired }
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

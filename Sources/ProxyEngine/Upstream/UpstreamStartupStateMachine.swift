import NIOCore

/// The frontend side of a connection's startup: authenticate to a real PostgreSQL with real credentials.
/// Pure: it says what to send and when the session is ready; the handler does the I/O.
///
/// Supports trust, cleartext, md5 and SCRAM-SHA-256, as libpq does without GSS/SSPI.
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
    private var handshake = UpstreamHandshake()

    public init(user: String, password: String?) {
        self.user = user
        self.password = password
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
        switch (self.state, request) {
        case (.awaitingAuthentication, .ok):
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
            return .send(out)
        case (.awaitingAuthentication, .md5Password(let salt)):
            let response = MD5Password.response(user: self.user, password: try self.requirePassword(), salt: salt)
            PasswordMessage.encodePassword(response, into: &out)
            return .send(out)
        case (.awaitingAuthentication, .sasl(let mechanisms)):
            guard mechanisms.contains("SCRAM-SHA-256") else {
                throw UpstreamError.unsupportedAuthentication(
                    "the server offers SASL mechanisms \(mechanisms.joined(separator: ", ")), none of which pgreel supports")
            }
            var client = SCRAMClient(username: self.user, password: try self.requirePassword())
            let first = client.clientFirstMessage()
            self.state = .scramInProgress(client)
            PasswordMessage.encodeSASLInitial(mechanism: "SCRAM-SHA-256", data: first, into: &out)
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

    public init() {}
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
        }
    }
}

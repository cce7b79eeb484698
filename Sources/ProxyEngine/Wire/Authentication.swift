import NIOCore

/// Authentication ('R') requests, both the ones the proxy sends to clients and the ones it reads from upstreams.
public enum AuthenticationRequest: Sendable, Equatable {
    case ok
    case cleartextPassword
    case md5Password(salt: [UInt8])
    case sasl(mechanisms: [String])
    case saslContinue(data: [UInt8])
    case saslFinal(data: [UInt8])
    /// Kerberos, GSS, SSPI ...: nothing the proxy can do; reported by code.
    case unsupported(code: Int32)

    public static func decode(from payload: ByteBuffer) throws -> AuthenticationRequest {
        var payload = payload
        guard let code = payload.readInteger(as: Int32.self) else { throw ProtocolViolation("malformed Authentication") }
        switch code {
        case 0: return .ok
        case 3: return .cleartextPassword
        case 5:
            guard let salt = payload.readBytes(length: 4) else { throw ProtocolViolation("malformed Authentication") }
            return .md5Password(salt: salt)
        case 10:
            var mechanisms: [String] = []
            while let name = payload.readCString(), !name.isEmpty { mechanisms.append(name) }
            return .sasl(mechanisms: mechanisms)
        case 11: return .saslContinue(data: payload.readBytes(length: payload.readableBytes) ?? [])
        case 12: return .saslFinal(data: payload.readBytes(length: payload.readableBytes) ?? [])
        default: return .unsupported(code: code)
        }
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: BackendMessageID.authentication) { body in
            switch self {
            case .ok: body.writeInteger(Int32(0))
            case .cleartextPassword: body.writeInteger(Int32(3))
            case .md5Password(let salt):
                body.writeInteger(Int32(5))
                body.writeBytes(salt)
            case .sasl(let mechanisms):
                body.writeInteger(Int32(10))
                for name in mechanisms { body.writeCString(name) }
                body.writeInteger(UInt8(0))
            case .saslContinue(let data):
                body.writeInteger(Int32(11))
                body.writeBytes(data)
            case .saslFinal(let data):
                body.writeInteger(Int32(12))
                body.writeBytes(data)
            case .unsupported(let code):
                body.writeInteger(code)
            }
        }
    }
}

/// The frontend's 'p' message: its meaning depends on what the server asked for.
public enum PasswordMessage {
    /// PasswordMessage for cleartext and md5: a NUL-terminated string.
    public static func password(from payload: ByteBuffer) throws -> String {
        var payload = payload
        guard let password = payload.readCString() else { throw ProtocolViolation("invalid password packet") }
        return password
    }

    /// SASLInitialResponse: mechanism name, then Int32 length and data (-1 for none).
    public static func saslInitial(from payload: ByteBuffer) throws -> (mechanism: String, data: [UInt8]) {
        var payload = payload
        guard let mechanism = payload.readCString(), let length = payload.readInteger(as: Int32.self) else {
            throw ProtocolViolation("malformed SASLInitialResponse")
        }
        if length < 0 { return (mechanism, []) }
        guard let data = payload.readBytes(length: Int(length)) else {
            throw ProtocolViolation("malformed SASLInitialResponse")
        }
        return (mechanism, data)
    }

    public static func encodePassword(_ password: String, into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: FrontendMessageID.password) { $0.writeCString(password) }
    }

    public static func encodeSASLInitial(mechanism: String, data: [UInt8], into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: FrontendMessageID.password) { body in
            body.writeCString(mechanism)
            body.writeInteger(Int32(data.count))
            body.writeBytes(data)
        }
    }

    public static func encodeSASLResponse(_ data: [UInt8], into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: FrontendMessageID.password) { $0.writeBytes(data) }
    }
}

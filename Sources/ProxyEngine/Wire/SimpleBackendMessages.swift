import NIOCore

/// The small backend messages the proxy reads or writes, each a couple of fields.

/// CommandComplete ('C'): the command tag, e.g. "SELECT 3".
public enum CommandComplete {
    public static func tag(of payload: ByteBuffer) throws -> String {
        var payload = payload
        guard let tag = payload.readCString() else { throw ProtocolViolation("malformed CommandComplete") }
        return tag
    }
}

/// ReadyForQuery ('Z'): the transaction status after a command cycle.
public enum ReadyForQuery {
    public static func state(of payload: ByteBuffer) throws -> TransactionState {
        guard let byte = payload.getInteger(at: payload.readerIndex, as: UInt8.self),
            let state = TransactionState(rawValue: byte)
        else { throw ProtocolViolation("malformed ReadyForQuery") }
        return state
    }

    public static func encode(_ state: TransactionState, into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: BackendMessageID.readyForQuery) { $0.writeInteger(state.rawValue) }
    }
}

/// ParameterStatus ('S'): a run-time parameter the server reports (server_version, client_encoding ...).
public struct ParameterStatus: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    public static func decode(from payload: ByteBuffer) throws -> ParameterStatus {
        var payload = payload
        guard let name = payload.readCString(), let value = payload.readCString() else {
            throw ProtocolViolation("malformed ParameterStatus")
        }
        return ParameterStatus(name: name, value: value)
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeMessage(id: BackendMessageID.parameterStatus) {
            $0.writeCString(self.name)
            $0.writeCString(self.value)
        }
    }
}

/// NotificationResponse ('A'): an asynchronous NOTIFY.
public struct NotificationResponse: Sendable, Equatable {
    public var processID: Int32
    public var channel: String
    public var payload: String

    public static func decode(from payload: ByteBuffer) throws -> NotificationResponse {
        var payload = payload
        guard let pid = payload.readInteger(as: Int32.self), let channel = payload.readCString(),
            let text = payload.readCString()
        else { throw ProtocolViolation("malformed NotificationResponse") }
        return NotificationResponse(processID: pid, channel: channel, payload: text)
    }
}

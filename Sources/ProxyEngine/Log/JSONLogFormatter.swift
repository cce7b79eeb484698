import Foundation

/// `--log-format json`: one compact JSON object per event, one per line, for machines.
///
/// Every line starts with `time` (RFC 3339, microseconds, UTC), `session` and `event` (the event kind in
/// snake_case), then the event's own fields. A `recorded` event carries `type`, `timestamp` and `data` in the shape
/// of the session file, written by the session file's own writer (`SessionJSONWriter`), so a line reads like a
/// session-file entry and the two can never drift apart. Only what the event carries is written; passwords never
/// reach events (the engine masks them before publishing).
///
/// Bounded by `SessionJSONWriter.Limits.log`, not by what a client sent: values over 4 KiB and other strings over
/// 64 KiB end with `…`, results show their first 100 rows (`rows_truncated` is set), and the line then ends with
/// `"log_cut": {"values": N, "rows": M}`. The session file keeps everything.
public struct JSONLogFormatter: Sendable {
    let limits: SessionJSONWriter.Limits

    public init() {
        self.limits = .log
    }

    init(limits: SessionJSONWriter.Limits) {
        self.limits = limits
    }

    /// One JSON object, without a line terminator.
    public func line(for event: ProxyEvent) -> String {
        var writer = SessionJSONWriter(bytes: [], limits: self.limits)
        writer.beginObject()
        writer.key("time")
        writer.ascii(LogTimestamp(event.time).rfc3339Microseconds)
        writer.key("session")
        writer.string(event.sessionID)
        writer.key("event")
        writer.ascii(Self.eventName(event.kind))
        Self.fields(of: event.kind, into: &writer)
        let cuts = writer.cuts
        if !cuts.isEmpty {
            writer.key("log_cut")
            writer.beginObject()
            writer.key("values")
            writer.int(cuts.values)
            writer.key("rows")
            writer.int(cuts.rows)
            writer.endObject()
        }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// The first line of a JSON log, written when the proxy listens: `{"time", "event": "proxy_started", ...}`
    /// with what the banner shows (upstream URLs masked again, as in `Banner`).
    public static func startLine(
        time: Date = Date(), listen: String, users: [BannerUser], sessionsDirectory: String?, recording: Bool
    ) -> String {
        var writer = SessionJSONWriter(bytes: [])
        writer.beginObject()
        writer.key("time")
        writer.ascii(LogTimestamp(time).rfc3339Microseconds)
        writer.key("event")
        writer.ascii("proxy_started")
        writer.key("listen")
        writer.string(listen)
        writer.key("users")
        writer.beginArray()
        for user in users {
            writer.element()
            writer.beginObject()
            writer.key("pseudo_user")
            writer.string(user.pseudoUser)
            switch user.passwordInfo {
            case .any:
                writer.key("password")
                writer.ascii("any")
            case .required(let method):
                writer.key("password")
                writer.ascii("required")
                writer.key("password_method")
                writer.string(method)
            }
            writer.key("database")
            writer.string(user.database)
            writer.key("upstream")
            writer.string(Banner.maskingPassword(in: user.maskedUpstreamURL))
            writer.endObject()
        }
        writer.endArray()
        writer.key("recording")
        writer.bool(recording)
        writer.field("sessions_directory", sessionsDirectory)
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// The snake_case name of an event kind, as written in the `event` field.
    public static func eventName(_ kind: ProxyEvent.Kind) -> String {
        switch kind {
        case .connectionOpened: return "connection_opened"
        case .authenticating: return "authenticating"
        case .connected: return "connected"
        case .refused: return "refused"
        case .recordingStarted: return "recording_started"
        case .recorded: return "recorded"
        case .transactionState: return "transaction_state"
        case .notice: return "notice"
        case .notification: return "notification"
        case .cancelRequested: return "cancel_requested"
        case .connectionClosed: return "connection_closed"
        case .recordingFailed: return "recording_failed"
        }
    }

    /// The name written for a transaction state.
    static func stateName(_ state: TransactionState) -> String {
        switch state {
        case .idle: return "idle"
        case .inTransaction: return "in_transaction"
        case .failed: return "failed"
        }
    }

    private static func fields(of kind: ProxyEvent.Kind, into writer: inout SessionJSONWriter) {
        switch kind {
        case .connectionOpened(let clientAddress):
            writer.field("client_address", clientAddress)
        case .authenticating(let pseudoUser, let database):
            writer.field("pseudo_user", pseudoUser)
            writer.field("database", database)
        case .connected(let info):
            writer.field("pseudo_user", info.pseudoUser)
            writer.field("real_user", info.realUser)
            writer.field("database", info.database)
            writer.field("upstream_host", info.upstreamHost)
            writer.key("upstream_port")
            writer.int(info.upstreamPort)
            writer.field("client_address", info.clientAddress)
            writer.key("backend_pid")
            writer.int(Int(info.backendProcessID))
        case .refused(let pseudoUser, let error):
            writer.key("pseudo_user")
            writer.optionalString(pseudoUser)
            writer.key("error")
            writer.error(error)
        case .recordingStarted(let path):
            writer.field("path", path)
        case .recorded(let event):
            writer.eventFields(event)
        case .transactionState(let state):
            writer.key("state")
            writer.ascii(self.stateName(state))
        case .notice(let notice):
            writer.key("notice")
            writer.error(notice)
        case .notification(let channel, let payload, let processID):
            writer.field("channel", channel)
            writer.key("payload")
            writer.value(payload)
            writer.key("process_id")
            writer.int(Int(processID))
        case .cancelRequested(let forwarded):
            writer.key("forwarded")
            writer.bool(forwarded)
        case .connectionClosed(let reason):
            writer.field("reason", reason)
        case .recordingFailed(let message):
            writer.field("message", message)
        }
    }
}

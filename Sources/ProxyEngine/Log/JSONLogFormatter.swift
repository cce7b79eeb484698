import Foundation

/// `--log-format json`: one compact JSON object per event, one per line, for machines.
///
/// Every line starts with `time` (RFC 3339, microseconds, UTC), `session` and `event` (the event kind in
/// snake_case), then the event's own fields. A `recorded` event carries `type`, `timestamp` and `data` in the shape
/// of the session file, so a line can be read like a session-file entry. Only what the event carries is written;
/// passwords never reach events (the engine masks them before publishing).
public struct JSONLogFormatter: Sendable {
    public init() {}

    /// One JSON object, without a line terminator.
    public func line(for event: ProxyEvent) -> String {
        var fields: [(String, LogJSON)] = [
            ("time", .string(LogTimestamp(event.time).rfc3339Microseconds)),
            ("session", .string(event.sessionID)),
            ("event", .string(Self.eventName(event.kind))),
        ]
        fields += Self.fields(of: event.kind)
        return LogJSON.object(fields).encoded()
    }

    /// The first line of a JSON log, written when the proxy listens: `{"time", "event": "proxy_started", ...}`
    /// with what the banner shows (upstream URLs masked again, as in `Banner`).
    public static func startLine(
        time: Date = Date(), listen: String, users: [BannerUser], sessionsDirectory: String?, recording: Bool
    ) -> String {
        let userObjects = users.map { user -> LogJSON in
            var fields: [(String, LogJSON)] = [("pseudo_user", .string(user.pseudoUser))]
            switch user.passwordInfo {
            case .any:
                fields.append(("password", .string("any")))
            case .required(let method):
                fields += [("password", .string("required")), ("password_method", .string(method))]
            }
            fields += [
                ("database", .string(user.database)),
                ("upstream", .string(Banner.maskingPassword(in: user.maskedUpstreamURL))),
            ]
            return .object(fields)
        }
        var fields: [(String, LogJSON)] = [
            ("time", .string(LogTimestamp(time).rfc3339Microseconds)),
            ("event", .string("proxy_started")),
            ("listen", .string(listen)),
            ("users", .array(userObjects)),
            ("recording", .bool(recording)),
        ]
        if let sessionsDirectory {
            fields.append(("sessions_directory", .string(sessionsDirectory)))
        }
        return LogJSON.object(fields).encoded()
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

    private static func fields(of kind: ProxyEvent.Kind) -> [(String, LogJSON)] {
        switch kind {
        case .connectionOpened(let clientAddress):
            return [("client_address", .string(clientAddress))]
        case .authenticating(let pseudoUser, let database):
            return [("pseudo_user", .string(pseudoUser)), ("database", .string(database))]
        case .connected(let info):
            return [
                ("pseudo_user", .string(info.pseudoUser)),
                ("real_user", .string(info.realUser)),
                ("database", .string(info.database)),
                ("upstream_host", .string(info.upstreamHost)),
                ("upstream_port", .int(info.upstreamPort)),
                ("client_address", .string(info.clientAddress)),
                ("backend_pid", .int(Int(info.backendProcessID))),
            ]
        case .refused(let pseudoUser, let error):
            return [("pseudo_user", pseudoUser.map(LogJSON.string) ?? .null), ("error", self.errorObject(error))]
        case .recordingStarted(let path):
            return [("path", .string(path))]
        case .recorded(let event):
            return [
                ("type", .string(event.typeName)),
                ("timestamp", .string(LogTimestamp(event.timestamp).rfc3339Microseconds)),
                ("data", self.dataObject(event.payload)),
            ]
        case .transactionState(let state):
            let name: String
            switch state {
            case .idle: name = "idle"
            case .inTransaction: name = "in_transaction"
            case .failed: name = "failed"
            }
            return [("state", .string(name))]
        case .notice(let notice):
            return [("notice", self.errorObject(notice))]
        case .notification(let channel, let payload, let processID):
            return [("channel", .string(channel)), ("payload", .string(payload)), ("process_id", .int(Int(processID)))]
        case .cancelRequested(let forwarded):
            return [("forwarded", .bool(forwarded))]
        case .connectionClosed(let reason):
            return [("reason", .string(reason))]
        case .recordingFailed(let message):
            return [("message", .string(message))]
        }
    }

    // MARK: - Session-file shapes

    private static func dataObject(_ payload: SessionEvent.Payload) -> LogJSON {
        switch payload {
        case .activity(let activity): return self.activityObject(activity)
        case .query(let query): return self.queryObject(query)
        case .result(let result): return self.resultObject(result)
        }
    }

    private static func activityObject(_ activity: SessionActivity) -> LogJSON {
        let details = activity.details
        let time = { (date: Date?) in date.map { LogJSON.string(LogTimestamp($0).rfc3339Microseconds) } }
        let fields: [(String, LogJSON?)] = [
            ("session_id", details.sessionID.map(LogJSON.string)),
            ("pseudo_user", details.pseudoUser.map(LogJSON.string)),
            ("start_time", time(details.startTime)),
            ("format_version", details.formatVersion.map(LogJSON.int)),
            ("proxy_version", details.proxyVersion.map(LogJSON.string)),
            ("client_address", details.clientAddress.map(LogJSON.string)),
            ("application_name", details.applicationName.map(LogJSON.string)),
            ("real_user", details.realUser.map(LogJSON.string)),
            ("database", details.database.map(LogJSON.string)),
            ("real_db_host", details.realDBHost.map(LogJSON.string)),
            ("real_db_port", details.realDBPort.map(LogJSON.string)),
            ("reason", details.reason.map(LogJSON.string)),
            ("end_time", time(details.endTime)),
            ("duration_ms", details.durationMS.map(LogJSON.milliseconds)),
            ("query_count", details.queryCount.map(LogJSON.int)),
        ]
        return .object([
            ("activity", .string(activity.activity)),
            ("details", .object(fields.compactMap { name, value in value.map { (name, $0) } })),
        ])
    }

    private static func queryObject(_ query: RecordedQuery) -> LogJSON {
        var fields: [(String, LogJSON)] = [
            ("query_number", .int(query.queryNumber)),
            ("sql", .string(query.sql)),
            ("protocol", .string(query.queryProtocol.rawValue)),
        ]
        if let statementName = query.statementName {
            fields.append(("statement_name", .string(statementName)))
        }
        if let portalName = query.portalName {
            fields.append(("portal_name", .string(portalName)))
        }
        if let parameters = query.parameters {
            let values = parameters.map { parameter in
                LogJSON.object([
                    ("value", parameter.value.map(LogJSON.string) ?? .null),
                    ("format", .string(parameter.format.rawValue)),
                ])
            }
            fields.append(("parameters", .array(values)))
        }
        if let types = query.parameterTypes {
            fields.append(("parameter_types", .array(types.map { .int(Int($0)) })))
        }
        if let formats = query.resultFormats {
            fields.append(("result_formats", .array(formats.map { .int(Int($0)) })))
        }
        if let maxRows = query.maxRows {
            fields.append(("max_rows", .int(Int(maxRows))))
        }
        if query.redacted {
            fields.append(("redacted", .bool(true)))
        }
        return .object(fields)
    }

    private static func resultObject(_ result: RecordedResult) -> LogJSON {
        var fields: [(String, LogJSON)] = [("query_number", .int(result.queryNumber))]
        fields += self.resultSetFields(result.result)
        if let sets = result.resultSets {
            fields.append(("result_sets", .array(sets.map { .object(self.resultSetFields($0)) })))
        }
        if let error = result.error {
            fields.append(("error", self.errorObject(error)))
        }
        if let notices = result.notices {
            fields.append(("notices", .array(notices.map(self.errorObject))))
        }
        fields.append(("duration_ms", .milliseconds(result.durationMS)))
        if let copyData = result.copyData {
            fields.append(("copy_data", .array(copyData.map(LogJSON.string))))
        }
        if let encoding = result.copyDataEncoding {
            fields.append(("copy_data_encoding", .string(encoding)))
        }
        if result.copyDataTruncated {
            fields.append(("copy_data_truncated", .bool(true)))
        }
        return .object(fields)
    }

    private static func resultSetFields(_ set: RecordedResultSet) -> [(String, LogJSON)] {
        var fields: [(String, LogJSON)] = [
            ("columns", .array(set.columns.map(LogJSON.string))),
            ("column_types", .array(set.columnTypes.map { .int(Int($0)) })),
            ("rows", .array(set.rows.map { row in .array(row.map { $0.map(LogJSON.string) ?? .null }) })),
            ("row_count", .int(set.rowCount)),
            ("command_tag", set.commandTag.map(LogJSON.string) ?? .null),
        ]
        if set.rowsTruncated {
            fields.append(("rows_truncated", .bool(true)))
        }
        if let digest = set.rowsDigest {
            fields.append(("rows_digest", .string(digest)))
        }
        return fields
    }

    private static func errorObject(_ error: RecordedError) -> LogJSON {
        var fields: [(String, LogJSON)] = [
            ("severity", .string(error.severity)),
            ("code", .string(error.code)),
            ("message", .string(error.message)),
        ]
        if let detail = error.detail {
            fields.append(("detail", .string(detail)))
        }
        if let hint = error.hint {
            fields.append(("hint", .string(hint)))
        }
        if let position = error.position {
            fields.append(("position", .string(position)))
        }
        return .object(fields)
    }
}

/// A JSON value whose objects keep their key order, so every log line reads `time`, `session`, `event` first.
///
/// Written like the session file (SessionEventJSON): same escaping, durations with at most three decimals.
enum LogJSON: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    /// A duration in milliseconds: rounded to the microsecond, `12.345`, `0.5`, `3`; NaN and infinities as 0.
    case milliseconds(Double)
    case string(String)
    case array([LogJSON])
    case object([(String, LogJSON)])

    /// Compact JSON text (RFC 8259), no whitespace between tokens.
    func encoded() -> String {
        var output = ""
        self.encode(into: &output)
        return output
    }

    private func encode(into output: inout String) {
        switch self {
        case .null:
            output += "null"
        case .bool(let value):
            output += value ? "true" : "false"
        case .int(let value):
            output += String(value)
        case .milliseconds(let value):
            // JSON has no NaN or infinity. `description` is the shortest text that reads back the same value.
            guard value.isFinite else {
                output += "0"
                return
            }
            let rounded = (value * 1000).rounded() / 1000
            if rounded == rounded.rounded(), abs(rounded) < 1e15 {
                output += String(Int64(rounded))
            } else {
                output += rounded.description
            }
        case .string(let value):
            Self.encodeString(value, into: &output)
        case .array(let values):
            output += "["
            for (index, value) in values.enumerated() {
                if index > 0 {
                    output += ","
                }
                value.encode(into: &output)
            }
            output += "]"
        case .object(let fields):
            output += "{"
            for (index, (key, value)) in fields.enumerated() {
                if index > 0 {
                    output += ","
                }
                Self.encodeString(key, into: &output)
                output += ":"
                value.encode(into: &output)
            }
            output += "}"
        }
    }

    private static func encodeString(_ value: String, into output: inout String) {
        output += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            default:
                // C0 controls (ESC included, so `tail -f` of the log is never driven by data), DEL, C1 controls and
                // the JavaScript line separators as \u escapes; everything else as UTF-8.
                let value = scalar.value
                if value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029 {
                    let hex = String(scalar.value, radix: 16, uppercase: false)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}

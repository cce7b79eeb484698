import Foundation

/// Why one JSON value is not a session event; `reason` is a short phrase naming the field, e.g.
/// `"data.sql" is a number, expected a string`.
public struct SessionEventDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { self.reason }
}

extension SessionEventJSON {
    /// Decodes one event from UTF-8 JSON text (one object).
    public static func decode(json: some Collection<UInt8>) throws(SessionEventDecodingError) -> SessionEvent {
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(json))
        } catch {
            throw SessionEventDecodingError(reason: "not valid JSON: \(error)")
        }
        return try self.decode(value)
    }

    /// Decodes one event from a parsed JSON value.
    ///
    /// Lenient, so that the seed's files and older or newer pgreel files read: unknown fields are ignored,
    /// missing optional fields take their defaults, timestamps may lack the fraction or carry an offset,
    /// `real_db_port` may be a string or a number, and an `error` that is a plain string becomes its message.
    /// Required: `type` (one of the three), `timestamp`, `data`; `data.activity` of a session_activity;
    /// `data.query_number` and `data.sql` of a query; `data.query_number` of a query_result.
    public static func decode(_ value: JSONValue) throws(SessionEventDecodingError) -> SessionEvent {
        guard case .object(let object) = value else {
            throw SessionEventDecodingError(reason: "the event is \(JSONFields.describe(value)), expected an object")
        }
        let event = JSONFields(object, path: "")
        let type = try event.string("type")
        guard let timestamp = try event.timestamp("timestamp") else {
            throw SessionEventDecodingError(reason: "\"timestamp\" is missing")
        }
        guard let data = try event.object("data") else {
            throw SessionEventDecodingError(reason: "\"data\" is missing")
        }
        switch type {
        case "session_activity":
            return SessionEvent(timestamp: timestamp, payload: .activity(try self.activity(data)))
        case "query":
            return SessionEvent(timestamp: timestamp, payload: .query(try self.query(data)))
        case "query_result":
            return SessionEvent(timestamp: timestamp, payload: .result(try self.result(data)))
        default:
            throw SessionEventDecodingError(
                reason: "\"type\" is \(JSONFields.quote(type)), expected session_activity, query or query_result"
            )
        }
    }

    private static func activity(_ data: JSONFields) throws(SessionEventDecodingError) -> SessionActivity {
        let activity = try data.string("activity")
        guard let details = try data.object("details") else {
            return SessionActivity(activity: activity, details: ActivityDetails())
        }
        return SessionActivity(
            activity: activity,
            details: ActivityDetails(
                sessionID: try details.optionalString("session_id"),
                pseudoUser: try details.optionalString("pseudo_user"),
                startTime: try details.timestamp("start_time"),
                formatVersion: try details.optionalInt("format_version"),
                proxyVersion: try details.optionalString("proxy_version"),
                clientAddress: try details.optionalString("client_address"),
                applicationName: try details.optionalString("application_name"),
                realUser: try details.optionalString("real_user"),
                database: try details.optionalString("database"),
                realDBHost: try details.optionalString("real_db_host"),
                realDBPort: try details.optionalText("real_db_port"),
                reason: try details.optionalString("reason"),
                endTime: try details.timestamp("end_time"),
                durationMS: try details.optionalDouble("duration_ms"),
                queryCount: try details.optionalInt("query_count")
            )
        )
    }

    private static func query(_ data: JSONFields) throws(SessionEventDecodingError) -> RecordedQuery {
        var queryProtocol = QueryProtocol.simple
        if let name = try data.optionalString("protocol") {
            guard let known = QueryProtocol(rawValue: name) else {
                throw SessionEventDecodingError(
                    reason: "\(data.name("protocol")) is \(JSONFields.quote(name)), expected simple or extended"
                )
            }
            queryProtocol = known
        }
        var parameters: [RecordedParameter]?
        if let list = try data.optionalArray("parameters") {
            var decoded: [RecordedParameter] = []
            decoded.reserveCapacity(list.count)
            for (index, element) in list.enumerated() {
                let parameter = try data.object(in: element, of: "parameters", at: index)
                var format = RecordedParameter.Format.text
                if let name = try parameter.optionalString("format") {
                    guard let known = RecordedParameter.Format(rawValue: name) else {
                        throw SessionEventDecodingError(
                            reason: "\(parameter.name("format")) is \(JSONFields.quote(name)), expected text or binary"
                        )
                    }
                    format = known
                }
                decoded.append(RecordedParameter(value: try parameter.optionalText("value"), format: format))
            }
            parameters = decoded
        }
        var maxRows: Int32?
        if let rows = try data.optionalInt("max_rows") {
            guard let narrow = Int32(exactly: rows) else {
                throw SessionEventDecodingError(reason: "\(data.name("max_rows")) is out of range")
            }
            maxRows = narrow
        }
        return RecordedQuery(
            queryNumber: try data.int("query_number"),
            sql: try data.string("sql"),
            queryProtocol: queryProtocol,
            statementName: try data.optionalString("statement_name"),
            portalName: try data.optionalString("portal_name"),
            parameters: parameters,
            parameterTypes: try data.optionalIntegers("parameter_types", as: UInt32.self),
            resultFormats: try data.optionalIntegers("result_formats", as: Int16.self),
            maxRows: maxRows,
            redacted: try data.optionalBool("redacted") ?? false
        )
    }

    private static func result(_ data: JSONFields) throws(SessionEventDecodingError) -> RecordedResult {
        var resultSets: [RecordedResultSet]?
        if let list = try data.optionalArray("result_sets") {
            var decoded: [RecordedResultSet] = []
            decoded.reserveCapacity(list.count)
            for (index, element) in list.enumerated() {
                let fields = try data.object(in: element, of: "result_sets", at: index)
                decoded.append(try self.resultSet(fields))
            }
            resultSets = decoded
        }
        var notices: [RecordedError]?
        if let list = try data.optionalArray("notices") {
            var decoded: [RecordedError] = []
            for (index, element) in list.enumerated() {
                decoded.append(try self.error(element, of: "notices", at: index, in: data))
            }
            notices = decoded
        }
        var error: RecordedError?
        if let value = data.value("error") {
            error = try self.error(value, of: "error", at: nil, in: data)
        }
        var copyData: [String]?
        if let list = try data.optionalArray("copy_data") {
            var decoded: [String] = []
            for (index, element) in list.enumerated() {
                guard case .string(let chunk) = element else {
                    throw SessionEventDecodingError(
                        reason: "\(data.name("copy_data", index)) is \(JSONFields.describe(element)), "
                            + "expected a string"
                    )
                }
                decoded.append(chunk)
            }
            copyData = decoded
        }
        var copyDataEncoding: CopyDataEncoding?
        if let name = try data.optionalString("copy_data_encoding") {
            guard let known = CopyDataEncoding(rawValue: name) else {
                throw SessionEventDecodingError(
                    reason: "\(data.name("copy_data_encoding")) is \(JSONFields.quote(name)), expected base64")
            }
            copyDataEncoding = known
        }
        return RecordedResult(
            queryNumber: try data.int("query_number"),
            result: try self.resultSet(data),
            resultSets: resultSets,
            error: error,
            notices: notices,
            durationMS: try data.optionalDouble("duration_ms") ?? 0,
            copyData: copyData,
            copyDataEncoding: copyDataEncoding,
            copyDataTruncated: try data.optionalBool("copy_data_truncated") ?? false
        )
    }

    private static func resultSet(_ fields: JSONFields) throws(SessionEventDecodingError) -> RecordedResultSet {
        var columns: [String] = []
        if let list = try fields.optionalArray("columns") {
            columns.reserveCapacity(list.count)
            for (index, element) in list.enumerated() {
                guard case .string(let column) = element else {
                    throw SessionEventDecodingError(
                        reason: "\(fields.name("columns", index)) is \(JSONFields.describe(element)), "
                            + "expected a string"
                    )
                }
                columns.append(column)
            }
        }
        var rows: [[String?]] = []
        if let list = try fields.optionalArray("rows") {
            rows.reserveCapacity(list.count)
            for (rowIndex, element) in list.enumerated() {
                guard case .array(let values) = element else {
                    throw SessionEventDecodingError(
                        reason: "\(fields.name("rows", rowIndex)) is \(JSONFields.describe(element)), "
                            + "expected an array"
                    )
                }
                var row: [String?] = []
                row.reserveCapacity(values.count)
                for (columnIndex, value) in values.enumerated() {
                    if value.isNull {
                        row.append(nil)
                        continue
                    }
                    guard let text = JSONFields.scalarText(value) else {
                        throw SessionEventDecodingError(
                            reason: "\(fields.name("rows", rowIndex, columnIndex)) is "
                                + "\(JSONFields.describe(value)), expected a string or null"
                        )
                    }
                    row.append(text)
                }
                rows.append(row)
            }
        }
        return RecordedResultSet(
            columns: columns,
            columnTypes: try fields.optionalIntegers("column_types", as: UInt32.self) ?? [],
            rows: rows,
            rowCount: try fields.optionalInt("row_count") ?? rows.count,
            commandTag: try fields.optionalString("command_tag"),
            rowsTruncated: try fields.optionalBool("rows_truncated") ?? false,
            rowsDigest: try fields.optionalString("rows_digest")
        )
    }

    /// The `error` field (index nil) or the notice at `index` of `notices`.
    private static func error(
        _ value: JSONValue, of key: String, at index: Int?, in parent: JSONFields
    ) throws(SessionEventDecodingError) -> RecordedError {
        if case .string(let message) = value {
            return RecordedError(severity: "ERROR", code: "", message: message)
        }
        let fields = try parent.object(in: value, of: key, at: index)
        return RecordedError(
            severity: try fields.optionalString("severity") ?? "ERROR",
            code: try fields.optionalString("code") ?? "",
            message: try fields.optionalString("message") ?? "",
            detail: try fields.optionalString("detail"),
            hint: try fields.optionalString("hint"),
            position: try fields.optionalText("position")
        )
    }
}

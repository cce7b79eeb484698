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
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(json), options: [.fragmentsAllowed])
        } catch {
            throw SessionEventDecodingError(reason: "not valid JSON")
        }
        return try self.decode(object)
    }

    /// Decodes one event from a value made by `JSONSerialization`.
    ///
    /// Lenient, so that the seed's files and older or newer pgreel files read: unknown fields are ignored,
    /// missing optional fields take their defaults, timestamps may lack the fraction or carry an offset,
    /// `real_db_port` may be a string or a number, and an `error` that is a plain string becomes its message.
    /// Required: `type` (one of the three), `timestamp`, `data`; `data.activity` of a session_activity;
    /// `data.query_number` and `data.sql` of a query; `data.query_number` of a query_result.
    public static func decode(_ object: Any) throws(SessionEventDecodingError) -> SessionEvent {
        guard let dictionary = object as? [String: Any] else {
            throw SessionEventDecodingError(reason: "the event is \(JSONFields.describe(object)), expected an object")
        }
        let event = JSONFields(dictionary, path: "")
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
                let parameter = try data.object(in: element, path: data.fieldPath("parameters") + "[\(index)]")
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
                let fields = try data.object(in: element, path: data.fieldPath("result_sets") + "[\(index)]")
                decoded.append(try self.resultSet(fields))
            }
            resultSets = decoded
        }
        var notices: [RecordedError]?
        if let list = try data.optionalArray("notices") {
            var decoded: [RecordedError] = []
            for (index, element) in list.enumerated() {
                decoded.append(try self.error(element, path: data.fieldPath("notices") + "[\(index)]", in: data))
            }
            notices = decoded
        }
        var error: RecordedError?
        if let value = data.value("error") {
            error = try self.error(value, path: data.fieldPath("error"), in: data)
        }
        var copyData: [String]?
        if let list = try data.optionalArray("copy_data") {
            var decoded: [String] = []
            for (index, element) in list.enumerated() {
                guard let chunk = element as? String else {
                    throw SessionEventDecodingError(
                        reason: "\(data.name("copy_data", index)) is \(JSONFields.describe(element)), "
                            + "expected a string"
                    )
                }
                decoded.append(chunk)
            }
            copyData = decoded
        }
        return RecordedResult(
            queryNumber: try data.int("query_number"),
            result: try self.resultSet(data),
            resultSets: resultSets,
            error: error,
            notices: notices,
            durationMS: try data.optionalDouble("duration_ms") ?? 0,
            copyData: copyData,
            copyDataEncoding: try data.optionalString("copy_data_encoding"),
            copyDataTruncated: try data.optionalBool("copy_data_truncated") ?? false
        )
    }

    private static func resultSet(_ fields: JSONFields) throws(SessionEventDecodingError) -> RecordedResultSet {
        var columns: [String] = []
        if let list = try fields.optionalArray("columns") {
            columns.reserveCapacity(list.count)
            for (index, element) in list.enumerated() {
                guard let column = element as? String else {
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
                guard let values = element as? [Any] else {
                    throw SessionEventDecodingError(
                        reason: "\(fields.name("rows", rowIndex)) is \(JSONFields.describe(element)), "
                            + "expected an array"
                    )
                }
                var row: [String?] = []
                row.reserveCapacity(values.count)
                for (columnIndex, value) in values.enumerated() {
                    if value is NSNull {
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

    private static func error(
        _ value: Any, path: String, in parent: JSONFields
    ) throws(SessionEventDecodingError) -> RecordedError {
        if let message = value as? String {
            return RecordedError(severity: "ERROR", code: "", message: message)
        }
        let fields = try parent.object(in: value, path: path)
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

/// Typed access to one JSON object, with the path of each field for error messages (`data.details.start_time`).
struct JSONFields {
    let dictionary: [String: Any]
    let path: String

    init(_ dictionary: [String: Any], path: String) {
        self.dictionary = dictionary
        self.path = path
    }

    /// The path of a field, e.g. `data.sql`.
    func fieldPath(_ key: String) -> String {
        self.path.isEmpty ? key : self.path + "." + key
    }

    /// The quoted path of a field or of an element inside it, for messages: `"data.sql"`, `"data.rows[2][0]"`.
    func name(_ key: String, _ indices: Int...) -> String {
        "\"" + self.fieldPath(key) + indices.map { "[\($0)]" }.joined() + "\""
    }

    /// The value of `key`; nil when missing or JSON null.
    func value(_ key: String) -> Any? {
        guard let value = self.dictionary[key], !(value is NSNull) else { return nil }
        return value
    }

    private func mismatch(_ key: String, _ value: Any, expected: String) -> SessionEventDecodingError {
        SessionEventDecodingError(reason: "\(self.name(key)) is \(Self.describe(value)), expected \(expected)")
    }

    func string(_ key: String) throws(SessionEventDecodingError) -> String {
        guard let value = self.value(key) else {
            throw SessionEventDecodingError(reason: "\(self.name(key)) is missing")
        }
        guard let string = value as? String else { throw self.mismatch(key, value, expected: "a string") }
        return string
    }

    func optionalString(_ key: String) throws(SessionEventDecodingError) -> String? {
        guard let value = self.value(key) else { return nil }
        guard let string = value as? String else { throw self.mismatch(key, value, expected: "a string") }
        return string
    }

    /// A string, or a number taken as its text (the seed wrote `real_db_port` either way).
    func optionalText(_ key: String) throws(SessionEventDecodingError) -> String? {
        guard let value = self.value(key) else { return nil }
        guard let string = Self.scalarText(value), !Self.isBoolean(value) else {
            throw self.mismatch(key, value, expected: "a string")
        }
        return string
    }

    func int(_ key: String) throws(SessionEventDecodingError) -> Int {
        guard let value = self.value(key) else {
            throw SessionEventDecodingError(reason: "\(self.name(key)) is missing")
        }
        guard let number = Self.integer(value) else { throw self.mismatch(key, value, expected: "an integer") }
        return number
    }

    func optionalInt(_ key: String) throws(SessionEventDecodingError) -> Int? {
        guard let value = self.value(key) else { return nil }
        guard let number = Self.integer(value) else { throw self.mismatch(key, value, expected: "an integer") }
        return number
    }

    func optionalDouble(_ key: String) throws(SessionEventDecodingError) -> Double? {
        guard let value = self.value(key) else { return nil }
        if let number = value as? NSNumber, !Self.isBoolean(number) {
            return number.doubleValue
        }
        if let string = value as? String, let number = Double(string) {
            return number
        }
        throw self.mismatch(key, value, expected: "a number")
    }

    func optionalBool(_ key: String) throws(SessionEventDecodingError) -> Bool? {
        guard let value = self.value(key) else { return nil }
        guard Self.isBoolean(value), let number = value as? NSNumber else {
            throw self.mismatch(key, value, expected: "true or false")
        }
        return number.boolValue
    }

    func timestamp(_ key: String) throws(SessionEventDecodingError) -> Date? {
        guard let value = self.value(key) else { return nil }
        guard let string = value as? String else {
            throw self.mismatch(key, value, expected: "an RFC 3339 timestamp")
        }
        guard let date = SessionTimestamp.parse(string) else {
            throw SessionEventDecodingError(
                reason: "\(self.name(key)) is \(Self.quote(string)), expected an RFC 3339 timestamp "
                    + "like 2025-10-07T21:30:15.123456Z"
            )
        }
        return date
    }

    func object(_ key: String) throws(SessionEventDecodingError) -> JSONFields? {
        guard let value = self.value(key) else { return nil }
        guard let dictionary = value as? [String: Any] else { throw self.mismatch(key, value, expected: "an object") }
        return JSONFields(dictionary, path: self.fieldPath(key))
    }

    /// A value that must be an object (an array element, say); `path` names it, e.g. `data.parameters[1]`.
    func object(in value: Any, path: String) throws(SessionEventDecodingError) -> JSONFields {
        guard let dictionary = value as? [String: Any] else {
            throw SessionEventDecodingError(reason: "\"\(path)\" is \(Self.describe(value)), expected an object")
        }
        return JSONFields(dictionary, path: path)
    }

    func optionalArray(_ key: String) throws(SessionEventDecodingError) -> [Any]? {
        guard let value = self.value(key) else { return nil }
        guard let array = value as? [Any] else { throw self.mismatch(key, value, expected: "an array") }
        return array
    }

    func optionalIntegers<Integer: FixedWidthInteger>(
        _ key: String, as type: Integer.Type
    ) throws(SessionEventDecodingError) -> [Integer]? {
        guard let list = try self.optionalArray(key) else { return nil }
        var result: [Integer] = []
        result.reserveCapacity(list.count)
        for (index, element) in list.enumerated() {
            guard let number = Self.integer(element), let narrow = Integer(exactly: number) else {
                throw SessionEventDecodingError(
                    reason: "\(self.name(key, index)) is \(Self.describe(element)), expected an integer "
                        + "from \(Integer.min) to \(Integer.max)"
                )
            }
            result.append(narrow)
        }
        return result
    }

    // MARK: Conversions

    /// An integer from a JSON number without fraction, or from a string of digits.
    static func integer(_ value: Any) -> Int? {
        if Self.isBoolean(value) {
            return nil
        }
        if let number = value as? Int {
            return number
        }
        if let number = value as? NSNumber {
            let double = number.doubleValue
            guard double.rounded() == double, abs(double) < 9.0e15 else { return nil }
            return Int(double)
        }
        if let string = value as? String {
            return Int(string)
        }
        return nil
    }

    /// JSON true or false. `value is Bool` cannot tell: Foundation bridges every NSNumber holding 0 or 1 to Bool.
    static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return type(of: number) == type(of: NSNumber(value: true))
    }

    /// A cell value other than null as text: a string, or a number or boolean written as PostgreSQL would.
    /// nil when the value is an array or an object.
    static func scalarText(_ value: Any) -> String? {
        if let string = value as? String {
            return string
        }
        if let number = value as? NSNumber {
            if Self.isBoolean(number) {
                return number.boolValue ? "t" : "f"
            }
            return number.stringValue
        }
        return nil
    }

    /// A short phrase for an unexpected value: `a number`, `the string "abc"`, `an array`.
    static func describe(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let string as String: return "the string \(Self.quote(string))"
        case let number as NSNumber: return Self.isBoolean(number) ? "a boolean" : "a number"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "a \(type(of: value))"
        }
    }

    /// A value from the file quoted for a one-line message: at most 40 characters, control characters escaped.
    static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars.prefix(40) {
            if scalar.properties.generalCategory == .control || scalar == "\"" || scalar == "\\" {
                result += scalar.escaped(asASCII: true)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        if text.unicodeScalars.count > 40 {
            result += "…"
        }
        return result + "\""
    }
}

import Foundation

/// Appends JSON to a byte array: the one writer of the session events' shapes, for the session file (whole) and for
/// the JSON log (`limits` set: cut to what a log line should carry), so the two cannot drift apart. Keys are static
/// ASCII; strings are escaped per RFC 8259.
///
/// Commas: `needsComma` is true whenever a value was just completed, so `key` and `element` know whether a
/// separator must come first; a container that opens resets it.
struct SessionJSONWriter {
    /// How much of an event a log line carries. The session file has no limits: it is the record.
    struct Limits: Sendable, Equatable {
        /// Bytes of a value (a result cell, a parameter, a COPY chunk) before it is cut with `…`.
        var valueBytes: Int
        /// Bytes of any other string (SQL, a message, a name) before it is cut with `…`.
        var textBytes: Int
        /// Rows of a result set, and chunks of COPY data, before the rest is left out (`rows_truncated` is set).
        var rows: Int

        /// The JSON log's: a line stays small enough for `tail -f`, `jq` and a log shipper whatever a client sent
        /// (at most about `rows` × columns × `valueBytes`), and still shows what a dashboard's cell or detail would.
        static let log = Limits(valueBytes: 4096, textBytes: 65_536, rows: 100)
    }

    /// What was left out under `limits`, so the line can say so.
    struct Cuts: Sendable, Equatable {
        /// Strings cut short.
        var values = 0
        /// Rows (and COPY chunks) left out.
        var rows = 0

        var isEmpty: Bool { self.values == 0 && self.rows == 0 }
    }

    var bytes: [UInt8]
    private var needsComma = false
    let limits: Limits?
    private(set) var cuts = Cuts()

    init(bytes: [UInt8], limits: Limits? = nil) {
        self.bytes = bytes
        self.limits = limits
    }

    // MARK: Events

    mutating func event(_ event: SessionEvent) {
        self.beginObject()
        self.eventFields(event)
        self.endObject()
    }

    /// `"type"`, `"timestamp"` and `"data"` of an event, inside an object that is already open (a log line).
    mutating func eventFields(_ event: SessionEvent) {
        self.key("type")
        self.ascii(event.typeName)
        self.key("timestamp")
        self.timestamp(event.timestamp)
        self.key("data")
        switch event.payload {
        case .activity(let activity):
            self.activity(activity)
        case .query(let query):
            self.query(query)
        case .result(let result):
            self.result(result)
        }
    }

    private mutating func activity(_ activity: SessionActivity) {
        let details = activity.details
        self.beginObject()
        self.key("activity")
        self.string(activity.activity)
        self.key("details")
        self.beginObject()
        self.field("session_id", details.sessionID)
        self.field("pseudo_user", details.pseudoUser)
        if let startTime = details.startTime {
            self.key("start_time")
            self.timestamp(startTime)
        }
        if let formatVersion = details.formatVersion {
            self.key("format_version")
            self.int(formatVersion)
        }
        self.field("proxy_version", details.proxyVersion)
        self.field("client_address", details.clientAddress)
        self.field("application_name", details.applicationName)
        self.field("real_user", details.realUser)
        self.field("database", details.database)
        self.field("real_db_host", details.realDBHost)
        self.field("real_db_port", details.realDBPort)
        self.field("reason", details.reason)
        if let endTime = details.endTime {
            self.key("end_time")
            self.timestamp(endTime)
        }
        if let durationMS = details.durationMS {
            self.key("duration_ms")
            self.milliseconds(durationMS)
        }
        if let queryCount = details.queryCount {
            self.key("query_count")
            self.int(queryCount)
        }
        self.endObject()
        self.endObject()
    }

    private mutating func query(_ query: RecordedQuery) {
        self.beginObject()
        self.key("query_number")
        self.int(query.queryNumber)
        self.key("sql")
        self.string(query.sql)
        self.key("protocol")
        self.ascii(query.queryProtocol.rawValue)
        self.field("statement_name", query.statementName)
        self.field("portal_name", query.portalName)
        if let parameters = query.parameters {
            self.key("parameters")
            self.beginArray()
            for parameter in parameters {
                self.element()
                self.beginObject()
                self.key("value")
                self.optionalValue(parameter.value)
                self.key("format")
                self.ascii(parameter.format.rawValue)
                self.endObject()
            }
            self.endArray()
        }
        if let parameterTypes = query.parameterTypes {
            self.key("parameter_types")
            self.intArray(parameterTypes)
        }
        if let resultFormats = query.resultFormats {
            self.key("result_formats")
            self.intArray(resultFormats)
        }
        if let maxRows = query.maxRows {
            self.key("max_rows")
            self.int(Int(maxRows))
        }
        if query.redacted {
            self.key("redacted")
            self.literal("true")
        }
        self.endObject()
    }

    private mutating func result(_ result: RecordedResult) {
        self.beginObject()
        self.key("query_number")
        self.int(result.queryNumber)
        self.resultSetFields(result.result)
        if let resultSets = result.resultSets {
            self.key("result_sets")
            self.beginArray()
            for resultSet in resultSets {
                self.element()
                self.beginObject()
                self.resultSetFields(resultSet)
                self.endObject()
            }
            self.endArray()
        }
        if let error = result.error {
            self.key("error")
            self.error(error)
        }
        if let notices = result.notices {
            self.key("notices")
            self.beginArray()
            for notice in notices {
                self.element()
                self.error(notice)
            }
            self.endArray()
        }
        self.key("duration_ms")
        self.milliseconds(result.durationMS)
        if let copyData = result.copyData {
            self.key("copy_data")
            self.beginArray()
            for chunk in copyData.prefix(self.limits?.rows ?? .max) {
                self.element()
                self.value(chunk)
            }
            self.endArray()
            self.cuts.rows += max(copyData.count - (self.limits?.rows ?? .max), 0)
        }
        if let encoding = result.copyDataEncoding {
            self.key("copy_data_encoding")
            self.ascii(encoding.rawValue)
        }
        if result.copyDataTruncated || (result.copyData?.count ?? 0) > (self.limits?.rows ?? .max) {
            self.key("copy_data_truncated")
            self.literal("true")
        }
        self.endObject()
    }

    /// The fields of a result set, inside an object that is already open.
    private mutating func resultSetFields(_ resultSet: RecordedResultSet) {
        self.key("columns")
        self.beginArray()
        for column in resultSet.columns {
            self.element()
            self.string(column)
        }
        self.endArray()
        self.key("column_types")
        self.intArray(resultSet.columnTypes)
        self.key("rows")
        self.beginArray()
        let shownRows = self.limits.map { min($0.rows, resultSet.rows.count) } ?? resultSet.rows.count
        for row in resultSet.rows[..<shownRows] {
            self.element()
            self.beginArray()
            for value in row {
                self.element()
                self.optionalValue(value)
            }
            self.endArray()
        }
        self.endArray()
        self.cuts.rows += resultSet.rows.count - shownRows
        self.key("row_count")
        self.int(resultSet.rowCount)
        self.key("command_tag")
        self.optionalString(resultSet.commandTag)
        if resultSet.rowsTruncated || shownRows < resultSet.rows.count {
            self.key("rows_truncated")
            self.literal("true")
        }
        self.field("rows_digest", resultSet.rowsDigest)
    }

    mutating func error(_ error: RecordedError) {
        self.beginObject()
        self.key("severity")
        self.string(error.severity)
        self.key("code")
        self.string(error.code)
        self.key("message")
        self.string(error.message)
        self.field("detail", error.detail)
        self.field("hint", error.hint)
        self.field("position", error.position)
        self.endObject()
    }

    // MARK: Structure

    mutating func beginObject() {
        self.bytes.append(UInt8(ascii: "{"))
        self.needsComma = false
    }

    mutating func endObject() {
        self.bytes.append(UInt8(ascii: "}"))
        self.needsComma = true
    }

    mutating func beginArray() {
        self.bytes.append(UInt8(ascii: "["))
        self.needsComma = false
    }

    mutating func endArray() {
        self.bytes.append(UInt8(ascii: "]"))
        self.needsComma = true
    }

    /// Writes `"name":`, after a comma when a field came before.
    mutating func key(_ name: StaticString) {
        if self.needsComma {
            self.bytes.append(UInt8(ascii: ","))
        }
        self.needsComma = true
        self.bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
        self.bytes.append(UInt8(ascii: "\""))
        self.bytes.append(UInt8(ascii: ":"))
    }

    /// Call before each array element.
    mutating func element() {
        if self.needsComma {
            self.bytes.append(UInt8(ascii: ","))
        }
        self.needsComma = true
    }

    /// A string field, left out when nil.
    mutating func field(_ name: StaticString, _ value: String?) {
        if let value {
            self.key(name)
            self.string(value)
        }
    }

    // MARK: Values

    mutating func bool(_ value: Bool) {
        self.literal(value ? "true" : "false")
    }

    mutating func literal(_ text: StaticString) {
        text.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
    }

    /// A string known to need no escaping (type names, enum raw values).
    mutating func ascii(_ text: String) {
        self.bytes.append(UInt8(ascii: "\""))
        self.bytes.append(contentsOf: text.utf8)
        self.bytes.append(UInt8(ascii: "\""))
    }

    mutating func optionalString(_ value: String?) {
        if let value {
            self.string(value)
        } else {
            self.literal("null")
        }
    }

    /// A string: whole in a session file, cut to `limits.textBytes` in a log line.
    mutating func string(_ value: String) {
        self.string(value, maxBytes: self.limits?.textBytes)
    }

    /// A value of the data (a result cell, a parameter, COPY data): cut to `limits.valueBytes` in a log line.
    mutating func value(_ value: String) {
        self.string(value, maxBytes: self.limits?.valueBytes)
    }

    mutating func optionalValue(_ value: String?) {
        if let value {
            self.value(value)
        } else {
            self.literal("null")
        }
    }

    private mutating func string(_ value: String, maxBytes: Int?) {
        self.bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            guard let maxBytes, utf8.count > maxBytes else {
                self.escaped(utf8)
                return
            }
            // Cut on a character boundary (never inside a UTF-8 sequence), then say so with `…`.
            var end = maxBytes
            while end > 0, utf8[end] & 0xC0 == 0x80 {
                end -= 1
            }
            self.escaped(UnsafeBufferPointer(rebasing: utf8[..<end]))
            self.bytes += [0xE2, 0x80, 0xA6]
            self.cuts.values += 1
        }
        self.bytes.append(UInt8(ascii: "\""))
    }

    /// Appends UTF-8 text escaped for a JSON string: `"` and `\`, every C0 control character, DEL, the C1
    /// controls U+0080...U+009F (so that `cat` of a session file cannot send terminal escape sequences), and the
    /// line and paragraph separators U+2028 and U+2029 (JavaScript-based readers of a log take them for line ends).
    ///
    /// Swift strings always hold valid UTF-8 (invalid input is repaired with U+FFFD when the String is made), so
    /// every other byte is copied as it is, in runs.
    private mutating func escaped(_ text: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        var index = 0
        let count = text.count
        while index < count {
            let byte = text[index]
            if byte >= 0x20, byte != 0x22, byte != 0x5C, byte != 0x7F, byte != 0xC2, byte != 0xE2 {
                index += 1
                continue
            }
            var escapedScalar = UInt8(0)
            var width = 1
            if byte == 0xE2 {
                // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
                guard index + 2 < count, text[index + 1] == 0x80, text[index + 2] == 0xA8 || text[index + 2] == 0xA9
                else {
                    index += 1
                    continue
                }
                if runStart < index {
                    self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart..<index]))
                }
                self.bytes += Array(text[index + 2] == 0xA8 ? "\\u2028".utf8 : "\\u2029".utf8)
                index += 3
                runStart = index
                continue
            }
            if byte == 0xC2 {
                guard index + 1 < count, text[index + 1] <= 0x9F else {
                    index += 1
                    continue
                }
                escapedScalar = text[index + 1]
                width = 2
            } else {
                escapedScalar = byte
            }
            if runStart < index {
                self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart..<index]))
            }
            self.escape(escapedScalar)
            index += width
            runStart = index
        }
        if runStart < count {
            self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart..<count]))
        }
    }

    private mutating func escape(_ scalar: UInt8) {
        self.bytes.append(UInt8(ascii: "\\"))
        switch scalar {
        case 0x22: self.bytes.append(UInt8(ascii: "\""))
        case 0x5C: self.bytes.append(UInt8(ascii: "\\"))
        case 0x0A: self.bytes.append(UInt8(ascii: "n"))
        case 0x0D: self.bytes.append(UInt8(ascii: "r"))
        case 0x09: self.bytes.append(UInt8(ascii: "t"))
        case 0x08: self.bytes.append(UInt8(ascii: "b"))
        case 0x0C: self.bytes.append(UInt8(ascii: "f"))
        default:
            let hex: StaticString = "0123456789abcdef"
            self.bytes.append(UInt8(ascii: "u"))
            self.bytes.append(UInt8(ascii: "0"))
            self.bytes.append(UInt8(ascii: "0"))
            hex.withUTF8Buffer { digits in
                self.bytes.append(digits[Int(scalar >> 4)])
                self.bytes.append(digits[Int(scalar & 0x0F)])
            }
        }
    }

    mutating func int(_ value: Int) {
        if value < 0 {
            self.bytes.append(UInt8(ascii: "-"))
        }
        // The magnitude as UInt so that Int.min does not overflow.
        var magnitude = value.magnitude
        let start = self.bytes.count
        repeat {
            self.bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        self.bytes[start...].reverse()
    }

    mutating func intArray<Integer: BinaryInteger>(_ values: [Integer]) {
        self.beginArray()
        for value in values {
            self.element()
            self.int(Int(value))
        }
        self.endArray()
    }

    /// A duration in milliseconds with at most three decimals (microsecond precision) and no exponent:
    /// `12.345`, `0.5`, `3`. Not-a-number and infinities, which JSON cannot hold, are written as 0.
    mutating func milliseconds(_ value: Double) {
        guard value.isFinite else {
            self.bytes.append(UInt8(ascii: "0"))
            return
        }
        let thousandths = (value * 1000).rounded()
        guard abs(thousandths) < 9.0e15 else {
            // Beyond exact integers in a Double; Swift's shortest form is still valid JSON.
            self.bytes.append(contentsOf: "\(value)".utf8)
            return
        }
        let scaled = Int64(thousandths)
        if scaled < 0 {
            self.bytes.append(UInt8(ascii: "-"))
        }
        let magnitude = scaled.magnitude
        self.int(Int(magnitude / 1000))
        var fraction = Int(magnitude % 1000)
        guard fraction != 0 else { return }
        self.bytes.append(UInt8(ascii: "."))
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        SessionTimestamp.appendDigits(Int64(fraction), count: digits, to: &self.bytes)
    }

    mutating func timestamp(_ date: Date) {
        self.bytes.append(UInt8(ascii: "\""))
        SessionTimestamp.append(date, to: &self.bytes)
        self.bytes.append(UInt8(ascii: "\""))
    }
}

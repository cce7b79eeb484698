import Foundation

/// Typed access to one JSON object of a session event, naming each field by its path in error messages
/// (`"data.details.start_time"`, `"data.parameters[1].format"`).
///
/// The lenient rules of the format (docs/session-format.md) live here: JSON null counts as absent, integers and
/// numbers may come as strings, a cell or a port may be a number taken as its literal text.
struct JSONFields {
    let object: JSONObject
    /// The path of the field that holds this object (`data.details`), "" for the event itself.
    private let location: String
    /// The object's index when it is an element of the array at `location`. Kept apart so that the path text is
    /// only built for an error message, not for every element read.
    private let index: Int?

    init(_ object: JSONObject, path: String, index: Int? = nil) {
        self.object = object
        self.location = path
        self.index = index
    }

    /// This object's path, e.g. `data.parameters[1]`.
    var path: String {
        guard let index = self.index else { return self.location }
        return "\(self.location)[\(index)]"
    }

    /// The path of a field, e.g. `data.sql`.
    func fieldPath(_ key: String) -> String {
        let path = self.path
        return path.isEmpty ? key : path + "." + key
    }

    /// The quoted path of a field or of an element inside it, for messages: `"data.sql"`, `"data.rows[2][0]"`.
    func name(_ key: String, _ indices: Int...) -> String {
        "\"" + self.fieldPath(key) + indices.map { "[\($0)]" }.joined() + "\""
    }

    /// The value of `key`; nil when missing or JSON null.
    func value(_ key: String) -> JSONValue? {
        guard let value = self.object[key], !value.isNull else { return nil }
        return value
    }

    private func mismatch(_ key: String, _ value: JSONValue, expected: String) -> SessionEventDecodingError {
        SessionEventDecodingError(reason: "\(self.name(key)) is \(Self.describe(value)), expected \(expected)")
    }

    func string(_ key: String) throws(SessionEventDecodingError) -> String {
        guard let value = self.value(key) else {
            throw SessionEventDecodingError(reason: "\(self.name(key)) is missing")
        }
        guard case .string(let string) = value else { throw self.mismatch(key, value, expected: "a string") }
        return string
    }

    func optionalString(_ key: String) throws(SessionEventDecodingError) -> String? {
        guard let value = self.value(key) else { return nil }
        guard case .string(let string) = value else { throw self.mismatch(key, value, expected: "a string") }
        return string
    }

    /// A string, or a number taken as its text (the seed wrote `real_db_port` either way).
    func optionalText(_ key: String) throws(SessionEventDecodingError) -> String? {
        guard let value = self.value(key) else { return nil }
        switch value {
        case .string(let string):
            return string
        case .number(let number):
            return number.text
        default:
            throw self.mismatch(key, value, expected: "a string")
        }
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
        switch value {
        case .number(let number):
            return number.double
        case .string(let string):
            if let number = Double(string) {
                return number
            }
        default:
            break
        }
        throw self.mismatch(key, value, expected: "a number")
    }

    func optionalBool(_ key: String) throws(SessionEventDecodingError) -> Bool? {
        guard let value = self.value(key) else { return nil }
        guard case .bool(let flag) = value else { throw self.mismatch(key, value, expected: "true or false") }
        return flag
    }

    func timestamp(_ key: String) throws(SessionEventDecodingError) -> Date? {
        guard let value = self.value(key) else { return nil }
        guard case .string(let string) = value else {
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
        guard case .object(let object) = value else { throw self.mismatch(key, value, expected: "an object") }
        return JSONFields(object, path: self.fieldPath(key))
    }

    /// A value that must be an object: the field `key` itself (index nil) or its element at `index`, e.g. the
    /// second of `data.parameters`.
    func object(in value: JSONValue, of key: String, at index: Int?) throws(SessionEventDecodingError) -> JSONFields {
        guard case .object(let object) = value else {
            let name = index.map { self.name(key, $0) } ?? self.name(key)
            throw SessionEventDecodingError(reason: "\(name) is \(Self.describe(value)), expected an object")
        }
        return JSONFields(object, path: self.fieldPath(key), index: index)
    }

    func optionalArray(_ key: String) throws(SessionEventDecodingError) -> [JSONValue]? {
        guard let value = self.value(key) else { return nil }
        guard case .array(let array) = value else { throw self.mismatch(key, value, expected: "an array") }
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

    /// An integer from a JSON number without fraction (`12`, also `12.0` and `1.2e1` below 2^53), or from a
    /// string of digits.
    static func integer(_ value: JSONValue) -> Int? {
        switch value {
        case .number(let number):
            if let exact = number.exactInteger {
                return exact
            }
            let double = number.double
            guard double.rounded() == double, abs(double) < 9.0e15 else { return nil }
            return Int(double)
        case .string(let string):
            return Int(string)
        default:
            return nil
        }
    }

    /// A cell value other than null as text: a string, a number as its literal (an int8 keeps every digit), a
    /// boolean as PostgreSQL writes it (`t`, `f`). nil for an array or an object.
    static func scalarText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let string):
            return string
        case .number(let number):
            return number.text
        case .bool(let flag):
            return flag ? "t" : "f"
        case .null, .array, .object:
            return nil
        }
    }

    /// A short phrase for an unexpected value: `a number`, `the string "abc"`, `an array`.
    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .string(let string): return "the string \(Self.quote(string))"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .array: return "an array"
        case .object: return "an object"
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

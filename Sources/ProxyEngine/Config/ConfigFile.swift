import Foundation
import TOMLKit

/// The contents of a pgreel TOML config file, checked key by key but not yet merged with flags and defaults
/// (`ProxyConfiguration.resolve` does that). The shape is documented in docs/configuration.md:
///
/// ```toml
/// listen = "127.0.0.1:5433"
/// upstream = "local"              # default upstream of users that name none
/// [upstreams.local]
/// url = "postgres://postgres@localhost:5432/postgres"
/// [[users]]
/// name = "alice"
/// password = "alice-secret"
/// upstream = "local"
/// ```
///
/// Unknown keys are errors (with a "did you mean" for typos), and so is a value of the wrong type: a misspelt
/// setting must never be ignored silently.
public struct ConfigFile: Sendable, Equatable {
    /// An `[upstreams.NAME]` table.
    public struct Upstream: Sendable, Equatable {
        public var name: String
        public var url: UpstreamURL
        /// The `password` key (the URL's own password is in `url.password`).
        public var password: String?
        /// The `password_env` key: the environment variable holding the real password.
        public var passwordEnvironmentVariable: String?

        public init(name: String, url: UpstreamURL, password: String? = nil, passwordEnvironmentVariable: String? = nil)
        {
            self.name = name
            self.url = url
            self.password = password
            self.passwordEnvironmentVariable = passwordEnvironmentVariable
        }
    }

    /// What a user's `upstream` key (or the top-level `upstream`) points at.
    public enum UpstreamReference: Sendable, Equatable {
        /// The name of an `[upstreams.NAME]` table (checked to exist).
        case named(String)
        case url(UpstreamURL)
    }

    /// A `[[users]]` entry.
    public struct User: Sendable, Equatable {
        public var name: String
        public var password: String?
        /// The `auth` key; nil when omitted (scram-sha-256 with a password, trust without).
        public var authMethod: AuthMethod?
        /// nil when omitted: the default upstream applies.
        public var upstream: UpstreamReference?
        public var databases: [String]?
        public var maxConnections: Int?

        public init(
            name: String, password: String? = nil, authMethod: AuthMethod? = nil, upstream: UpstreamReference? = nil,
            databases: [String]? = nil, maxConnections: Int? = nil
        ) {
            self.name = name
            self.password = password
            self.authMethod = authMethod
            self.upstream = upstream
            self.databases = databases
            self.maxConnections = maxConnections
        }
    }

    public var path: String
    public var listen: ListenAddress?
    public var upstream: UpstreamReference?
    public var sessions: String?
    public var record: Bool?
    public var maxRecordedRows: Int?
    public var logFormat: LogFormat?
    public var quiet: Bool?
    /// `tls_cert`, `tls_key`, `tls_required`: TLS toward clients.
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var tlsRequired: Bool?
    /// `max_connections`: client sessions at once.
    public var maxConnections: Int?
    /// `auth_timeout`: seconds a client may take to authenticate.
    public var authTimeout: Int?
    /// The `[upstreams.NAME]` tables, sorted by name.
    public var upstreams: [Upstream]
    /// The `[[users]]` entries, in file order.
    public var users: [User]

    public init(
        path: String, listen: ListenAddress? = nil, upstream: UpstreamReference? = nil, sessions: String? = nil,
        record: Bool? = nil, maxRecordedRows: Int? = nil, logFormat: LogFormat? = nil, quiet: Bool? = nil,
        upstreams: [Upstream] = [], users: [User] = []
    ) {
        self.path = path
        self.listen = listen
        self.upstream = upstream
        self.sessions = sessions
        self.record = record
        self.maxRecordedRows = maxRecordedRows
        self.logFormat = logFormat
        self.quiet = quiet
        self.upstreams = upstreams
        self.users = users
    }

    /// True when the file holds a secret: a user's password, an upstream `password`, or a password in a URL.
    public var containsPasswords: Bool {
        if self.users.contains(where: { $0.password != nil }) {
            return true
        }
        if self.upstreams.contains(where: { $0.password != nil || $0.url.password != nil }) {
            return true
        }
        if case .url(let url) = self.upstream, url.password != nil {
            return true
        }
        return self.users.contains { user in
            if case .url(let url) = user.upstream { return url.password != nil }
            return false
        }
    }

    public func upstream(named name: String) -> Upstream? {
        self.upstreams.first { $0.name == name }
    }

    static let topLevelKeys = [
        "listen", "upstream", "sessions", "record", "max_recorded_rows", "log_format", "quiet", "tls_cert", "tls_key",
        "tls_required", "max_connections", "auth_timeout", "upstreams", "users",
    ]
    static let upstreamKeys = ["url", "password", "password_env"]
    static let userKeys = ["name", "password", "auth", "upstream", "databases", "max_connections"]

    /// Parses and checks a config file. `path` is only used in error messages; `environment` supplies a missing
    /// URL user name (PGUSER, USER), as for `--upstream`.
    public static func parse(
        _ text: String, path: String, environment: [String: String] = [:]
    ) throws(ConfigError) -> ConfigFile {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let source = error.source.begin
            throw .inFile(
                path: path, table: nil,
                .tomlSyntax(line: source.line, column: source.column, message: error.description)
            )
        } catch {
            throw .inFile(path: path, table: nil, .tomlSyntax(line: 0, column: 0, message: "\(error)"))
        }
        let top = TableReader(table: root, path: path, location: nil)
        try top.checkKeys(Self.topLevelKeys)

        var file = ConfigFile(path: path)
        if let listen = try top.string("listen") {
            file.listen = try top.located { () throws(ConfigError) in try ListenAddress(parsing: listen) }
        }
        file.sessions = try top.string("sessions")
        if file.sessions?.isEmpty == true {
            throw top.error(.invalidValue(key: "sessions", reason: "must not be empty"))
        }
        file.record = try top.bool("record")
        file.maxRecordedRows = try top.int("max_recorded_rows")
        try top.located { () throws(ConfigError) in
            try SettingRange.maxRecordedRows.check(file.maxRecordedRows, key: "max_recorded_rows")
        }
        if let format = try top.string("log_format") {
            file.logFormat = try top.located { () throws(ConfigError) in try LogFormat(name: format) }
        }
        file.quiet = try top.bool("quiet")
        file.tlsCertificate = try top.string("tls_cert")
        file.tlsKey = try top.string("tls_key")
        for (key, value) in [("tls_cert", file.tlsCertificate), ("tls_key", file.tlsKey)] where value?.isEmpty == true {
            throw top.error(.invalidValue(key: key, reason: "must not be empty"))
        }
        file.tlsRequired = try top.bool("tls_required")
        file.maxConnections = try top.int("max_connections")
        try top.located { () throws(ConfigError) in
            try SettingRange.maxConnections.check(file.maxConnections, key: "max_connections")
        }
        file.authTimeout = try top.int("auth_timeout")
        try top.located { () throws(ConfigError) in
            try SettingRange.authTimeout.check(file.authTimeout, key: "auth_timeout")
        }

        if let upstreams = try top.table("upstreams", expected: "a table of [upstreams.NAME] tables") {
            for (name, value) in upstreams {
                let location = "upstreams.\(name)"
                guard let table = value.table else {
                    throw top.error(
                        .wrongType(key: location, expected: "a table with a url key", found: Self.phrase(value.type))
                    )
                }
                let reader = TableReader(table: table, path: path, location: location)
                file.upstreams.append(try Self.parseUpstream(name: name, reader, environment: environment))
            }
        }
        let upstreamNames = file.upstreams.map(\.name)

        if let reference = try top.string("upstream") {
            file.upstream = try top.located { () throws(ConfigError) in
                try Self.reference(reference, upstreams: upstreamNames, environment: environment)
            }
        }

        if let users = top.table["users"] {
            guard let array = users.array, array.allSatisfy({ $0.type == .table }) else {
                let found = users.type == .table ? "a single [users] table" : Self.phrase(users.type)
                throw top.error(.wrongType(key: "users", expected: "an array of [[users]] tables", found: found))
            }
            for (index, element) in array.enumerated() {
                let reader = TableReader(table: element.table!, path: path, location: "users #\(index + 1)")
                file.users.append(try Self.parseUser(reader, upstreams: upstreamNames, environment: environment))
            }
        }
        return file
    }

    private static func parseUpstream(
        name: String, _ reader: TableReader, environment: [String: String]
    ) throws(ConfigError) -> Upstream {
        try reader.checkKeys(Self.upstreamKeys)
        guard let urlText = try reader.string("url") else {
            throw reader.error(.missingKey("url"))
        }
        let url = try reader.located { () throws(ConfigError) in
            try UpstreamURL(parsing: urlText, environment: environment)
        }
        let password = try reader.string("password")
        let variable = try reader.string("password_env")
        if password != nil, url.password != nil {
            throw reader.error(.conflictingKeys("url", "password", reason: "the URL already holds a password"))
        }
        if variable != nil, password != nil || url.password != nil {
            let inline = password != nil ? "password" : "url"
            throw reader.error(.conflictingKeys(inline, "password_env", reason: "give the real password one way only"))
        }
        if let variable, variable.isEmpty {
            throw reader.error(.invalidValue(key: "password_env", reason: "must name an environment variable"))
        }
        return Upstream(name: name, url: url, password: password, passwordEnvironmentVariable: variable)
    }

    private static func parseUser(
        _ start: TableReader, upstreams: [String], environment: [String: String]
    ) throws(ConfigError) -> User {
        try start.checkKeys(Self.userKeys)
        guard let name = try start.string("name") else {
            throw start.error(.missingKey("name"))
        }
        try start.located { () throws(ConfigError) in try Self.checkUserName(name) }
        // From here on, errors name the user as well as its position.
        let reader = TableReader(table: start.table, path: start.path, location: "\(start.location!) (\"\(name)\")")
        var user = User(name: name)
        user.password = try reader.string("password")
        if let auth = try reader.string("auth") {
            user.authMethod = try reader.located { () throws(ConfigError) in try AuthMethod(name: auth) }
        }
        if let reference = try reader.string("upstream") {
            user.upstream = try reader.located { () throws(ConfigError) in
                try Self.reference(reference, upstreams: upstreams, environment: environment)
            }
        }
        user.databases = try reader.stringArray("databases")
        if let databases = user.databases {
            if databases.isEmpty {
                throw reader.error(
                    .invalidValue(key: "databases", reason: "must list at least one database (omit it to allow any)")
                )
            }
            if databases.contains(where: \.isEmpty) {
                throw reader.error(.invalidValue(key: "databases", reason: "must not contain an empty name"))
            }
        }
        user.maxConnections = try reader.int("max_connections")
        try reader.located { () throws(ConfigError) in
            try SettingRange.maxConnections.check(user.maxConnections, key: "max_connections")
        }
        if let password = user.password, password.isEmpty {
            throw reader.error(
                .invalidValue(key: "password", reason: "must not be empty (omit it to accept any password)")
            )
        }
        try reader.located { () throws(ConfigError) in
            try Self.checkAuth(user: name, password: user.password, method: user.authMethod)
        }
        return user
    }

    /// A name of an `[upstreams.NAME]` table, or a URL (anything with `://`).
    static func reference(
        _ text: String, upstreams: [String], environment: [String: String]
    ) throws(ConfigError) -> UpstreamReference {
        if text.contains("://") {
            return .url(try UpstreamURL(parsing: text, environment: environment))
        }
        guard upstreams.contains(text) else {
            throw .unknownUpstream(name: text, defined: upstreams)
        }
        return .named(text)
    }

    /// Names clients can actually send in a startup message.
    static func checkUserName(_ name: String) throws(ConfigError) {
        if name.isEmpty {
            throw .emptyUserName
        }
        if name.utf8.contains(0) {
            throw .invalidUserName(name.replacingNUL(), reason: "it contains a NUL character")
        }
    }

    /// A password-checking method needs a password; trust must not carry one that would be ignored.
    static func checkAuth(user: String, password: String?, method: AuthMethod?) throws(ConfigError) {
        switch (method, password) {
        case (.some(let method), nil) where method.requiresPassword:
            throw .passwordRequired(user: user, authMethod: method)
        case (.some(.trust), .some):
            throw .passwordWithTrust(user: user)
        default:
            return
        }
    }

    /// "an integer", "a string" ... for messages about a value of the wrong type.
    static func phrase(_ type: TOMLType) -> String {
        switch type {
        case .table: return "a table"
        case .array: return "an array"
        case .string: return "a string"
        case .int: return "an integer"
        case .double: return "a floating-point number"
        case .bool: return "a boolean"
        case .date: return "a date"
        case .time: return "a time"
        case .dateTime: return "a date-time"
        }
    }

    /// The valid key closest to a misspelt one, when it is close enough to be a typo.
    static func suggestion(for key: String, among validKeys: [String]) -> String? {
        let lowered = key.lowercased().replacingOccurrences(of: "-", with: "_")
        if let exact = validKeys.first(where: { $0 == lowered }) {
            return exact
        }
        let scored = validKeys.map { ($0, editDistance(lowered, $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(1, min(3, best.count / 3)) else {
            return nil
        }
        return best
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension ConfigFile.User: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "\(self.name) (password: \(self.password == nil ? "none" : "***"))"
    }
    public var debugDescription: String { "ConfigFile.User(\(self.description))" }
    public var customMirror: Mirror {
        Mirror(self, children: ["user": self.description], displayStyle: .struct)
    }
}

extension ConfigFile.Upstream: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "\(self.name): \(self.url.masked)\(self.password == nil ? "" : " (password: ***)")"
    }
    public var debugDescription: String { "ConfigFile.Upstream(\(self.description))" }
    public var customMirror: Mirror {
        Mirror(self, children: ["upstream": self.description], displayStyle: .struct)
    }
}

extension String {
    fileprivate func replacingNUL() -> String {
        self.replacingOccurrences(of: "\u{0}", with: "\\0")
    }
}

/// Reads typed values out of one TOML table, with errors that name the file, the table and the key.
private struct TableReader {
    let table: TOMLTable
    let path: String
    let location: String?

    func error(_ error: ConfigError) -> ConfigError {
        .inFile(path: self.path, table: self.location, error)
    }

    /// Runs a check whose errors do not know where they happened, and says where.
    @discardableResult
    func located<T>(_ body: () throws(ConfigError) -> T) throws(ConfigError) -> T {
        do {
            return try body()
        } catch {
            throw self.error(error)
        }
    }

    func checkKeys(_ validKeys: [String]) throws(ConfigError) {
        for key in self.table.keys where !validKeys.contains(key) {
            throw self.error(
                .unknownKey(key, suggestion: ConfigFile.suggestion(for: key, among: validKeys), validKeys: validKeys)
            )
        }
    }

    private func value(
        _ key: String, expected: String, as type: TOMLType
    ) throws(ConfigError) -> TOMLValueConvertible? {
        guard let value = self.table[key] else {
            return nil
        }
        guard value.type == type else {
            throw self.error(.wrongType(key: key, expected: expected, found: ConfigFile.phrase(value.type)))
        }
        return value
    }

    func string(_ key: String) throws(ConfigError) -> String? {
        try self.value(key, expected: "a string", as: .string)?.string
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        try self.value(key, expected: "a boolean (true or false)", as: .bool)?.bool
    }

    func int(_ key: String) throws(ConfigError) -> Int? {
        try self.value(key, expected: "an integer", as: .int)?.int
    }

    func table(_ key: String, expected: String) throws(ConfigError) -> TOMLTable? {
        try self.value(key, expected: expected, as: .table)?.table
    }

    func stringArray(_ key: String) throws(ConfigError) -> [String]? {
        guard let array = try self.value(key, expected: "an array of strings", as: .array)?.array else {
            return nil
        }
        var strings: [String] = []
        for element in array {
            guard let string = element.string else {
                let found = "an array holding \(ConfigFile.phrase(element.type))"
                throw self.error(.wrongType(key: key, expected: "an array of strings", found: found))
            }
            strings.append(string)
        }
        return strings
    }
}

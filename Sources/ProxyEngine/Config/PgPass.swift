/// A libpq password file (`~/.pgpass` or `$PGPASSFILE`): lines of `hostname:port:database:username:password`.
///
/// As in libpq: a field that is exactly `*` matches anything, `\:` and `\\` stand for `:` and `\`, lines starting
/// with `#` and blank lines are skipped, the first matching line wins, and a file that the group or others may
/// access is ignored (with a warning).
public struct PgPass: Sendable, Equatable {
    /// One field of a line: the `*` wildcard, or a value to compare exactly.
    public enum Field: Sendable, Equatable, Hashable {
        case any
        case value(String)

        public func matches(_ text: String) -> Bool {
            switch self {
            case .any: return true
            case .value(let value): return value == text
            }
        }
    }

    public struct Entry: Sendable, Equatable {
        public var host: Field
        public var port: Field
        public var database: Field
        public var user: Field
        public var password: String

        public init(host: Field, port: Field, database: Field, user: Field, password: String) {
            self.host = host
            self.port = port
            self.database = database
            self.user = user
            self.password = password
        }

        public func matches(host: String, port: Int, database: String, user: String) -> Bool {
            self.host.matches(host) && self.port.matches(String(port)) && self.database.matches(database)
                && self.user.matches(user)
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// Parses the file's contents. Lines with fewer than five fields cannot match anything and are skipped,
    /// as libpq does; text after an unescaped `:` following the password is ignored.
    public init(parsing contents: String) {
        var entries: [Entry] = []
        for rawLine in contents.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.isEmpty || line.hasPrefix("#") {
                continue
            }
            let fields = Self.splitFields(line)
            guard fields.count >= 5 else {
                continue
            }
            entries.append(
                Entry(
                    host: fields[0], port: fields[1], database: fields[2], user: fields[3],
                    password: fields[4].literal
                )
            )
        }
        self.entries = entries
    }

    /// The password of the first line that matches, or nil. An empty password counts as none (libpq does the same).
    public func password(host: String, port: Int, database: String, user: String) -> String? {
        let entry = self.entries.first { $0.matches(host: host, port: port, database: database, user: user) }
        guard let entry else {
            return nil
        }
        return entry.password.isEmpty ? nil : entry.password
    }

    /// Splits at unescaped colons, undoing `\x` escapes; a field is the wildcard only when it is an unescaped `*`.
    private static func splitFields(_ line: Substring) -> [Field] {
        var fields: [Field] = []
        var current = ""
        var escaped = false
        var wasEscaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
                wasEscaped = true
            } else if character == "\\" {
                escaped = true
            } else if character == ":" {
                fields.append(current == "*" && !wasEscaped ? .any : .value(current))
                current = ""
                wasEscaped = false
            } else {
                current.append(character)
            }
        }
        if escaped {
            // A trailing lone backslash is kept literally, as libpq does.
            current.append("\\")
        }
        fields.append(current == "*" && !wasEscaped ? .any : .value(current))
        return fields
    }
}

extension PgPass.Field {
    /// The text of the field as a password: the wildcard's `*` is just a character there.
    var literal: String {
        switch self {
        case .any: return "*"
        case .value(let value): return value
        }
    }
}

extension PgPass.Entry: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The line with its password masked.
    public var description: String {
        "\(self.host.literal):\(self.port.literal):\(self.database.literal):\(self.user.literal):***"
    }
    public var debugDescription: String { "PgPass.Entry(\(self.description))" }
    public var customMirror: Mirror {
        Mirror(self, children: ["entry": self.description], displayStyle: .struct)
    }
}

// MARK: - Where a password comes from

/// Which source gave an upstream its real password; shown to the user instead of the password itself.
public enum PasswordSource: Sendable, Equatable, CustomStringConvertible {
    /// Written in the URL (`postgres://user:password@...`).
    case url
    /// The `password` key of an `[upstreams.NAME]` table.
    case configFile(path: String)
    /// An environment variable: PGPASSWORD, or the one named by `password_env`.
    case environment(variable: String)
    /// A line of a pgpass file.
    case passwordFile(path: String)
    /// No password is known: the upstream must not ask for one (trust), or connecting will fail.
    case notFound

    public var description: String {
        switch self {
        case .url: return "the URL"
        case .configFile(let path): return "the config file \(path)"
        case .environment(let variable): return "the environment variable \(variable)"
        case .passwordFile(let path): return "the password file \(path)"
        case .notFound: return "no password"
        }
    }
}

extension PgPass {
    /// The password file libpq would read: `PGPASSFILE` when set, else `$HOME/.pgpass`; nil without either.
    public static func filePath(environment: [String: String]) -> String? {
        if let path = environment["PGPASSFILE"], !path.isEmpty {
            return path
        }
        if let home = environment["HOME"], !home.isEmpty {
            return home.hasSuffix("/") ? home + ".pgpass" : home + "/.pgpass"
        }
        return nil
    }

    /// Loads a password file the way libpq does: a missing file is silently nothing; a file that is not a plain
    /// file, that the group or others may access, or that cannot be read is ignored with a warning.
    public static func load(
        path: String,
        fileStatus: (String) -> FileStatus? = LocalFiles.status(of:),
        readFile: (String) throws -> String = LocalFiles.readText
    ) -> (file: PgPass?, warning: String?) {
        guard let status = fileStatus(path) else {
            return (nil, nil)
        }
        guard status.isRegularFile else {
            return (nil, "password file \"\(path)\" is not a plain file; it is ignored")
        }
        guard !status.hasGroupOrWorldAccess else {
            let mode = String(status.permissions, radix: 8)
            return (
                nil,
                "password file \"\(path)\" has group or world access (mode \(mode)) and is ignored, as libpq does; "
                    + "permissions should be u=rw (0600) or less: chmod 600 \(path)"
            )
        }
        do {
            return (PgPass(parsing: try readFile(path)), nil)
        } catch let error as ConfigError {
            return (nil, "password file ignored: \(error)")
        } catch {
            return (nil, "password file \"\(path)\" ignored: cannot read it (\(error))")
        }
    }

    /// The real password for `url`, in libpq's order: the URL's own password, then `PGPASSWORD`, then the
    /// password file (`PGPASSFILE` or `~/.pgpass`), looked up with the URL's host, port, database and user.
    /// The password file is read only when the first two give nothing; `passwordFile` lets a caller that
    /// resolves many URLs load it once (pass nil for "no file").
    public static func resolvePassword(
        for url: UpstreamURL, environment: [String: String], passwordFile: (path: String, file: PgPass)?
    ) -> (password: String?, source: PasswordSource) {
        if let password = url.password, !password.isEmpty {
            return (password, .url)
        }
        if let password = environment["PGPASSWORD"], !password.isEmpty {
            return (password, .environment(variable: "PGPASSWORD"))
        }
        if let passwordFile,
            let password = passwordFile.file.password(
                host: url.host, port: url.port, database: url.database, user: url.user
            )
        {
            return (password, .passwordFile(path: passwordFile.path))
        }
        return (nil, .notFound)
    }

    /// The same, reading the password file itself when needed; any warning about the file is returned.
    public static func resolvePassword(
        for url: UpstreamURL,
        environment: [String: String],
        fileStatus: (String) -> FileStatus? = LocalFiles.status(of:),
        readFile: (String) throws -> String = LocalFiles.readText
    ) -> (password: String?, source: PasswordSource, warning: String?) {
        let direct = Self.resolvePassword(for: url, environment: environment, passwordFile: nil)
        guard direct.password == nil, let path = Self.filePath(environment: environment) else {
            return (direct.password, direct.source, nil)
        }
        let loaded = Self.load(path: path, fileStatus: fileStatus, readFile: readFile)
        let fromFile = Self.resolvePassword(
            for: url, environment: environment, passwordFile: loaded.file.map { (path, $0) }
        )
        return (fromFile.password, fromFile.source, loaded.warning)
    }
}

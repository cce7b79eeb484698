/// Everything that can be wrong with pgreel's configuration, each as one line a user can act on.
///
/// Messages never contain a password: URLs are shown masked (`postgres://u:***@h:5432/db`) and `--user`
/// values are shown by name only. Errors found in a config file or a flag are wrapped in `.inFile` / `.inFlag`,
/// which put the file (and the table inside it) or the flag in front of the message.
public indirect enum ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An upstream URL that cannot be used; `url` is already masked.
    case invalidUpstreamURL(url: String, reason: String)
    /// A `--listen` / `listen` value that is not `HOST:PORT`, `:PORT`, `PORT` or `[IPv6]:PORT`.
    case invalidListenAddress(String, reason: String)
    /// A `--user` value that cannot be used; only the name part is shown, never the password.
    case invalidUserFlag(name: String, reason: String)
    case emptyUserName
    case invalidUserName(String, reason: String)
    case duplicateUser(String)
    case unknownAuthMethod(String)
    /// scram-sha-256, md5 and password check a password: a user with one of them needs a password.
    case passwordRequired(user: String, authMethod: AuthMethod)
    /// trust accepts anyone: a password next to it would be silently ignored, so it is refused.
    case passwordWithTrust(user: String)
    case unknownLogFormat(String)
    /// A value of the right type that is out of its range (negative row limit, empty path ...); `key` is a file
    /// key or a flag (`--max-recorded-rows`).
    case invalidValue(key: String, reason: String)
    /// A TOML value of the wrong type; `expected` and `found` are phrases like "an integer", "a string".
    case wrongType(key: String, expected: String, found: String)
    case missingKey(String)
    case unknownKey(String, suggestion: String?, validKeys: [String])
    case unknownUpstream(name: String, defined: [String])
    /// Two sources of the same password (URL and `password`, or inline and `password_env`).
    case conflictingKeys(String, String, reason: String)
    case environmentVariableNotSet(key: String, variable: String)
    case tomlSyntax(line: Int, column: Int, message: String)
    case cannotReadFile(path: String, reason: String)
    /// A TLS private key that others may read; PostgreSQL refuses such an ssl_key_file too.
    case insecureKeyFile(path: String, permissions: UInt16)
    /// Something wrong inside the config file at `path`; `table` names the table (`users #2 ("alice")`), if any.
    case inFile(path: String, table: String?, ConfigError)
    /// Something wrong with the value of a command-line flag (`--listen`).
    case inFlag(String, ConfigError)

    public var description: String {
        switch self {
        case .invalidUpstreamURL(let url, let reason):
            return "invalid upstream URL \"\(url)\": \(reason)"
        case .invalidListenAddress(let value, let reason):
            return "invalid listen address \"\(value)\": \(reason)"
        case .invalidUserFlag(let name, let reason):
            return "--user \(name): \(reason)"
        case .emptyUserName:
            return "a pseudo user name must not be empty"
        case .invalidUserName(let name, let reason):
            return "invalid pseudo user name \"\(name)\": \(reason)"
        case .duplicateUser(let name):
            return "pseudo user \"\(name)\" is defined more than once"
        case .unknownAuthMethod(let value):
            let valid = AuthMethod.allCases.map(\.rawValue).joined(separator: ", ")
            return "unknown auth method \"\(value)\" (valid: \(valid))"
        case .passwordRequired(let user, let method):
            return "pseudo user \"\(user)\" uses auth \"\(method.rawValue)\", which needs a password; "
                + "set one, or use auth \"trust\" to accept any password"
        case .passwordWithTrust(let user):
            return "pseudo user \"\(user)\" has a password but auth \"trust\", which ignores it; "
                + "remove the password or choose another auth method"
        case .unknownLogFormat(let value):
            let valid = LogFormat.allCases.map(\.rawValue).joined(separator: ", ")
            return "unknown log format \"\(value)\" (valid: \(valid))"
        case .invalidValue(let key, let reason):
            // A flag reads best bare (`--max-recorded-rows must be ...`), a file key quoted.
            return key.hasPrefix("--") ? "\(key) \(reason)" : "\"\(key)\" \(reason)"
        case .wrongType(let key, let expected, let found):
            return "\"\(key)\" must be \(expected), not \(found)"
        case .missingKey(let key):
            return "missing required key \"\(key)\""
        case .unknownKey(let key, let suggestion, let validKeys):
            let hint = suggestion.map { " (did you mean \"\($0)\"?)" } ?? ""
            return "unknown key \"\(key)\"\(hint); valid keys: \(validKeys.joined(separator: ", "))"
        case .unknownUpstream(let name, let defined):
            let known =
                defined.isEmpty ? "no [upstreams.NAME] table is defined" : "defined: \(defined.joined(separator: ", "))"
            return "unknown upstream \"\(name)\" (\(known)); give the name of an [upstreams.NAME] table "
                + "or a postgres:// URL"
        case .conflictingKeys(let first, let second, let reason):
            return "\"\(first)\" and \"\(second)\" cannot both be set: \(reason)"
        case .environmentVariableNotSet(let key, let variable):
            return "\"\(key)\" names the environment variable \(variable), which is not set"
        case .tomlSyntax(let line, let column, let message):
            return "line \(line), column \(column): \(message)"
        case .cannotReadFile(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .insecureKeyFile(let path, let permissions):
            return "private key file \"\(path)\" has group or world access (mode \(String(permissions, radix: 8))); "
                + "permissions should be u=rw (0600) or less: chmod 600 \(path)"
        case .inFile(let path, let table, let error):
            if case .tomlSyntax(let line, let column, let message) = error {
                return "\(path):\(line):\(column): invalid TOML: \(message)"
            }
            if let table {
                return "\(path): \(table): \(error)"
            }
            return "\(path): \(error)"
        case .inFlag(let flag, let error):
            return "\(flag): \(error)"
        }
    }

    /// The innermost error, without the file or flag it was found in (handy for matching in code).
    public var underlying: ConfigError {
        switch self {
        case .inFile(_, _, let error), .inFlag(_, let error):
            return error.underlying
        default:
            return self
        }
    }
}

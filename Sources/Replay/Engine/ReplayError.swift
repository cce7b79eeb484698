import ProxyEngine

/// Why a replay could not run, or stopped. Each description is one line naming the file or the target, with any
/// password masked.
public enum ReplayError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The session file cannot be read or is not a session file.
    case file(SessionFileError)
    /// The paths given select no session file (missing, an empty directory, nothing matching the filters).
    case selection(ReplaySelection.Failure)
    /// No target: no --db-url, no DATABASE_URL, and the file records no connection.
    case noTarget(path: String)
    /// The target URL is not valid (message already masks the password).
    case invalidTarget(String)
    /// The target cannot be reached or refused the connection.
    case unreachable(target: String, reason: String)
    /// The connection broke during the replay.
    case connectionLost(target: String, reason: String)
    /// `--rollback` could not be kept: something ended the replay's transaction.
    case rollbackLost(queryNumber: Int, reason: String)
    /// `next()` was called while a step was still running.
    case busy

    public var description: String {
        switch self {
        case .file(let error):
            return error.description
        case .selection(let failure):
            return failure.description
        case .noTarget(let path):
            return "\(path) records no connection (real_db_host, database, real_user) to replay against: "
                + "pass --db-url or set DATABASE_URL"
        case .invalidTarget(let message):
            return message
        case .unreachable(let target, let reason):
            return "cannot connect to \(target): \(reason)"
        case .connectionLost(let target, let reason):
            return "lost the connection to \(target): \(reason)"
        case .rollbackLost(let queryNumber, let reason):
            return "--rollback: query #\(queryNumber) ended the replay's transaction (\(reason)); "
                + "changes made after that point may be committed"
        case .busy:
            return "a replay step is already running"
        }
    }

    /// True when the replay could not start at all (exit code 2), as opposed to stopping part-way (exit code 1).
    public var preventedReplay: Bool {
        switch self {
        case .file, .selection, .noTarget, .invalidTarget, .unreachable: return true
        case .connectionLost, .rollbackLost, .busy: return false
        }
    }
}

import Foundation
import ProxyEngine
import Replay

/// How the dashboard replays session files: where they are, and the target and options of `pgreel replay`
/// (`--db-url`, else DATABASE_URL, else the recorded connection; `--read-only` / `--rollback`; comparison options).
public struct ReplayLaunch: Sendable {
    /// The directory the session browser lists.
    public var sessionsDirectory: String
    public var dbURL: String?
    public var environment: [String: String]
    public var options: ReplayOptions
    /// Opened at once (`pgreel replay FILE --tui`, `pgreel monitor --replay FILE`).
    public var initial: LoadedReplay?

    public init(
        sessionsDirectory: String, dbURL: String?, environment: [String: String], options: ReplayOptions,
        initial: LoadedReplay? = nil
    ) {
        self.sessionsDirectory = sessionsDirectory
        self.dbURL = dbURL
        self.environment = environment
        self.options = options
        self.initial = initial
    }

    /// Reads a session file and resolves its target with these settings.
    public func load(path: String) throws(ReplayError) -> LoadedReplay {
        try LoadedReplay.load(path: path, dbURL: self.dbURL, environment: self.environment, options: self.options)
    }
}

/// A session file read and ready to replay: its contents (kept to replay it again in another safety mode) and the
/// replay session.
public struct LoadedReplay: Sendable {
    public let contents: SessionFileContents
    public let session: ReplaySession

    /// Reads `path` and resolves its target as `pgreel replay` does; a bad file or target throws. Queries are never
    /// pipelined here (`pipelineDepth` 0).
    public static func load(
        path: String, dbURL: String?, environment: [String: String], options: ReplayOptions
    ) throws(ReplayError) -> LoadedReplay {
        let contents: SessionFileContents
        do {
            contents = try SessionFileReader.read(path: path)
        } catch {
            throw .file(error)
        }
        return try self.make(path: path, contents: contents, dbURL: dbURL, environment: environment, options: options)
    }

    /// A session for contents already read (another safety mode means another target: read-only is a startup
    /// parameter).
    static func make(
        path: String, contents: SessionFileContents, dbURL: String?, environment: [String: String],
        options: ReplayOptions
    ) throws(ReplayError) -> LoadedReplay {
        // A step executes exactly the query stepped to: nothing is sent ahead of the answers, whatever the
        // options say (a breakpoint, Esc or a change to the target between two steps must see nothing run early).
        var options = options
        options.pipelineDepth = 0
        let script = ReplayScript(events: contents.events)
        let target = try ReplayTarget.resolve(
            dbURL: dbURL, environment: environment, script: script, path: path, safety: options.safety)
        let session = ReplaySession(path: path, contents: contents, target: target, options: options)
        return LoadedReplay(contents: contents, session: session)
    }
}

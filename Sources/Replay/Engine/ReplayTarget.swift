import NIOCore
import ProxyEngine

/// The database a session is replayed against, and how it was chosen.
public struct ReplayTarget: Sendable {
    /// Where the target came from, in the order they are tried.
    public enum Source: String, Sendable, Equatable {
        case option = "--db-url"
        case environment = "DATABASE_URL"
        case recording = "the recorded connection"
    }

    public var upstream: UpstreamTarget
    /// The target as a URL with the password masked, for every message.
    public var masked: String
    public var source: Source
    /// Problems worth telling the user (an ignored password file ...).
    public var warnings: [String]

    public init(upstream: UpstreamTarget, masked: String, source: Source, warnings: [String] = []) {
        self.upstream = upstream
        self.masked = masked
        self.source = source
        self.warnings = warnings
    }

    /// The target for one session file: `dbURL` (`--db-url`), else `DATABASE_URL`, else the connection the file
    /// records (real_db_host, real_db_port, database, real_user). The password comes from the URL, else
    /// PGPASSWORD, else the password file (`PGPASSFILE` or `~/.pgpass`), as libpq does.
    ///
    /// The session runs with the recorded `application_name` (queries may read it), `client_encoding` UTF8 (the
    /// encoding the recorder decodes with) and, for `--read-only`, `default_transaction_read_only` on.
    public static func resolve(
        dbURL: String?, environment: [String: String], script: ReplayScript, path: String,
        safety: ReplayOptions.Safety
    ) throws(ReplayError) -> ReplayTarget {
        try Self.resolve(
            dbURL: dbURL, environment: environment, connection: script.connection,
            applicationName: script.sessionStart?.applicationName, path: path, safety: safety)
    }

    /// The same from a file's head (`SessionFileHead`), before the file is read whole.
    public static func resolve(
        dbURL: String?, environment: [String: String], head: SessionFileHead, safety: ReplayOptions.Safety
    ) throws(ReplayError) -> ReplayTarget {
        try Self.resolve(
            dbURL: dbURL, environment: environment, connection: head.connection,
            applicationName: head.sessionStart?.applicationName, path: head.path, safety: safety)
    }

    private static func resolve(
        dbURL: String?, environment: [String: String], connection: ActivityDetails?, applicationName: String?,
        path: String, safety: ReplayOptions.Safety
    ) throws(ReplayError) -> ReplayTarget {
        var url: UpstreamURL
        let source: Source
        if let text = dbURL ?? environment["DATABASE_URL"].flatMap({ $0.isEmpty ? nil : $0 }) {
            source = dbURL != nil ? .option : .environment
            do {
                url = try UpstreamURL(parsing: text, environment: environment)
            } catch {
                throw .invalidTarget("\(source == .option ? "--db-url" : "DATABASE_URL"): \(error)")
            }
        } else {
            guard let connection, let user = connection.realUser, !user.isEmpty,
                let database = connection.database, !database.isEmpty
            else { throw .noTarget(path: path) }
            source = .recording
            let host = connection.realDBHost.flatMap { $0.isEmpty ? nil : $0 } ?? UpstreamURL.defaultHost
            let port = connection.realDBPort.flatMap { Int($0) } ?? UpstreamURL.defaultPort
            url = UpstreamURL(user: user, host: host, port: port, database: database)
        }
        // The same TLS as the proxy's upstream connections: sslmode (prefer by default), sslrootcert, channel_binding.
        let tls: UpstreamTLS
        let maxProtocolVersion: ProtocolVersion
        do {
            let settings = try UpstreamTLSSettings(
                url: url, environment: environment, fileExists: { LocalFiles.status(of: $0) != nil })
            tls = try UpstreamTLS(settings)
            maxProtocolVersion = try ProtocolVersion.upstreamMaximum(url: url, environment: environment)
        } catch {
            throw .invalidTarget("\(error)")
        }
        let resolved = PgPass.resolvePassword(for: url, environment: environment)
        url.password = resolved.password

        var parameters: [(String, String)] = [("client_encoding", "UTF8")]
        let applicationName =
            url.parameters["application_name"] ?? applicationName ?? "pgreel replay"
        parameters.append(("application_name", applicationName))
        if let options = url.parameters["options"] {
            parameters.append(("options", options))
        }
        if safety == .readOnly {
            parameters.append(("default_transaction_read_only", "on"))
        }
        var timeout = TimeAmount.seconds(10)
        if let text = url.parameters["connect_timeout"], let seconds = Int64(text), seconds > 0 {
            timeout = .seconds(seconds)
        }
        let upstream = UpstreamTarget(
            host: url.host, port: url.port, user: url.user, password: url.password, database: url.database,
            parameters: parameters, connectTimeout: timeout, tls: tls, maxProtocolVersion: maxProtocolVersion)
        return ReplayTarget(
            upstream: upstream, masked: url.masked, source: source, warnings: resolved.warning.map { [$0] } ?? [])
    }
}

import Foundation

/// The built `pgreel monitor` in a tmux terminal, proxying to a database of a test PostgreSQL and recording into a
/// directory of its own. When it ends, its window stays to say how: `monitor exited with N`.
struct MonitorInTmux {
    let tmux: TmuxSession
    let port: Int
    let sessions: String
    let database: String

    static func start(server: TestPostgres, database: String) async throws -> MonitorInTmux {
        let port = try Tools.freePort()
        let sessions = try makeTemporaryDirectory(prefix: "pgreel-monitor") + "/sessions"
        let monitor = [
            try Tools.pgreelBinary, "monitor", "--listen", "127.0.0.1:\(port)",
            "--upstream", server.url(user: "postgres", database: database), "--sessions", sessions,
        ].map(TmuxSession.shellQuoted).joined(separator: " ")
        let tmux = try await TmuxSession.start("\(monitor); echo \"monitor exited with $?\"; sleep 600")
        return MonitorInTmux(tmux: tmux, port: port, sessions: sessions, database: database)
    }

    /// psql through the monitor's proxy, as the pseudo user, with `arguments` after the connection options: a
    /// command line for `sh -c`.
    func psql(_ arguments: [String] = []) throws -> String {
        let command = [
            try Tools.psql, "-X", "-h", "127.0.0.1", "-p", String(self.port), "-U", "pseudo_user", "-d",
            self.database,
        ] + arguments
        return "PGCONNECT_TIMEOUT=10 " + command.map(TmuxSession.shellQuoted).joined(separator: " ")
    }

    /// Runs `body`, then ends the tmux server whatever happened.
    func run(_ body: (MonitorInTmux) async throws -> Void) async throws {
        do {
            try await body(self)
        } catch {
            await self.tmux.kill()
            throw error
        }
        await self.tmux.kill()
    }
}

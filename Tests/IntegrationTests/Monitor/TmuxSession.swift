import Foundation

/// A detached tmux session on a private server socket (`-L pgreel-test-<random>`), so a test never touches the
/// user's own tmux: it runs a command in a terminal of a fixed size, types into it and reads the screen back.
struct TmuxSession {
    let socket: String
    let name: String

    /// tmux and the programs it runs get a UTF-8 locale, whatever the test process has.
    static let environment = ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm-256color"]

    /// Starts `command` (run by `sh -c`) in a new session `columns` x `rows` large.
    static func start(_ command: String, columns: Int = 120, rows: Int = 40) async throws -> TmuxSession {
        let suffix = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let session = TmuxSession(socket: "pgreel-test-\(suffix)", name: "monitor-\(suffix)")
        try await session.tmux([
            "new-session", "-d", "-s", session.name, "-x", String(columns), "-y", String(rows), command,
        ])
        return session
    }

    /// Opens another window (a second terminal) running `command`; returns its target.
    func newWindow(_ command: String) async throws -> String {
        try await self.tmux(["new-window", "-d", "-t", self.name, command])
        return "\(self.name):1"
    }

    var mainPane: String { "\(self.name):0" }

    /// Presses keys by tmux name (`Tab`, `Enter`, `Escape`, `Home`, `BTab`, `q` ...).
    func press(_ keys: String..., target: String? = nil) async throws {
        try await self.press(keys, target: target)
    }

    /// Presses keys by tmux name, in one go.
    func press(_ keys: [String], target: String? = nil) async throws {
        try await self.tmux(["send-keys", "-t", target ?? self.mainPane] + keys)
    }

    /// Types text literally (no key-name lookup: "INSERT" stays six letters).
    func type(_ text: String, target: String? = nil) async throws {
        // tmux reads an argument ending in ";" as a command separator unless the semicolon is escaped.
        let literal = text.hasSuffix(";") ? String(text.dropLast()) + "\\;" : text
        try await self.tmux(["send-keys", "-t", target ?? self.mainPane, "-l", literal])
    }

    /// The screen as text.
    func capture(target: String? = nil) async throws -> String {
        try await self.tmux(["capture-pane", "-p", "-t", target ?? self.mainPane]).stdout
    }

    /// Polls the screen until `condition` holds; fails with the last screen after `timeout`.
    @discardableResult
    func waitForScreen(
        _ what: String, target: String? = nil, timeout: Duration = .seconds(20),
        until condition: (String) -> Bool
    ) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var screen = ""
        while ContinuousClock.now < deadline {
            screen = (try? await self.capture(target: target)) ?? screen
            if condition(screen) { return screen }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("the screen did not show \(what) within \(timeout); it shows:\n\(screen)")
    }

    /// Polls until the screen contains every one of `texts`.
    @discardableResult
    func waitForScreen(
        containing texts: String..., target: String? = nil, timeout: Duration = .seconds(20)
    ) async throws -> String {
        try await self.waitForScreen(texts.joined(separator: ", "), target: target, timeout: timeout) { screen in
            texts.allSatisfy { screen.contains($0) }
        }
    }

    /// Ends the private tmux server and everything running in it.
    func kill() async {
        _ = try? await ProcessRunner.run(
            "tmux", ["-L", self.socket, "kill-server"], environment: Self.environment, timeout: .seconds(10))
    }

    @discardableResult
    private func tmux(_ arguments: [String]) async throws -> ProcessResult {
        try await ProcessRunner.runChecked(
            "tmux", ["-u", "-L", self.socket] + arguments, environment: Self.environment, timeout: .seconds(10))
    }

    /// `text` quoted for `sh -c`.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a finished process left behind.
public struct ProcessResult: Sendable, CustomStringConvertible {
    /// The exit code; for a process ended by a signal, 128 + the signal number (the shell's convention).
    public let status: Int32
    /// The signal that ended the process, if one did.
    public let signal: Int32?
    public let stdout: String
    public let stderr: String

    public var succeeded: Bool {
        self.status == 0 && self.signal == nil
    }

    public var description: String {
        "status \(self.status)\nstdout:\n\(self.stdout)\nstderr:\n\(self.stderr)"
    }
}

/// Failures of the runner itself (a process that exits non-zero is not one, except for `runChecked`).
public enum ProcessRunnerError: Error, CustomStringConvertible {
    case executableNotFound(String)
    case launchFailed(command: String, reason: String)
    case timedOut(command: String, after: Duration, stdout: String, stderr: String)
    case nonZeroExit(command: String, result: ProcessResult)
    case outputNotSeen(command: String, expected: String, exited: Bool, stdout: String, stderr: String)

    public var description: String {
        switch self {
        case .executableNotFound(let name):
            return "executable '\(name)' not found (looked in PATH)"
        case .launchFailed(let command, let reason):
            return "could not start `\(command)`: \(reason)"
        case .timedOut(let command, let after, let stdout, let stderr):
            return "`\(command)` did not finish within \(after) and was killed (SIGKILL)\n"
                + "stdout so far:\n\(stdout)\nstderr so far:\n\(stderr)"
        case .nonZeroExit(let command, let result):
            return "`\(command)` failed with \(result)"
        case .outputNotSeen(let command, let expected, let exited, let stdout, let stderr):
            let why = exited ? "exited before printing" : "did not print"
            return "`\(command)` \(why) \"\(expected)\" in time\nstdout so far:\n\(stdout)\nstderr so far:\n\(stderr)"
        }
    }
}

/// Runs real programs (psql, pgbench, pgreel, initdb, ...) for tests.
///
/// Output is drained by one dedicated thread per pipe, never by the cooperative pool, so a child printing megabytes
/// on both stdout and stderr cannot deadlock, and a blocked read never starves other tasks.
public enum ProcessRunner {
    /// Runs `executable` (a path, or a bare name looked up in PATH) to completion.
    ///
    /// - Parameters:
    ///   - environment: merged over this process's environment (these values win).
    ///   - stdin: written to the child's standard input, which is then closed; nil gives it /dev/null.
    ///   - timeout: past it the child is killed with SIGKILL and `ProcessRunnerError.timedOut` is thrown.
    /// A non-zero exit is returned in the result, not thrown. Cancelling the calling task kills the child.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        stdin: String? = nil,
        workingDirectory: String? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> ProcessResult {
        let process = try RunningProcess(
            executable: executable,
            arguments: arguments,
            environment: environment,
            stdin: stdin,
            workingDirectory: workingDirectory
        )
        return try await withTaskCancellationHandler {
            guard try await process.exitSignal.wait(timeout: timeout) != nil else {
                process.kill()
                _ = try? await process.exitSignal.wait(timeout: .seconds(5))
                throw ProcessRunnerError.timedOut(
                    command: process.command,
                    after: timeout,
                    stdout: process.stdout,
                    stderr: process.stderr
                )
            }
            return try await process.finalResult()
        } onCancel: {
            process.kill()
        }
    }

    /// Like `run`, but throws `ProcessRunnerError.nonZeroExit` (with stdout and stderr) unless the exit code is 0.
    @discardableResult
    public static func runChecked(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        stdin: String? = nil,
        workingDirectory: String? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> ProcessResult {
        let result = try await self.run(
            executable,
            arguments,
            environment: environment,
            stdin: stdin,
            workingDirectory: workingDirectory,
            timeout: timeout
        )
        guard result.succeeded else {
            throw ProcessRunnerError.nonZeroExit(
                command: RunningProcess.describe(executable, arguments),
                result: result
            )
        }
        return result
    }

    /// Starts a long-running program (a proxy, a server) and returns at once.
    ///
    /// Stop it yourself (`defer { process.kill() }`); whatever still runs is killed (SIGKILL) when the test process
    /// exits, so a failing test cannot leave it behind. Releasing the object does not kill the child (Swift may
    /// release an object before the end of its scope, which would end a proxy in the middle of a test).
    public static func startBackground(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        stdin: String? = nil,
        workingDirectory: String? = nil
    ) throws -> RunningProcess {
        try RunningProcess(
            executable: executable,
            arguments: arguments,
            environment: environment,
            stdin: stdin,
            workingDirectory: workingDirectory
        )
    }
}

/// A child process started by `ProcessRunner`, with live access to what it printed so far.
public final class RunningProcess: Sendable {
    /// Which output `waitForOutput` searches.
    public enum Stream: Sendable {
        case stdout
        case stderr
        /// Either one (loggers often write to stderr).
        case any
    }

    public let pid: Int32
    /// The command line, for messages.
    public let command: String

    let exitSignal = HarnessSignal<ProcessExit>()
    private let stdoutCollector: PipeCollector
    private let stderrCollector: PipeCollector

    struct ProcessExit: Sendable {
        let status: Int32
        let signal: Int32?
    }

    init(
        executable: String,
        arguments: [String],
        environment: [String: String],
        stdin: String?,
        workingDirectory: String?
    ) throws {
        ProcessRunnerSetup.ignoreSIGPIPE
        let path = try Tools.resolveExecutable(executable)
        self.command = Self.describe(path, arguments)

        let output = try Spawn.pipe()
        let errors = try Spawn.pipe()
        let input = try stdin == nil ? (read: Spawn.openDevNull(O_RDONLY), write: -1) : Spawn.pipe()
        let pid: pid_t
        do {
            pid = try Spawn.start(
                path: path,
                arguments: arguments,
                environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new },
                descriptors: .init(input: input.read, output: output.write, error: errors.write),
                workingDirectory: workingDirectory
            )
        } catch {
            for descriptor in [output.read, output.write, errors.read, errors.write, input.read, input.write]
            where descriptor >= 0 {
                close(descriptor)
            }
            throw error
        }
        // The child has its copies; the parent must drop the write ends, or the readers would never see EOF.
        close(output.write)
        close(errors.write)
        close(input.read)
        self.pid = pid
        self.stdoutCollector = PipeCollector(output.read, name: "stdout")
        self.stderrCollector = PipeCollector(errors.read, name: "stderr")
        if let stdin, input.write >= 0 {
            PipeCollector.write(Data(stdin.utf8), to: input.write)
        }

        // Kill the child at the latest when the test process exits.
        let exitSignal = self.exitSignal
        let exitActionID = HarnessExit.register {
            if exitSignal.value == nil {
                posixKill(pid, SIGKILL)
            }
        }
        let waiter = Thread {
            let exit = Spawn.waitForExit(pid)
            exitSignal.fulfill(ProcessExit(status: exit.status, signal: exit.signal))
            HarnessExit.unregister(exitActionID)
        }
        waiter.name = "ProcessRunner waitpid \(pid)"
        waiter.start()
    }

    /// Everything the child wrote to stdout so far.
    public var stdout: String {
        self.stdoutCollector.text
    }

    /// Everything the child wrote to stderr so far.
    public var stderr: String {
        self.stderrCollector.text
    }

    public var isRunning: Bool {
        self.exitSignal.value == nil
    }

    /// The exit code once it exited (128 + signal when a signal ended it).
    public var exitStatus: Int32? {
        self.exitSignal.value?.status
    }

    /// Asks the child to end (SIGTERM).
    public func stop() {
        self.send(SIGTERM)
    }

    /// Ends the child at once (SIGKILL).
    public func kill() {
        self.send(SIGKILL)
    }

    /// Sends any signal, e.g. SIGINT to test a graceful Ctrl-C shutdown.
    public func send(_ signal: Int32) {
        // Only while not yet reaped: after that the pid may already belong to someone else.
        if self.exitSignal.value == nil {
            posixKill(self.pid, signal)
        }
    }

    /// Waits for the child to exit (without killing it) and returns its status and full output.
    /// Throws `ProcessRunnerError.timedOut` if it is still running after `timeout` (it is left running).
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(30)) async throws -> ProcessResult {
        guard try await self.exitSignal.wait(timeout: timeout) != nil else {
            throw ProcessRunnerError.timedOut(
                command: self.command,
                after: timeout,
                stdout: self.stdout,
                stderr: self.stderr
            )
        }
        return try await self.finalResult()
    }

    /// Waits until `text` appears in the chosen output; returns that output so far.
    /// Throws `ProcessRunnerError.outputNotSeen` on timeout, or as soon as the child exits without printing it.
    @discardableResult
    public func waitForOutput(
        containing text: String,
        in stream: Stream = .any,
        timeout: Duration = .seconds(30)
    ) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let exitedBefore = !self.isRunning
            let out = self.stdout
            let err = self.stderr
            switch stream {
            case .stdout where out.contains(text):
                return out
            case .stderr where err.contains(text):
                return err
            case .any where out.contains(text) || err.contains(text):
                return out.contains(text) ? out : err
            default:
                break
            }
            // An exited child can print nothing more once its pipes are drained.
            let drained = self.stdoutCollector.finished.value != nil && self.stderrCollector.finished.value != nil
            if (exitedBefore && drained) || clock.now >= deadline {
                throw ProcessRunnerError.outputNotSeen(
                    command: self.command,
                    expected: text,
                    exited: exitedBefore,
                    stdout: out,
                    stderr: err
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// After exit: waits briefly for the pipes to drain. A grandchild that inherited them (a daemon) could hold
    /// them open forever, so the wait is bounded and the output so far is returned.
    func finalResult() async throws -> ProcessResult {
        guard let exit = self.exitSignal.value else {
            preconditionFailure("finalResult() before the process exited")
        }
        _ = try await self.stdoutCollector.finished.wait(timeout: .seconds(3))
        _ = try await self.stderrCollector.finished.wait(timeout: .seconds(3))
        return ProcessResult(status: exit.status, signal: exit.signal, stdout: self.stdout, stderr: self.stderr)
    }

    static func describe(_ executable: String, _ arguments: [String]) -> String {
        ([executable] + arguments).map { argument in
            argument.isEmpty || argument.contains(where: { " \"'$\\\n\t".contains($0) })
                ? "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
                : argument
        }.joined(separator: " ")
    }
}

/// Drains one pipe on its own thread into a locked buffer.
final class PipeCollector: Sendable {
    private let buffer = HarnessLock(Data())
    let finished = HarnessSignal<Bool>()

    init(_ descriptor: Int32, name: String) {
        let buffer = self.buffer
        let finished = self.finished
        let thread = Thread {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = chunk.withUnsafeMutableBytes { posixRead(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    buffer.withLock { $0.append(contentsOf: chunk[0..<count]) }
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(descriptor)
            finished.fulfill(true)
        }
        thread.name = "ProcessRunner \(name)"
        thread.start()
    }

    var text: String {
        String(decoding: self.buffer.withLock { $0 }, as: UTF8.self)
    }

    /// Feeds a child's stdin from its own thread, so a child that writes before it reads cannot deadlock us.
    static func write(_ data: Data, to descriptor: Int32) {
        let thread = Thread {
            data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                var offset = 0
                while offset < bytes.count {
                    let written = posixWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        break  // EPIPE: the child stopped reading; that is its business.
                    }
                }
            }
            close(descriptor)
        }
        thread.name = "ProcessRunner stdin"
        thread.start()
    }
}

/// Process-wide set-up done once.
enum ProcessRunnerSetup {
    /// Writing to a child that closed its stdin must fail with EPIPE, not kill the test process.
    static let ignoreSIGPIPE: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()
}

/// Clean-up actions run when the test process exits (servers stopped, children killed, temp dirs removed).
enum HarnessExit {
    private static let actions = HarnessLock<(next: UInt64, actions: [UInt64: @Sendable () -> Void])>(
        (next: 0, actions: [:])
    )
    private static let installed: Void = {
        atexit {
            HarnessExit.runAll()
        }
    }()

    /// Registers an action; returns the id to unregister it with.
    static func register(_ action: @escaping @Sendable () -> Void) -> UInt64 {
        self.installed
        return self.actions.withLock { state in
            state.next += 1
            state.actions[state.next] = action
            return state.next
        }
    }

    static func unregister(_ id: UInt64) {
        _ = self.actions.withLock { $0.actions.removeValue(forKey: id) }
    }

    /// Newest first, so things are torn down in the reverse order they were set up.
    static func runAll() {
        let actions = self.actions.withLock { state in
            let all = state.actions.sorted { $0.key > $1.key }.map(\.value)
            state.actions = [:]
            return all
        }
        for action in actions {
            action()
        }
    }
}

// Free functions, because inside the types above the method names `kill`, `write` and `send` shadow libc's.
private func posixKill(_ pid: Int32, _ signalNumber: Int32) {
    _ = kill(pid, signalNumber)
}

private func posixRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

private func posixWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

import Foundation
import ProxyEngine
import Replay

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Carries out the replay view's commands on its `ReplaySession`, one after the other, and reports what happened.
///
/// The only place the step-through replay touches the network or the disk; the terminal thread never waits for
/// it. Commands arrive in order from one consumer, so a `close` after a `step` waits for that step to finish.
actor ReplayDriver {
    private let launch: ReplayLaunch
    private let post: @Sendable (WorkspaceEvent) -> Void
    private var current: (id: Int, path: String, loaded: LoadedReplay)?
    private var initial: LoadedReplay?

    init(launch: ReplayLaunch, post: @escaping @Sendable (WorkspaceEvent) -> Void) {
        self.launch = launch
        self.post = post
        self.initial = launch.initial
    }

    func perform(_ command: WorkspaceCommand) async {
        switch command {
        case .scan:
            break  // the scanner's job
        case .open(let path, let id):
            await self.openSession(path: path, id: id)
        case .replay(let id, let command):
            guard let current = self.current, current.id == id else {
                // A view already gone (or never opened): only a close makes sense, and there is nothing to close.
                if command == .close { self.post(.replay(id: id, .closed)) }
                return
            }
            await self.perform(command, id: id, path: current.path, loaded: current.loaded)
        }
    }

    /// Sends the target a CancelRequest for the query the current step runs. Called beside `perform`, which is
    /// suspended in that step meanwhile; the step itself then reports the target's answer.
    func cancelRunningQuery(id: Int) async {
        var sent = false
        if let current = self.current, current.id == id {
            sent = await current.loaded.session.cancelRunningQuery()
        }
        if !sent { self.post(.replay(id: id, .cancelFailed)) }
    }

    /// Closes whatever is open (the program ends).
    func closeAll() async {
        await self.current?.loaded.session.close()
        self.current = nil
    }

    private func openSession(path: String, id: Int) async {
        await self.closeAll()
        let loaded: LoadedReplay
        if let initial = self.initial, initial.session.path == path {
            loaded = initial
            self.initial = nil
        } else {
            do {
                loaded = try self.launch.load(path: path)
            } catch {
                self.post(.openFailed(id: id, path: path, message: error.description))
                return
            }
        }
        self.current = (id, path, loaded)
        self.post(.opened(id: id, ReplayViewState.Setup(session: loaded.session, openedAt: Date())))
        await self.connect(loaded.session, id: id)
    }

    private func connect(_ session: ReplaySession, id: Int) async {
        do {
            try await session.connect()
            self.post(.replay(id: id, .connected))
        } catch {
            self.post(.replay(id: id, .connectionFailed(error.description)))
        }
    }

    private func perform(_ command: ReplayViewCommand, id: Int, path: String, loaded: LoadedReplay) async {
        let session = loaded.session
        func send(_ event: ReplayViewEvent) {
            self.post(.replay(id: id, event))
        }
        switch command {
        case .connect:
            await self.connect(session, id: id)
        case .cancel:
            await self.cancelRunningQuery(id: id)  // sent beside the queue; here only if it came through it
        case .step, .skip:
            let start = ContinuousClock.now
            do throws(ReplayError) {
                // Activities (session_start, connection ...) are shown by the headless replay, never sent: the
                // view lists queries only, so it passes over them.
                while let upcoming = await session.upcoming, case .activity = upcoming {
                    _ = try await session.next()
                }
                let step = command == .step ? try await session.next() : try await session.skip()
                guard case .query(let query) = step else {
                    send(.reachedEnd)
                    return
                }
                let elapsed = ContinuousClock.now - start
                let (seconds, attoseconds) = elapsed.components
                let marks = CellDifferences.marks(of: query, options: session.options.comparison)
                send(.stepped(query, elapsedMS: Double(seconds) * 1000 + Double(attoseconds) / 1e15, marks: marks))
            } catch {
                send(.stepFailed(error.description))
            }
        case .restart:
            do {
                try await session.restart()
                send(.restarted(at: Date()))
            } catch {
                send(.restartFailed(at: Date(), error.description))
            }
        case .setSafety(let safety):
            await session.close()
            var options = session.options
            options.safety = safety
            do {
                let replacement = try LoadedReplay.make(
                    path: path, contents: loaded.contents, dbURL: self.launch.dbURL,
                    environment: self.launch.environment, options: options)
                self.current = (id, path, replacement)
                send(.safetyChanged(safety))
                await self.connect(replacement.session, id: id)
            } catch {
                send(.connectionFailed(error.description))
            }
        case .writeReport(let reportPath, let report):
            do {
                try Self.write(report.json(), to: reportPath)
                send(.reportWritten(path: reportPath))
            } catch {
                send(.reportFailed("\(reportPath): \(error)"))
            }
        case .close:
            await session.close()
            self.current = nil
            send(.closed)
        }
    }

    /// Writes `data` to `path` with mode 0600 (it holds the session's SQL), replacing the file at once.
    static func write(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ReportWriteError(code: errno) }
        var offset = 0
        let failure: Int32? = data.withUnsafeBytes { bytes -> Int32? in
            while offset < bytes.count {
                let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }
        close(descriptor)
        if let failure {
            unlink(temporary)
            throw ReportWriteError(code: failure)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw ReportWriteError(code: code)
        }
    }
}

/// A report file that could not be written, in the system's words.
struct ReportWriteError: Error, CustomStringConvertible {
    var code: Int32

    var description: String { String(cString: strerror(self.code)) }
}

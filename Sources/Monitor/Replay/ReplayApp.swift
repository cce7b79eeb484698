import Foundation
import ProxyEngine

/// `pgreel replay FILE --tui`: the step-through replay view on its own, without a proxy. The terminal thread reads
/// keys and draws (at most `maxFramesPerSecond`); the replay session runs in a task, so the screen never waits for
/// a query.
public enum ReplayApp {
    /// Takes over the terminal until the user leaves the view (or SIGINT/SIGTERM), closes the replay connection
    /// (rolling back under --rollback), and gives the terminal back.
    /// - Returns: the replay view as it was last shown, for the closing summary.
    public static func run(launch: ReplayLaunch, useColor: Bool, maxFramesPerSecond: Int = 30) async throws
        -> ReplayViewState?
    {
        guard let initial = launch.initial else { return nil }
        let controller = WorkspaceController(launch: launch)
        let stop = LockedBox(false)
        let signals = Self.stopOnTerminationSignals(stop)
        defer { for source in signals { source.cancel() } }
        let path = initial.session.path
        let result: Result<ReplayViewState?, any Error> = await withCheckedContinuation { continuation in
            let thread = Thread {
                do {
                    let state = try Self.loop(
                        path: path, controller: controller, stop: stop, useColor: useColor,
                        maxFramesPerSecond: maxFramesPerSecond)
                    continuation.resume(returning: .success(state))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.name = "pgreel-replay"
            thread.start()
        }
        // Left with q, the connection is closed already; after a signal a query may still run: not for long.
        await controller.shutdown(waitingAtMost: .seconds(3))
        return try result.get()
    }

    private static func loop(
        path: String, controller: WorkspaceController, stop: LockedBox<Bool>, useColor: Bool,
        maxFramesPerSecond: Int
    ) throws -> ReplayViewState? {
        let terminal = try CursesTerminal(useColor: useColor)
        defer { terminal.close() }
        var workspace = ReplayWorkspace(origin: .direct, size: terminal.size)
        controller.send(workspace.open(path: path))
        var last: ReplayViewState?
        let frameInterval = UInt64(1_000_000_000 / min(max(maxFramesPerSecond, 1), 120))
        var lastFrame: UInt64 = 0
        var dirty = true

        while !workspace.shouldQuit, !stop.withLock({ $0 }) {
            let now = DispatchTime.now().uptimeNanoseconds
            let nextFrame = lastFrame &+ frameInterval
            let wait = nextFrame > now ? Int((nextFrame - now) / 1_000_000) : 0
            if let input = terminal.readInput(timeoutMilliseconds: min(max(wait, 1), 50)) {
                var pending: TerminalInput? = input
                var more = 0
                while let input = pending {
                    switch input {
                    case .resize(let size):
                        workspace.resize(to: size)
                        terminal.repaintAll()
                    case .key(.control("l")):
                        terminal.repaintAll()
                    case .key(.control("c")):
                        stop.withLock { $0 = true }
                    case .key(let key):
                        controller.send(workspace.handle(key))
                    }
                    dirty = true
                    more += 1
                    pending = more < 256 ? terminal.readInput(timeoutMilliseconds: 0) : nil
                }
            }
            let events = controller.takeEvents()
            if !events.isEmpty {
                controller.send(workspace.apply(events))
                dirty = true
            }
            if let replay = workspace.replay { last = replay }
            let current = DispatchTime.now().uptimeNanoseconds
            if dirty, current &- lastFrame >= frameInterval, !workspace.shouldQuit {
                let size = terminal.size
                if size != workspace.size { workspace.resize(to: size) }
                terminal.draw(WorkspaceRenderer.render(workspace, size: size))
                lastFrame = DispatchTime.now().uptimeNanoseconds
                dirty = false
            }
        }
        return last
    }

    /// SIGINT and SIGTERM end the view cleanly: the terminal is restored and the connection closed.
    private static func stopOnTerminationSignals(_ stop: LockedBox<Bool>) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.withLock { $0 = true } }
            source.resume()
            return source
        }
    }
}

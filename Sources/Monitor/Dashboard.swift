import Foundation
import ProxyEngine

/// Runs the live dashboard: subscribes to the proxy's event bus, folds events and keys into a `DashboardState`, and
/// draws it at most `maxFramesPerSecond` times a second.
///
/// A slow screen never slows the proxy: the proxy drops its events into a bounded `EventMailbox` without waking
/// anyone (when it is full, events are dropped for the dashboard and counted; the session files stay lossless), and
/// one thread owns the terminal: it waits for keys with a short timeout, takes the mailbox's events in one batch,
/// ticks the clock, and redraws only when something changed and a frame is due.
public final class Dashboard: Sendable {
    public struct Options: Sendable, Equatable {
        /// Redraws per second at most (rendering is coalesced: a flood of events costs one frame per interval).
        public var maxFramesPerSecond: Int
        /// Events the dashboard may hold before it starts dropping them.
        public var inboxCapacity: Int
        /// Colours when the terminal has them; attributes only otherwise.
        public var useColor: Bool

        public init(maxFramesPerSecond: Int = 30, inboxCapacity: Int = 50_000, useColor: Bool = true) {
            self.maxFramesPerSecond = min(max(maxFramesPerSecond, 1), 120)
            self.inboxCapacity = max(inboxCapacity, 1)
            self.useColor = useColor
        }
    }

    private let bus: EventBus
    private let mailbox: EventMailbox
    private let stopRequest = StopRequest()
    private let options: Options
    private let signalSources = LockedBox<[any DispatchSourceSignal]>([])

    /// Subscribes to `bus` at once, so events published before `run` starts (the first connection) are kept.
    public init(bus: EventBus, options: Options = Options()) {
        self.bus = bus
        self.options = options
        self.mailbox = bus.mailbox(capacity: options.inboxCapacity)
    }

    /// Ends `run` soon (within a frame). Callable from any thread.
    public func stop() {
        self.stopRequest.request()
    }

    /// SIGINT and SIGTERM end the dashboard cleanly (the terminal is restored) instead of killing the process.
    public func stopOnTerminationSignals() {
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [stopRequest] in stopRequest.request() }
            source.resume()
            sources.append(source)
        }
        self.signalSources.withLock { $0 += sources }
    }

    /// Takes over the terminal until the user quits (or `stop()`), then gives it back.
    /// - Parameter replay: how `o` (the session browser) and the step-through replay find and replay session
    ///   files; nil leaves them out.
    /// - Returns: the final state (for a goodbye line).
    public func run(settings: DashboardSettings, replay: ReplayLaunch? = nil) async throws -> DashboardState {
        let mailbox = self.mailbox
        let stop = self.stopRequest
        let bus = self.bus
        defer { bus.unsubscribe(mailbox) }
        let options = self.options
        let workspace = replay.map { WorkspaceController(launch: $0) }
        let result: Result<DashboardState, any Error> = await withCheckedContinuation { continuation in
            let thread = Thread {
                // Named from the thread itself, in at most 15 characters: only then does Linux name the kernel
                // thread (as top and perf show it).
                Thread.current.name = "pgreel-monitor"
                do {
                    let state = try Self.loop(
                        settings: settings, options: options, mailbox: mailbox, stop: stop, workspace: workspace)
                    continuation.resume(returning: .success(state))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.start()
        }
        // A replay still open closes (and rolls back under --rollback) before the proxy goes.
        await workspace?.shutdown(waitingAtMost: .seconds(3))
        return try result.get()
    }

    /// The terminal thread.
    private static func loop(
        settings: DashboardSettings, options: Options, mailbox: EventMailbox, stop: StopRequest,
        workspace controller: WorkspaceController?
    ) throws -> DashboardState {
        Self.yieldToTheProxy()
        let terminal = try CursesTerminal(useColor: options.useColor)
        defer { terminal.close() }
        var state = DashboardState(settings: settings, now: Date(), size: terminal.size)
        // The session browser and the replay view, drawn instead of the live view while they are open.
        let workspace = controller.map { WorkspaceHost(controller: $0, size: terminal.size) }
        let minimumFrameInterval = UInt64(1_000_000_000 / options.maxFramesPerSecond)
        // Drawing may use at most 1/budgetShare of one core: when a frame takes long (a slow machine, a debug
        // build, a huge terminal), frames that only show new events come less often. Keys still redraw at once.
        let budgetShare: UInt64 = 20
        var frameInterval = minimumFrameInterval
        let tickInterval: UInt64 = 500_000_000
        var lastFrame: UInt64 = 0
        var lastTick: UInt64 = 0
        var dirty = true
        var keyPressed = false
        var events: [ProxyEvent] = []

        func handle(_ input: TerminalInput) {
            switch input {
            case .resize(let size):
                state.resize(to: size)
                workspace?.resize(to: size)
                terminal.repaintAll()
            case .key(.control("l")):
                terminal.repaintAll()
            case .key(let key):
                if workspace?.handle(key, live: state) != true { state.handle(key) }
            }
            dirty = true
            keyPressed = true
        }

        while !state.shouldQuit, !stop.isRequested {
            let now = DispatchTime.now().uptimeNanoseconds
            let nextFrame = lastFrame &+ (keyPressed ? minimumFrameInterval : frameInterval)
            let wait = nextFrame > now ? Int((nextFrame - now) / 1_000_000) : 0
            if let input = terminal.readInput(timeoutMilliseconds: min(max(wait, 1), 50)) {
                handle(input)
                // Keys typed faster than frames (a held-down j) are all applied before the next frame.
                var more = 0
                while more < 256, let next = terminal.readInput(timeoutMilliseconds: 0) {
                    handle(next)
                    more += 1
                }
            }
            mailbox.swapEvents(&events)
            if !events.isEmpty {
                state.apply(events)
                dirty = true
            }
            if workspace?.poll() == true { dirty = true }
            let current = DispatchTime.now().uptimeNanoseconds
            if current &- lastTick >= tickInterval {
                state.tick(now: Date(), droppedEvents: mailbox.droppedCount)
                lastTick = current
                dirty = true
            }
            let due = current &- lastFrame >= (keyPressed ? minimumFrameInterval : frameInterval)
            if dirty, due, !state.shouldQuit {
                let size = terminal.size
                if size != state.size {
                    state.resize(to: size)
                    workspace?.resize(to: size)
                }
                terminal.draw(workspace?.render(size: size) ?? DashboardRenderer.render(state, size: size))
                let finished = DispatchTime.now().uptimeNanoseconds
                frameInterval = max(minimumFrameInterval, (finished &- current) &* budgetShare)
                lastFrame = finished
                dirty = false
                keyPressed = false
            }
        }
        return state
    }
}

extension Dashboard {
    /// Lowers the terminal thread's scheduling priority (nice 10, this thread only), so on a busy machine the
    /// proxy's threads come first: the dashboard then falls behind and drops events instead of taking CPU time
    /// the sessions need. Keys still get answered, only a little later.
    static func yieldToTheProxy() {
        #if os(Linux)
        // On Linux the nice value belongs to the thread, and 0 names the calling one.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
    }
}

/// Asks the terminal loop to end (from `stop()` or a signal handler, on any thread).
final class StopRequest: Sendable {
    private let requested = LockedBox(false)

    func request() {
        self.requested.withLock { $0 = true }
    }

    var isRequested: Bool { self.requested.withLock { $0 } }
}

/// A value behind a lock, so classes with mutable state can be Sendable. (Foundation's NSLock: the package's
/// platform list predates `Synchronization.Mutex`.)
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        self.lock.lock()
        defer { self.lock.unlock() }
        return try body(&self.value)
    }
}

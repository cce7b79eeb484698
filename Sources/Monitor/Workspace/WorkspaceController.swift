import Foundation
import ProxyEngine

/// Carries out the workspace's commands off the terminal thread, and collects what they give for the terminal
/// thread to fold in: directory scans on the scanner's queue, replay commands in order on the `ReplayDriver`.
public final class WorkspaceController: Sendable {
    private let events: LockedBox<[WorkspaceEvent]>
    private let commands: AsyncStream<WorkspaceCommand>.Continuation
    private let consumer: Task<Void, Never>
    private let driver: ReplayDriver
    private let scanner: SessionDirectoryScanner
    public let launch: ReplayLaunch

    public init(launch: ReplayLaunch) {
        self.launch = launch
        let events = LockedBox<[WorkspaceEvent]>([])
        self.events = events
        let post: @Sendable (WorkspaceEvent) -> Void = { event in
            events.withLock { $0.append(event) }
        }
        let driver = ReplayDriver(launch: launch, post: post)
        self.driver = driver
        self.scanner = SessionDirectoryScanner(post: { post(.browser($0)) })
        let (stream, continuation) = AsyncStream.makeStream(of: WorkspaceCommand.self)
        self.commands = continuation
        self.consumer = Task.detached {
            for await command in stream {
                await driver.perform(command)
            }
        }
    }

    /// Hands commands over; they run in order, except a cancel: it is for the step running now, so it cannot wait
    /// behind it (the driver and the session let it in while the step waits for the target).
    public func send(_ commands: [WorkspaceCommand]) {
        for command in commands {
            if case .scan(let directory) = command {
                self.scanner.scan(directory)
            } else if case .replay(let id, .cancel) = command {
                let driver = self.driver
                Task.detached { await driver.cancelRunningQuery(id: id) }
            } else {
                self.commands.yield(command)
            }
        }
    }

    /// What happened since the last call.
    public func takeEvents() -> [WorkspaceEvent] {
        self.events.withLock { events in
            defer { events = [] }
            return events
        }
    }

    /// Lets the commands sent so far finish, then closes any replay connection (rolling back under --rollback).
    public func shutdown() async {
        self.scanner.cancel()
        self.commands.finish()
        await self.consumer.value
        await self.driver.closeAll()
    }

    /// `shutdown()`, but waits at most `limit` for it: a query still running (a long one, an unanswered server)
    /// must not keep the program from ending. The connection then closes with the program, which commits nothing
    /// more (an open `--rollback` transaction is rolled back by the server).
    public func shutdown(waitingAtMost limit: Duration) async {
        let done = LockedBox(false)
        Task.detached {
            await self.shutdown()
            done.withLock { $0 = true }
        }
        let deadline = ContinuousClock.now + limit
        while !done.withLock({ $0 }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// The workspace on the terminal thread of the live dashboard: keys go to it while it shows something, `o` opens
/// the browser, and what the controller reports is folded in. Not thread-safe: the terminal thread owns it.
final class WorkspaceHost {
    private(set) var workspace: ReplayWorkspace
    let controller: WorkspaceController

    init(controller: WorkspaceController, size: ScreenSize) {
        self.controller = controller
        self.workspace = ReplayWorkspace(origin: .live, size: size)
        if let initial = controller.launch.initial {
            controller.send(self.workspace.open(path: initial.session.path))
        }
    }

    /// Takes the key when the workspace shows something, or when it is `o` in the live view's main screen.
    func handle(_ key: ViewKey, live: DashboardState) -> Bool {
        if self.workspace.isActive {
            self.controller.send(self.workspace.handle(key))
            return true
        }
        guard key == .character("o"), live.overlay == nil, live.filterInput == nil else { return false }
        self.controller.send(
            self.workspace.openBrowser(
                directory: self.controller.launch.sessionsDirectory, recording: Self.recording(live)))
        return true
    }

    /// Folds in what happened; true when anything did.
    func poll() -> Bool {
        let events = self.controller.takeEvents()
        guard !events.isEmpty else { return false }
        self.controller.send(self.workspace.apply(events))
        return true
    }

    func resize(to size: ScreenSize) {
        self.workspace.resize(to: size)
    }

    /// The workspace's screen, or nil when the live view shows.
    func render(size: ScreenSize) -> ScreenBuffer? {
        self.workspace.isActive ? WorkspaceRenderer.render(self.workspace, size: size) : nil
    }

    /// The names of the files open sessions still record into.
    static func recording(_ live: DashboardState) -> Set<String> {
        Set(
            live.live.sessions.values.filter(\.state.isOpen).compactMap { row in
                row.recordingPath.map { URL(fileURLWithPath: $0).lastPathComponent }
            })
    }
}

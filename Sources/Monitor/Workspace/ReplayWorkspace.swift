import Foundation
import ProxyEngine
import Replay

/// What the workspace asks the outside world to do (a `WorkspaceController` does it, off the terminal thread).
public enum WorkspaceCommand: Sendable, Equatable {
    /// List the sessions directory and read its files' details.
    case scan(directory: String)
    /// Load a session file for the replay view `id`, and connect.
    case open(path: String, id: Int)
    /// A command for the replay session of view `id`.
    case replay(id: Int, ReplayViewCommand)
}

/// What the outside world answers.
public enum WorkspaceEvent: Sendable, Equatable {
    case browser(SessionBrowserEvent)
    case opened(id: Int, ReplayViewState.Setup)
    case openFailed(id: Int, path: String, message: String)
    case replay(id: Int, ReplayViewEvent)
}

/// The views above the live dashboard: the session browser and the step-through replay. One value with a pure
/// reducer, like `DashboardState`: keys and events in, commands out.
///
/// From the live view, `o` opens the browser, Enter a replay; leaving the replay goes back to the browser (or to
/// the live view when it was opened directly, `pgreel monitor --replay`), leaving the browser back to the live
/// view. Opened by `pgreel replay --tui` (`origin` `.direct`), leaving the replay ends the program.
public struct ReplayWorkspace: Sendable, Equatable {
    public enum Origin: Sendable, Equatable {
        /// Above the live dashboard.
        case live
        /// On its own (`pgreel replay FILE --tui`).
        case direct
    }

    public let origin: Origin
    public private(set) var browser: SessionBrowserState?
    public private(set) var replay: ReplayViewState?
    /// The id of the replay view shown (or being opened); events of other ids are stale.
    public private(set) var replayID = 0
    /// The file being opened, while no replay view is shown for it yet.
    public var openingPath: String? { self.openingState?.path }
    private var openingState: OpeningState?
    /// Why the last open failed, shown on the empty screen of a direct open.
    public private(set) var failure: String?
    /// `.direct` only: the replay view was left.
    public private(set) var shouldQuit = false
    public private(set) var size: ScreenSize
    private var nextID = 1

    private struct OpeningState: Sendable, Equatable {
        var id: Int
        var path: String
    }

    public init(origin: Origin, size: ScreenSize) {
        self.origin = origin
        self.size = size
    }

    /// Something is shown above the live view.
    public var isActive: Bool {
        self.browser != nil || self.replay != nil || self.openingState != nil || self.failure != nil
    }

    public mutating func resize(to size: ScreenSize) {
        self.size = size
        self.browser?.resize(to: size)
        self.replay?.resize(to: size)
    }

    /// `o`: the browser of `directory`; `recording` names the files live sessions still write.
    public mutating func openBrowser(directory: String, recording: Set<String>) -> [WorkspaceCommand] {
        if self.browser == nil {
            self.browser = SessionBrowserState(directory: directory, recording: recording, size: self.size)
        } else {
            self.browser?.rescan(recording: recording)
        }
        return [.scan(directory: directory)]
    }

    /// Opens `path` in the replay view (from the browser, or directly).
    public mutating func open(path: String) -> [WorkspaceCommand] {
        let id = self.nextID
        self.nextID += 1
        self.replayID = id
        self.openingState = OpeningState(id: id, path: path)
        self.failure = nil
        return [.open(path: path, id: id)]
    }

    // MARK: - Keys

    public mutating func handle(_ key: ViewKey) -> [WorkspaceCommand] {
        if var replay = self.replay {
            // Taken out while it changes, so its rows are changed in place rather than copied (copy-on-write).
            self.replay = nil
            let commands = replay.handle(key)
            self.replay = replay
            return commands.map { .replay(id: self.replayID, $0) }
        }
        if self.openingState != nil, self.browser == nil {
            // Opening directly, nothing to show yet: q or Esc gives up.
            if key == .escape || key == .character("q") {
                self.openingState = nil
                if self.origin == .direct { self.shouldQuit = true }
            }
            return []
        }
        if self.failure != nil, self.browser == nil {
            // A direct open failed: any key leaves.
            self.failure = nil
            if self.origin == .direct { self.shouldQuit = true }
            return []
        }
        guard var browser = self.browser else { return [] }
        self.browser = nil
        let commands = browser.handle(key)
        self.browser = browser
        var result: [WorkspaceCommand] = []
        for command in commands {
            switch command {
            case .scan:
                result.append(.scan(directory: browser.directory))
            case .open(let path):
                result += self.open(path: path)
            case .close:
                self.browser = nil
                self.openingState = nil
            }
        }
        return result
    }

    // MARK: - Events

    public mutating func apply(_ events: [WorkspaceEvent]) -> [WorkspaceCommand] {
        var commands: [WorkspaceCommand] = []
        for event in events {
            commands += self.apply(event)
        }
        return commands
    }

    public mutating func apply(_ event: WorkspaceEvent) -> [WorkspaceCommand] {
        switch event {
        case .browser(let event):
            self.browser?.apply(event)
        case .opened(let id, let setup):
            guard let opening = self.openingState, opening.id == id else {
                // Given up on while it loaded: close it again.
                return [.replay(id: id, .close)]
            }
            self.openingState = nil
            self.browser?.opened()
            self.replay = ReplayViewState(
                setup: setup, size: self.size, quitsOnLeave: self.origin == .direct && self.browser == nil)
        case .openFailed(let id, let path, let message):
            guard self.openingState?.id == id else { return [] }
            self.openingState = nil
            if self.browser != nil {
                self.browser?.apply(.openFailed(path: path, message))
            } else {
                self.failure = message
            }
        case .replay(let id, let event):
            guard id == self.replayID, var replay = self.replay else { return [] }
            self.replay = nil
            let commands = replay.apply(event)
            if replay.isClosed {
                self.replay = nil
                if self.browser == nil, self.origin == .direct { self.shouldQuit = true }
                return []
            }
            self.replay = replay
            return commands.map { .replay(id: id, $0) }
        }
        return []
    }
}

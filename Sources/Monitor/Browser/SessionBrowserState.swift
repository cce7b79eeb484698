import Foundation
import ProxyEngine

/// What the browser asks for.
public enum SessionBrowserCommand: Sendable, Equatable {
    /// List the directory again (and read the files whose details are not known).
    case scan
    /// Open this file in the replay view.
    case open(path: String)
    /// Back to the live view.
    case close
}

/// What the directory scan found.
public enum SessionBrowserEvent: Sendable, Equatable {
    /// The session files of the directory, without their details (those that were read before keep theirs).
    case listed([SessionFileInfo])
    /// One file has been read.
    case detailsRead(path: String, SessionFileInfo.Details)
    /// Every file has been read.
    case scanFinished
    /// The directory could not be listed.
    case scanFailed(String)
    /// The file chosen could not be opened for replay.
    case openFailed(path: String, String)
}

/// The session browser (`o` in the live view): the files of the sessions directory, newest first, with their
/// pseudo user, start time, query count and size, and a mark on files cut off by a crash. A value changed only by
/// `handle(_:)` and `apply(_:)`, drawn by `SessionBrowserRenderer`.
public struct SessionBrowserState: Sendable, Equatable {
    public let directory: String
    /// Every file, newest first.
    public private(set) var files: [SessionFileInfo] = []
    /// Indices into `files` of those the filter lets through.
    public private(set) var visible: [Int] = []
    /// Where each file is in `files`, by path.
    private var indexByPath: [String: Int] = [:]
    /// File names a live session is still writing (not cut off: still being recorded).
    public private(set) var recording: Set<String>
    public private(set) var isScanning = true
    public private(set) var filter = ""
    /// The filter being typed after `/`, nil when not typing.
    public private(set) var filterInput: String?
    /// Index into `visible`.
    public private(set) var selected = 0
    public private(set) var top = 0
    /// The file being opened, while it is read.
    public private(set) var opening: String?
    public private(set) var message: String?
    public private(set) var size: ScreenSize

    public init(directory: String, recording: Set<String> = [], size: ScreenSize) {
        self.directory = directory
        self.recording = recording
        self.size = size
    }

    public var selectedFile: SessionFileInfo? {
        self.visible.indices.contains(self.selected) ? self.files[self.visible[self.selected]] : nil
    }

    /// Rows of the list (between its title and the footer).
    public var listHeight: Int { max(self.size.rows - 4, 1) }

    public mutating func resize(to size: ScreenSize) {
        self.size = size
        self.adjustTop()
    }

    /// A new scan is starting (`recording` is what the live view knows now).
    public mutating func rescan(recording: Set<String>) {
        self.recording = recording
        self.isScanning = true
    }

    // MARK: - Events

    public mutating func apply(_ event: SessionBrowserEvent) {
        switch event {
        case .listed(let files):
            let selectedPath = self.selectedFile?.path
            let known = Dictionary(self.files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
            self.files = SessionFileInfo.sortedNewestFirst(
                files.map { file in
                    var file = file
                    if file.details == nil, let old = known[file.path], old.size == file.size,
                        old.modified == file.modified
                    {
                        file.details = old.details
                    }
                    return file
                })
            self.indexByPath = Dictionary(
                self.files.enumerated().map { ($0.element.path, $0.offset) }, uniquingKeysWith: { first, _ in first })
            self.refilter(keeping: selectedPath)
        case .detailsRead(let path, let details):
            guard let index = self.indexByPath[path] else { return }
            let matched = Self.matches(self.files[index], filter: self.filter)
            self.files[index].details = details
            // The pseudo user is known now: the filter may let the file through, or not any more.
            if Self.matches(self.files[index], filter: self.filter) != matched {
                self.refilter(keeping: self.selectedFile?.path)
            }
        case .scanFinished:
            self.isScanning = false
        case .scanFailed(let reason):
            self.isScanning = false
            self.message = reason
        case .openFailed(_, let reason):
            self.opening = nil
            self.message = reason
        }
    }

    // MARK: - Keys

    public mutating func handle(_ key: DashboardKey) -> [SessionBrowserCommand] {
        if self.filterInput != nil {
            self.handleFilterInput(key)
            return []
        }
        self.message = nil
        switch key {
        case .escape:
            if !self.filter.isEmpty {
                self.setFilter("")
            } else {
                return [.close]
            }
        case .character("q"):
            return [.close]
        case .character("/"):
            self.filterInput = self.filter
        case .character("r"), .control("r"):
            self.isScanning = true
            return [.scan]
        case .enter:
            guard self.opening == nil, let file = self.selectedFile else { return [] }
            if let error = file.details?.error {
                self.message = error
                return []
            }
            self.opening = file.path
            return [.open(path: file.path)]
        case .up, .character("k"): self.move(by: -1)
        case .down, .character("j"): self.move(by: 1)
        case .pageUp, .control("b"): self.move(by: -max(self.listHeight - 1, 1))
        case .pageDown, .control("f"): self.move(by: max(self.listHeight - 1, 1))
        case .home, .character("g"): self.select(0)
        case .end, .character("G"): self.select(self.visible.count - 1)
        case .mouse(let action):
            let offset = action.row - 3
            switch action.kind {
            case .wheelUp: self.move(by: -3)
            case .wheelDown: self.move(by: 3)
            case .press, .doubleClick:
                guard offset >= 0, offset < self.listHeight, self.top + offset < self.visible.count else { break }
                self.select(self.top + offset)
                if action.kind == .doubleClick { return self.handle(.enter) }
            }
        default:
            break
        }
        return []
    }

    /// The view was left or a replay was opened: nothing is being opened any more.
    public mutating func opened() {
        self.opening = nil
    }

    private mutating func handleFilterInput(_ key: DashboardKey) {
        if let text = FilterInput.edit(&self.filterInput, with: key) {
            self.setFilter(text)
        }
    }

    private mutating func setFilter(_ text: String) {
        let selectedPath = self.selectedFile?.path
        self.filter = text
        self.refilter(keeping: selectedPath)
    }

    /// Does `file` match the filter: its name or pseudo user contains every word (ignoring case)?
    public static func matches(_ file: SessionFileInfo, filter: String) -> Bool {
        let words = filter.lowercased().split(separator: " ")
        guard !words.isEmpty else { return true }
        let haystack = (file.name + " " + (file.details?.pseudoUser ?? "")).lowercased()
        return words.allSatisfy { haystack.contains($0) }
    }

    private mutating func refilter(keeping path: String?) {
        self.visible = self.files.indices.filter { Self.matches(self.files[$0], filter: self.filter) }
        if let path, let index = self.visible.firstIndex(where: { self.files[$0].path == path }) {
            self.selected = index
        } else {
            self.selected = min(self.selected, max(self.visible.count - 1, 0))
        }
        self.adjustTop()
    }

    private mutating func move(by steps: Int) {
        self.select(self.selected + steps)
    }

    private mutating func select(_ index: Int) {
        self.selected = min(max(index, 0), max(self.visible.count - 1, 0))
        self.adjustTop()
    }

    private mutating func adjustTop() {
        let height = self.listHeight
        if self.selected < self.top { self.top = self.selected }
        if self.selected >= self.top + height { self.top = self.selected - height + 1 }
        self.top = max(min(self.top, max(self.visible.count - height, 0)), 0)
    }
}

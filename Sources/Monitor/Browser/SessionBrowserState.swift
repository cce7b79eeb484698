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
    /// The selection (an index into `visible`) and the first row shown.
    public private(set) var list = ListViewport()
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
        self.visible.indices.contains(self.list.selected) ? self.files[self.visible[self.list.selected]] : nil
    }

    /// Rows of the list (between its title and the footer).
    public var listHeight: Int { max(self.size.rows - 4, 1) }

    public mutating func resize(to size: ScreenSize) {
        self.size = size
        self.list.reveal(count: self.visible.count, height: self.listHeight)
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

    public mutating func handle(_ key: ViewKey) -> [SessionBrowserCommand] {
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
        case .mouse(let action):
            switch action.kind {
            case .wheelUp: self.moveSelection(.by(-3))
            case .wheelDown: self.moveSelection(.by(3))
            case .press, .doubleClick:
                let offset = action.row - 3
                let count = self.visible.count
                guard let index = self.list.row(atOffset: offset, count: count, height: self.listHeight) else { break }
                self.moveSelection(.to(index))
                if action.kind == .doubleClick { return self.handle(.enter) }
            }
        default:
            if let move = ListViewport.Move(key, page: max(self.listHeight - 1, 1)) {
                self.moveSelection(move)
            }
        }
        return []
    }

    /// The view was left or a replay was opened: nothing is being opened any more.
    public mutating func opened() {
        self.opening = nil
    }

    private mutating func handleFilterInput(_ key: ViewKey) {
        if let text = FilterInput.edit(&self.filterInput, with: key) {
            self.setFilter(text)
        }
    }

    private mutating func setFilter(_ text: String) {
        let selectedPath = self.selectedFile?.path
        self.filter = text
        self.refilter(keeping: selectedPath)
    }

    /// Does `file` match the filter: its name or pseudo user contains every word (ignoring case)? The user comes
    /// from the file, so from a client: only its first `searchedUserScalars` characters are searched.
    public static func matches(_ file: SessionFileInfo, filter: String) -> Bool {
        let words = filter.lowercased().split(separator: " ")
        guard !words.isEmpty else { return true }
        let user = (file.details?.pseudoUser ?? "").head(scalars: Self.searchedUserScalars).text
        let haystack = (file.name + " " + user).lowercased()
        return words.allSatisfy { haystack.contains($0) }
    }

    /// How much of a pseudo user's name the filter searches (PostgreSQL's own names stop at 63 bytes).
    static let searchedUserScalars = 256

    private mutating func refilter(keeping path: String?) {
        self.visible = self.files.indices.filter { Self.matches(self.files[$0], filter: self.filter) }
        let index = path.flatMap { path in self.visible.firstIndex { self.files[$0].path == path } }
        self.moveSelection(.to(index ?? self.list.selected))
    }

    private mutating func moveSelection(_ move: ListViewport.Move) {
        self.list.apply(move, count: self.visible.count, height: self.listHeight)
    }
}

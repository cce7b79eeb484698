import Foundation
import ProxyEngine

/// The session files a replay takes: every FILE named, and every session file under every DIR named (recursively),
/// kept when `SessionFilter` accepts their head, ordered by when each session started.
///
/// A file named on the command line is read whole here, so a bad one stops everything before anything runs. Files
/// found in a directory are judged by their heads only (`SessionFileHead`): a capture of thousands of sessions is
/// chosen and scheduled without holding them all, each file is read whole when its turn to run comes, and one that
/// is not a session file (a report left beside them) is skipped with a warning instead of stopping the others.
public struct ReplaySelection: Sendable {
    /// The chosen files, earliest start first.
    public var heads: [SessionFileHead]
    /// Files found in a directory that are not session files, and why.
    public var skipped: [SessionFileError]

    /// Why nothing can be replayed. One line each, naming the path.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case noSessionFiles(directory: String)
        case nothingMatches(filter: String, looked: Int)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason):
                return "cannot read \(path): \(reason)"
            case .noSessionFiles(let directory):
                return "\(directory) holds no session files (*.json)"
            case .nothingMatches(let filter, let looked):
                return "no session of the \(looked) found matches \(filter)"
            }
        }
    }

    /// Whether a file met while walking a directory is a session file candidate (named directly, any file is).
    public static func isSessionFileName(_ name: String) -> Bool {
        name.hasSuffix(".json") && !name.hasPrefix(".")
    }

    /// The heads of the selected files, earliest start first (files named directly keep their order among
    /// themselves when no filter or directory is involved, so `replay a.json b.json` prints a before b).
    /// A file that is not a session file throws its `SessionFileError` (through `ReplayError.file`).
    /// `readTails`: also read each file's last event time (`SessionFileHead.end`), which a schedule needs.
    public static func select(
        _ paths: [String], filter: SessionFilter, readTails: Bool = false
    ) throws(ReplayError) -> ReplaySelection {
        var files: [(path: String, named: Bool)] = []
        var walkedDirectory = false
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw .file(.notFound(path: path))
            }
            if isDirectory.boolValue {
                walkedDirectory = true
                let found = try Self.sessionFiles(under: path)
                guard !found.isEmpty else { throw .selection(.noSessionFiles(directory: path)) }
                files += found.map { ($0, false) }
            } else {
                files.append((path, true))
            }
        }
        var heads: [SessionFileHead] = []
        var skipped: [SessionFileError] = []
        heads.reserveCapacity(files.count)
        for (file, named) in files {
            let head: SessionFileHead
            do {
                if named {
                    let contents = try SessionFileReader.read(path: file)
                    var whole = SessionFileHead(path: file, events: contents.events)
                    whole.end = contents.events.last?.timestamp
                    head = whole
                } else {
                    head = try SessionFileHead.read(path: file, readTail: readTails)
                }
            } catch {
                if named { throw .file(error) }
                skipped.append(error)
                continue
            }
            if filter.accepts(head) {
                heads.append(head)
            }
        }
        guard !heads.isEmpty else {
            if filter.isEmpty, let first = skipped.first { throw .file(first) }
            throw .selection(.nothingMatches(filter: filter.description, looked: files.count - skipped.count))
        }
        if walkedDirectory || !filter.isEmpty {
            // Stable: sessions that started at the same instant keep the order of their paths.
            heads = heads.enumerated().sorted { left, right in
                let a = left.element.start ?? .distantFuture
                let b = right.element.start ?? .distantFuture
                return a != b ? a < b : left.offset < right.offset
            }.map(\.element)
        }
        return ReplaySelection(heads: heads, skipped: skipped)
    }

    /// Every session file under `directory`, recursively, in path order; hidden entries are skipped.
    private static func sessionFiles(under directory: String) throws(ReplayError) -> [String] {
        let root = URL(fileURLWithPath: directory)
        guard
            let walker = FileManager.default.enumerator(
                at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        else {
            throw .selection(.unreadable(path: directory, reason: "cannot list the directory"))
        }
        var found: [String] = []
        for case let url as URL in walker where Self.isSessionFileName(url.lastPathComponent) {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                found.append(url.path)
            }
        }
        return found.sorted()
    }
}

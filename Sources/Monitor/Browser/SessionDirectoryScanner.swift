import Foundation
import ProxyEngine

/// Lists a sessions directory for the browser and reads each file's details, on a queue of its own: the list comes
/// at once, the details one file after another, and a newer scan makes an older one stop. Details are remembered
/// per file (path, size, modification time), so listing the directory again reads only what changed.
final class SessionDirectoryScanner: Sendable {
    private struct Cached: Sendable {
        var size: Int
        var modified: Date
        var details: SessionFileInfo.Details
    }

    private let queue = DispatchQueue(label: "pgreel.session-browser", qos: .utility)
    private let generation = LockedBox(0)
    private let cache = LockedBox<[String: Cached]>([:])
    private let post: @Sendable (SessionBrowserEvent) -> Void

    init(post: @escaping @Sendable (SessionBrowserEvent) -> Void) {
        self.post = post
    }

    /// Lists `directory` (and then reads the details), replacing any scan still going on.
    func scan(_ directory: String) {
        let current = self.generation.withLock { value -> Int in
            value += 1
            return value
        }
        self.queue.async {
            self.run(directory, generation: current)
        }
    }

    /// Stops any scan going on.
    func cancel() {
        self.generation.withLock { $0 += 1 }
    }

    private func run(_ directory: String, generation: Int) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            let reason =
                (error as NSError).code == NSFileReadNoSuchFileError
                ? "\(directory) does not exist (no session recorded there yet)"
                : "cannot list \(directory): \(error.localizedDescription)"
            self.post(.scanFailed(reason))
            return
        }
        var files: [SessionFileInfo] = []
        for name in names where Self.isSessionFileName(name) {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                attributes[.type] as? FileAttributeType == .typeRegular
            else { continue }
            let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
            let modified = attributes[.modificationDate] as? Date ?? Date(timeIntervalSince1970: 0)
            var file = SessionFileInfo(name: name, path: path, size: size, modified: modified)
            if let cached = self.cache.withLock({ $0[path] }), cached.size == size, cached.modified == modified {
                file.details = cached.details
            }
            files.append(file)
        }
        files = SessionFileInfo.sortedNewestFirst(files)
        guard self.generation.withLock({ $0 }) == generation else { return }
        self.post(.listed(files))
        for file in files where file.details == nil {
            guard self.generation.withLock({ $0 }) == generation else { return }
            let details: SessionFileInfo.Details
            do {
                details = SessionFileInfo.Details(contents: try SessionFileReader.read(path: file.path))
            } catch {
                details = SessionFileInfo.Details(error: error.description)
            }
            self.cache.withLock { $0[file.path] = Cached(size: file.size, modified: file.modified, details: details) }
            self.post(.detailsRead(path: file.path, details))
        }
        if self.generation.withLock({ $0 }) == generation {
            self.post(.scanFinished)
        }
    }

    /// `*.json`, but not the reports `w` writes beside them (`*.replay.json`) nor hidden files.
    static func isSessionFileName(_ name: String) -> Bool {
        name.hasSuffix(".json") && !name.hasSuffix(".replay.json") && !name.hasPrefix(".")
    }
}

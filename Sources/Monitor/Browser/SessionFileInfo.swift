import Foundation
import ProxyEngine

/// A session file as the browser lists it: what the directory says at once (name, size, time), and what reading
/// the file adds (pseudo user, start time, query count, whether it was cut off).
public struct SessionFileInfo: Sendable, Equatable {
    /// What reading the file told.
    public struct Details: Sendable, Equatable {
        public var pseudoUser: String?
        public var startTime: Date?
        public var queryCount: Int
        /// Where the file was cut off (a crash), when it was.
        public var cut: String?
        /// Why the file could not be read as a session file.
        public var error: String?

        public init(
            pseudoUser: String? = nil, startTime: Date? = nil, queryCount: Int = 0, cut: String? = nil,
            error: String? = nil
        ) {
            self.pseudoUser = pseudoUser
            self.startTime = startTime
            self.queryCount = queryCount
            self.cut = cut
            self.error = error
        }

        /// The details of a file's contents: the session_start's user and time (else the connection's user and
        /// the first event's time), the number of queries, the cut.
        public init(contents: SessionFileContents) {
            var user: String?
            var start: Date?
            var queries = 0
            for event in contents.events {
                switch event.payload {
                case .activity(let activity):
                    if activity.activity == SessionActivity.sessionStart {
                        user = user ?? activity.details.pseudoUser
                        start = start ?? activity.details.startTime ?? event.timestamp
                    } else if activity.activity == SessionActivity.connection {
                        user = user ?? activity.details.pseudoUser
                    }
                case .query:
                    queries += 1
                case .result:
                    break
                }
            }
            self.init(
                pseudoUser: user, startTime: start ?? contents.events.first?.timestamp, queryCount: queries,
                cut: contents.cut?.description)
        }
    }

    public var name: String
    public var path: String
    public var size: Int
    public var modified: Date
    /// nil until the file has been read.
    public var details: Details?

    public init(name: String, path: String, size: Int, modified: Date, details: Details? = nil) {
        self.name = name
        self.path = path
        self.size = size
        self.modified = modified
        self.details = details
    }

    /// The start time the name holds (`NAME_YYYY-MM-DD_HH-MM-SS[_N].json`, UTC) and its `_N`, if it is a pgreel
    /// name.
    public static func nameTime(_ name: String) -> (date: Date, suffix: Int)? {
        guard name.hasSuffix(".json") else { return nil }
        var stem = Substring(name.dropLast(5))
        var suffix = 1
        if let underscore = stem.lastIndex(of: "_") {
            let tail = stem[stem.index(after: underscore)...]
            if !tail.isEmpty, tail.count <= 6, tail.allSatisfy(\.isASCIIDigit), let number = Int(tail) {
                let candidate = stem[..<underscore]
                if candidate.count >= 19, Self.timestamp(candidate.suffix(19)) != nil {
                    stem = candidate
                    suffix = number
                }
            }
        }
        guard stem.count >= 19, let date = Self.timestamp(stem.suffix(19)) else { return nil }
        return (date, suffix)
    }

    /// `YYYY-MM-DD_HH-MM-SS` as a UTC date (read by the session files' own timestamp parser).
    private static func timestamp(_ text: Substring) -> Date? {
        let characters = Array(text)
        guard characters.count == 19, characters[10] == "_", characters[13] == "-", characters[16] == "-" else {
            return nil
        }
        var stamp = characters
        stamp[10] = "T"
        stamp[13] = ":"
        stamp[16] = ":"
        return SessionTimestamp.parse(String(stamp) + "Z")
    }

    /// The order of the browser: newest first, by the time in the name (else the file's modification time), then
    /// by the name's `_N`, then by name. Each name is read once.
    public static func sortedNewestFirst(_ files: [SessionFileInfo]) -> [SessionFileInfo] {
        let keyed = files.map { file -> (date: Date, suffix: Int, file: SessionFileInfo) in
            let time = Self.nameTime(file.name)
            return (time?.date ?? file.modified, time?.suffix ?? 0, file)
        }
        return keyed.sorted { left, right in
            if left.date != right.date { return left.date > right.date }
            if left.suffix != right.suffix { return left.suffix > right.suffix }
            return left.file.name > right.file.name
        }.map(\.file)
    }

    /// When the session started: as read, else as the name says, else the file's time.
    public var startTime: Date {
        self.details?.startTime ?? Self.nameTime(self.name)?.date ?? self.modified
    }

    /// `1.2 KB`, `3.4 MB`: sizes in powers of 1024, one decimal below 10.
    public static func sizeText(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        var value = Double(bytes) / 1024
        for unit in ["KB", "MB", "GB"] {
            if value < 1024 || unit == "GB" {
                return (value < 10 ? DisplayText.fixed(value, digits: 1) : String(Int(value.rounded()))) + " " + unit
            }
            value /= 1024
        }
        return "\(bytes) B"
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { self >= "0" && self <= "9" }
}

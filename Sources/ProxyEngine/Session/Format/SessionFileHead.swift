import Foundation

/// What the first events of a session file say about it (who, when, which session), read from the file's first
/// bytes only: choosing among thousands of files (`pgreel replay DIR --user alice --since ...`) or scheduling them
/// at their recorded start must not read every file whole.
public struct SessionFileHead: Sendable, Equatable {
    public var path: String
    /// The first event's timestamp: when the session started (nil for a file with no complete event yet).
    public var start: Date?
    /// The `connection` event's details (real user, database, host, port): the replay's target when no URL is given.
    public var connection: ActivityDetails?
    /// The `session_start` event's details.
    public var sessionStart: ActivityDetails?
    /// The last event's timestamp, from the file's tail (`readTail`); nil when not read.
    public var end: Date?

    public init(path: String, start: Date? = nil) {
        self.path = path
        self.start = start
    }

    /// The user the client logged in with (session_start, else connection).
    public var pseudoUser: String? { self.sessionStart?.pseudoUser ?? self.connection?.pseudoUser }
    public var sessionID: String? { self.sessionStart?.sessionID }

    /// How much of a file is read: the session_start and connection events of a pgreel file are well under 1 KiB,
    /// and a seed file's first events are pretty-printed; 64 KiB holds them with room to spare.
    public static let defaultByteLimit = 64 * 1024

    /// Reads the head of `path`; throws as `SessionFileReader.read` does for a file that is missing, unreadable or
    /// not a session file (as far as its first bytes show).
    public static func read(
        path: String, byteLimit: Int = Self.defaultByteLimit, readTail: Bool = false
    ) throws(SessionFileError) -> Self {
        let bytes = try SessionFileReader.readPrefix(path: path, byteLimit: byteLimit)
        let contents = try SessionFileReader.parse(bytes, path: path)
        var head = Self(path: path, events: contents.events)
        if readTail {
            let tail = try SessionFileReader.readSuffix(path: path, byteLimit: Self.tailByteLimit)
            head.end = Self.lastTimestamp(in: tail) ?? head.start
        }
        return head
    }

    /// The tail read for the last event's time: a pgreel event line with a large result can be long, but its
    /// timestamp comes first; a file whose last 16 KiB hold no timestamp ends at its head's start.
    public static let tailByteLimit = 16 * 1024

    /// The value of the last `"timestamp": "..."` in `bytes` (one event's), when there is one.
    static func lastTimestamp(in bytes: [UInt8]) -> Date? {
        let key = Array(#""timestamp""#.utf8)
        var index = bytes.count - key.count
        while index >= 0 {
            if bytes[index] == key[0], Array(bytes[index..<index + key.count]) == key {
                var position = index + key.count
                let separators: Set<UInt8> = [UInt8(ascii: " "), UInt8(ascii: ":")]
                while position < bytes.count, separators.contains(bytes[position]) {
                    position += 1
                }
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
                let start = position + 1
                guard let close = bytes[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                return SessionTimestamp.parse(String(decoding: bytes[start..<close], as: UTF8.self))
            }
            index -= 1
        }
        return nil
    }

    /// The head of already parsed events (the first ones of a session).
    public init(path: String, events: [SessionEvent]) {
        self.init(path: path, start: events.first?.timestamp)
        for event in events {
            guard case .activity(let activity) = event.payload else { continue }
            let details = activity.details
            if activity.activity == SessionActivity.sessionStart, self.sessionStart == nil {
                self.sessionStart = details
                if let start = details.startTime {
                    self.start = min(self.start ?? start, start)
                }
            } else if activity.activity == SessionActivity.connection, self.connection == nil {
                self.connection = details
            }
        }
    }
}

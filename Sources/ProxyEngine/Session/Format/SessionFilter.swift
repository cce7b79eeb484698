import Foundation

/// Which recorded sessions a command takes: `--user NAME`, `--since TIME`, `--until TIME`, judged on a file's head
/// (who logged in, when the session started), so that choosing among thousands of files reads only their starts.
public struct SessionFilter: Sendable, Equatable {
    /// The pseudo user the client logged in with (exact match).
    public var user: String?
    /// Sessions that started at or after this instant.
    public var since: Date?
    /// Sessions that started before this instant.
    public var until: Date?

    public init(user: String? = nil, since: Date? = nil, until: Date? = nil) {
        self.user = user
        self.since = since
        self.until = until
    }

    public var isEmpty: Bool { self.user == nil && self.since == nil && self.until == nil }

    public func accepts(_ head: SessionFileHead) -> Bool {
        if let user = self.user, head.pseudoUser != user {
            return false
        }
        if self.since != nil || self.until != nil {
            guard let start = head.start else { return false }
            if let since = self.since, start < since { return false }
            if let until = self.until, start >= until { return false }
        }
        return true
    }

    /// The filter in words, for "no session matches ...".
    public var description: String {
        var parts: [String] = []
        if let user = self.user { parts.append("--user \(user)") }
        if let since = self.since { parts.append("--since \(SessionTimestamp.format(since))") }
        if let until = self.until { parts.append("--until \(SessionTimestamp.format(until))") }
        return parts.joined(separator: " ")
    }
}

/// A point in time as a user types it on the command line, always UTC unless an offset is given:
/// `2026-12-02T10:30:00Z` (RFC 3339, any offset, fractions allowed), `2026-12-02 10:30[:00]`, `2026-12-02`
/// (midnight), or a span back from now: `90s`, `30m`, `2h`, `7d`.
public enum TimeArgument {
    public static func parse(_ text: String, now: Date = Date()) -> Date? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let span = Self.span(text) {
            return now.addingTimeInterval(-span)
        }
        // SessionTimestamp reads full RFC 3339 (a space for the T, no zone = UTC); a time without seconds or a date
        // alone is completed first.
        for candidate in [text, text + ":00", text + "T00:00:00Z"] {
            if let date = SessionTimestamp.parse(candidate) {
                return date
            }
        }
        return nil
    }

    /// What `parse` accepts, for an error message.
    public static let accepted = "a time such as 2026-12-02T10:30:00Z, 2026-12-02 10:30, 2026-12-02, or 30m / 2h / 7d ago"

    private static func span(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let count = Double(text.dropLast()), count >= 0, count.isFinite else { return nil }
        switch unit {
        case "s": return count
        case "m": return count * 60
        case "h": return count * 3600
        case "d": return count * 86400
        default: return nil
        }
    }
}

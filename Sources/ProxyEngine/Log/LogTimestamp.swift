import Foundation

/// A log line's time: the session files' own RFC 3339 text (SessionTimestamp), so the log and the files always
/// show the same instant the same way, with no formatter, locale or time zone database involved.
struct LogTimestamp: Sendable, Equatable {
    /// `2025-10-07T21:30:15.123456Z`
    let rfc3339Microseconds: String

    init(_ date: Date) {
        // An undefined time (NaN) prints as the epoch rather than as one end of the clamped range.
        let defined = date.timeIntervalSince1970.isNaN ? Date(timeIntervalSince1970: 0) : date
        self.rfc3339Microseconds = SessionTimestamp.format(defined)
    }

    /// `21:30:15.123`: the time-of-day part, cut to milliseconds.
    var clockMilliseconds: String {
        let characters = Array(self.rfc3339Microseconds)
        return String(characters[11..<23])
    }
}

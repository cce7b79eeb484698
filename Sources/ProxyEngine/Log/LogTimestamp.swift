import Foundation

/// Calendar fields of a Date in UTC, computed directly (no formatter, no locale, no time zone database), so the
/// log shows the same text on every machine and every thread.
struct LogTimestamp: Sendable, Equatable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int
    var microsecond: Int

    init(_ date: Date) {
        // Round to the microsecond first: 0.123 is stored as 0.12299999..., which must still print as .123.
        // Clamped to years 0000...9999 (as session files are), so no Date can overflow the arithmetic.
        let seconds = date.timeIntervalSince1970
        let bounded = seconds.isFinite ? min(max(seconds, -62_167_219_200), 253_402_300_800) : 0
        let micros = Int64((bounded * 1_000_000).rounded())
        let clamped = min(micros, 253_402_300_799_999_999)
        let (wholeSeconds, microsecond) = Self.floorDivision(clamped, 1_000_000)
        let (days, secondOfDay) = Self.floorDivision(wholeSeconds, 86_400)
        self.microsecond = Int(microsecond)
        self.hour = Int(secondOfDay / 3600)
        self.minute = Int(secondOfDay % 3600 / 60)
        self.second = Int(secondOfDay % 60)

        // Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil_from_days).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        self.day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        self.month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        self.year = Int(yearOfEra + era * 400) + (self.month <= 2 ? 1 : 0)
    }

    /// `2025-10-07T21:30:15.123456Z`
    var rfc3339Microseconds: String {
        Self.digits(self.year, 4) + "-" + Self.digits(self.month, 2) + "-" + Self.digits(self.day, 2) + "T"
            + Self.digits(self.hour, 2) + ":" + Self.digits(self.minute, 2) + ":" + Self.digits(self.second, 2)
            + "." + Self.digits(self.microsecond, 6) + "Z"
    }

    /// `21:30:15.123`
    var clockMilliseconds: String {
        Self.digits(self.hour, 2) + ":" + Self.digits(self.minute, 2) + ":" + Self.digits(self.second, 2) + "."
            + Self.digits(self.microsecond / 1000, 3)
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value / divisor
        let remainder = value % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    private static func digits(_ value: Int, _ count: Int) -> String {
        let text = String(value)
        return text.count >= count ? text : String(repeating: "0", count: count - text.count) + text
    }
}

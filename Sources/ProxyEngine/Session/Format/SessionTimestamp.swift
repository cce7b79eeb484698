import Foundation

/// RFC 3339 timestamps of session files: written in UTC with microseconds (`2025-10-07T21:30:15.123456Z`),
/// read leniently (no fraction, any number of fraction digits, `Z` or a `+02:00` offset, `T` or a space).
///
/// Hand-written because `ISO8601DateFormatter` stops at milliseconds, is slow, and is not Sendable; the calendar
/// arithmetic is the proleptic Gregorian "days from civil" conversion, exact for years 0000...9999.
public enum SessionTimestamp {
    /// Seconds between 1970-01-01 and 2001-01-01, Foundation's reference date.
    static let referenceDateOffsetMicros: Int64 = 978_307_200 * 1_000_000
    /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z as microseconds since 1970.
    static let minimumMicros: Int64 = -62_167_219_200 * 1_000_000
    static let maximumMicros: Int64 = 253_402_300_800 * 1_000_000 - 1

    /// Microseconds since 1970 (rounded to the nearest), clamped to years 0000...9999.
    ///
    /// Works from `timeIntervalSinceReferenceDate` (Date's own storage) so that a date read from a file
    /// writes back as the very same digits.
    static func microsSince1970(_ date: Date) -> Int64 {
        let sinceReference = date.timeIntervalSinceReferenceDate * 1_000_000
        guard sinceReference.isFinite else {
            return sinceReference.sign == .minus ? self.minimumMicros : self.maximumMicros
        }
        let rounded = sinceReference.rounded()
        let minimum = Double(self.minimumMicros - self.referenceDateOffsetMicros)
        let maximum = Double(self.maximumMicros - self.referenceDateOffsetMicros)
        // The bounds are not exact as Doubles (they round up past 9999-12-31T23:59:59.999999Z), so clamp again in
        // integers: otherwise the last representable instant printed as year "0000" (10000 cut to 4 digits).
        let micros = Int64(min(max(rounded, minimum), maximum)) + self.referenceDateOffsetMicros
        return min(max(micros, self.minimumMicros), self.maximumMicros)
    }

    /// The date for a count of microseconds since 1970 (the exact inverse of `microsSince1970`).
    static func date(microsSince1970 micros: Int64) -> Date {
        Date(timeIntervalSinceReferenceDate: Double(micros - self.referenceDateOffsetMicros) / 1_000_000)
    }

    /// `2025-10-07T21:30:15.123456Z`.
    public static func format(_ date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        self.append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `2025-10-07T21:30:15.123456Z` (27 ASCII bytes).
    static func append(_ date: Date, to bytes: inout [UInt8]) {
        let micros = self.microsSince1970(date)
        let (seconds, fraction) = Self.floorDivide(micros, 1_000_000)
        let (days, secondOfDay) = Self.floorDivide(seconds, 86_400)
        let (year, month, day) = Self.civil(fromDays: days)
        Self.appendDigits(year, count: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Self.appendDigits(month, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Self.appendDigits(day, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        Self.appendDigits(secondOfDay / 3600, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        Self.appendDigits(secondOfDay / 60 % 60, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        Self.appendDigits(secondOfDay % 60, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        Self.appendDigits(fraction, count: 6, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// `2025-10-07_21-30-15` in UTC, the time part of a session file name.
    public static func fileNameStamp(_ date: Date) -> String {
        let micros = self.microsSince1970(date)
        let seconds = Self.floorDivide(micros, 1_000_000).quotient
        let (days, secondOfDay) = Self.floorDivide(seconds, 86_400)
        let (year, month, day) = Self.civil(fromDays: days)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(19)
        Self.appendDigits(year, count: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Self.appendDigits(month, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Self.appendDigits(day, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "_"))
        Self.appendDigits(secondOfDay / 3600, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Self.appendDigits(secondOfDay / 60 % 60, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Self.appendDigits(secondOfDay % 60, count: 2, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads an RFC 3339 timestamp; nil when `text` is not one.
    ///
    /// Accepts `YYYY-MM-DD(T|t| )HH:MM:SS[.fraction][Z|z|+HH:MM|-HH:MM|+HHMM|+HH]`; without a zone the time is
    /// taken as UTC. Fractions beyond microseconds are rounded to the nearest microsecond.
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { Self.parse(utf8: $0) }
    }

    static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var index = 0
        func number(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for offset in 0..<count {
                let byte = bytes[index + offset]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }
        func expect(_ allowed: UInt8...) -> Bool {
            guard index < bytes.count, allowed.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
            let day = number(2), expect(UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")),
            let hour = number(2), expect(UInt8(ascii: ":")), let minute = number(2), expect(UInt8(ascii: ":")),
            let second = number(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= Self.daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }

        var fractionMicros: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: ",") {
            index += 1
            var digits = 0
            var roundUp = false
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                let digit = Int64(bytes[index] - UInt8(ascii: "0"))
                if digits < 6 {
                    fractionMicros = fractionMicros * 10 + digit
                } else if digits == 6 {
                    roundUp = digit >= 5
                }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in min(digits, 6)..<6 {
                fractionMicros *= 10
            }
            if roundUp {
                fractionMicros += 1
            }
        }

        var offsetSeconds: Int64 = 0
        if index < bytes.count {
            let zone = bytes[index]
            index += 1
            if zone == UInt8(ascii: "Z") || zone == UInt8(ascii: "z") {
                // UTC
            } else if zone == UInt8(ascii: "+") || zone == UInt8(ascii: "-") {
                guard let offsetHours = number(2), offsetHours <= 23 else { return nil }
                var offsetMinutes: Int64 = 0
                if index < bytes.count {
                    _ = expect(UInt8(ascii: ":"))
                    guard let minutes = number(2), minutes <= 59 else { return nil }
                    offsetMinutes = minutes
                }
                offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (zone == UInt8(ascii: "-") ? -1 : 1)
            } else {
                return nil
            }
        }
        guard index == bytes.count else { return nil }

        let days = Self.days(fromCivil: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Self.date(microsSince1970: seconds * 1_000_000 + fractionMicros)
    }

    // MARK: - Calendar arithmetic

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var quotient = value / divisor
        var remainder = value % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func days(fromCivil year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a count of days since 1970-01-01.
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }

    static func appendDigits(_ value: Int64, count: Int, to bytes: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<count {
            divisor *= 10
        }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}

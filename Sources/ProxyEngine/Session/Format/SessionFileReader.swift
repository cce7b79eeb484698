import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a session file holds: every complete event, and where the file was cut off if it was not closed.
public struct SessionFileContents: Sendable, Equatable {
    public var events: [SessionEvent]
    /// nil for a finished file (closing `]` present); set when the recording was interrupted (crash, kill, power
    /// loss) and the file ends early. `events` still holds every event that was written completely.
    public var cut: CutOff?

    public init(events: [SessionEvent], cut: CutOff?) {
        self.events = events
        self.cut = cut
    }

    /// Where and why a file ends early.
    public struct CutOff: Sendable, Equatable, CustomStringConvertible {
        /// 1-based line of the incomplete event, or of the end of the file when only the `]` is missing.
        public var line: Int
        public var reason: String

        public init(line: Int, reason: String) {
            self.line = line
            self.reason = reason
        }

        public var description: String { "line \(self.line): \(self.reason)" }
    }
}

/// Why a session file cannot be read. Each description is one line naming the file.
public enum SessionFileError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(path: String)
    /// The file exists but cannot be read (permissions, a directory, an I/O error).
    case unreadable(path: String, reason: String)
    /// The file is readable but is not a pgreel/seed session file; `line` is 1-based.
    case notASessionFile(path: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case .notFound(let path):
            return "session file \(path) does not exist"
        case .unreadable(let path, let reason):
            return "cannot read session file \(path): \(reason)"
        case .notASessionFile(let path, let line, let reason):
            return "\(path):\(line): not a session file: \(reason)"
        }
    }
}

/// Reads session files: pgreel's one-event-per-line files, finished or cut off anywhere, and the seed's
/// pretty-printed arrays.
///
/// One pass: the top-level array is walked by hand (line numbers, commas, the closing `]`) and each element is
/// parsed on its own by `JSONParser`, straight from the file's bytes. That is what makes a cut-off file readable
/// (every element before the cut is whole) and lets an error name the line of the bad event. Only when an element
/// does not parse does `endOfObject` look again, to tell a file cut inside that event from one that is not JSON.
public enum SessionFileReader {
    public static func read(path: String) throws(SessionFileError) -> SessionFileContents {
        let bytes = try Self.readBytes(path: path)
        return try Self.parse(bytes, path: path)
    }

    /// Reads session file content already in memory; `path` only names it in errors.
    public static func parse(_ bytes: [UInt8], path: String) throws(SessionFileError) -> SessionFileContents {
        var scanner = SessionFileScanner(path: path)
        do {
            try bytes.withUnsafeBufferPointer { (buffer) throws(SessionFileError) in
                try scanner.scan(buffer)
            }
        }
        return SessionFileContents(events: scanner.events, cut: scanner.cut)
    }

    /// The first `byteLimit` bytes of a file (fewer when it is shorter): what `SessionFileHead` parses. An event
    /// cut by the limit reads as the file's cut-off point, so every event before it is whole.
    static func readPrefix(path: String, byteLimit: Int) throws(SessionFileError) -> [UInt8] {
        let (descriptor, _) = try Self.openRegularFile(path: path)
        defer { _ = close(descriptor) }
        return try Self.read(descriptor, upTo: max(byteLimit, 0), path: path)
    }

    /// The last `byteLimit` bytes of a file (all of it when shorter): where its last event's time is.
    static func readSuffix(path: String, byteLimit: Int) throws(SessionFileError) -> [UInt8] {
        let (descriptor, info) = try Self.openRegularFile(path: path)
        defer { _ = close(descriptor) }
        let size = Int(info.st_size)
        let start = max(0, size - max(byteLimit, 0))
        guard lseek(descriptor, off_t(start), SEEK_SET) >= 0 else {
            throw SessionFileError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        return try Self.read(descriptor, upTo: size - start, path: path)
    }

    /// Up to `count` bytes from the descriptor's position (fewer at the end of the file).
    private static func read(_ descriptor: Int32, upTo count: Int, path: String) throws(SessionFileError) -> [UInt8] {
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            while initialized < buffer.count {
                let rest = UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[initialized...]))
                let count = SessionFileSyscalls.readSome(descriptor, into: rest)
                if count > 0 {
                    initialized += count
                } else if count == 0 {
                    return
                } else if errno != EINTR {
                    failure = errno
                    return
                }
            }
        }
        guard failure == 0 else {
            throw SessionFileError.unreadable(path: path, reason: String(cString: strerror(failure)))
        }
        return bytes
    }

    /// Opens `path` for reading, refusing what is not a regular file with a reason a user understands.
    private static func openRegularFile(path: String) throws(SessionFileError) -> (Int32, stat) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT {
                throw SessionFileError.notFound(path: path)
            }
            throw SessionFileError.unreadable(path: path, reason: String(cString: strerror(code)))
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = close(descriptor)
            throw SessionFileError.unreadable(path: path, reason: reason)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            _ = close(descriptor)
            let kind = info.st_mode & S_IFMT == S_IFDIR ? "it is a directory" : "it is not a regular file"
            throw SessionFileError.unreadable(path: path, reason: kind)
        }
        return (descriptor, info)
    }

    private static func readBytes(path: String) throws(SessionFileError) -> [UInt8] {
        let (descriptor, info) = try Self.openRegularFile(path: path)
        defer { _ = close(descriptor) }
        // Straight into the array, sized by the file (one byte more, to see the end without a second call); a file
        // that grows meanwhile (a session still recording) is read on in chunks.
        let capacity = max(Int(info.st_size), 0) + 1
        var bytes = try Self.read(descriptor, upTo: capacity, path: path)
        if bytes.count < capacity {
            return bytes
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { SessionFileSyscalls.readSome(descriptor, into: $0) }
            if count > 0 {
                bytes.append(contentsOf: chunk[0..<count])
            } else if count == 0 {
                return bytes
            } else if errno != EINTR {
                throw SessionFileError.unreadable(path: path, reason: String(cString: strerror(errno)))
            }
        }
    }
}

/// One pass over the bytes of a session file.
struct SessionFileScanner {
    let path: String
    var events: [SessionEvent] = []
    var cut: SessionFileContents.CutOff?
    private var line = 1

    init(path: String) {
        self.path = path
    }

    private func failure(_ line: Int, _ reason: String) -> SessionFileError {
        .notASessionFile(path: self.path, line: line, reason: reason)
    }

    mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>) throws(SessionFileError) {
        var index = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            index = 3
        }
        index = self.skipWhitespace(bytes, from: index)
        guard index < bytes.count, bytes[index] != 0 else {
            let reason =
                index < bytes.count
                ? "the file holds only zero bytes (the system stopped before the data reached the disk)"
                : "the file is empty (the recording stopped before anything was written)"
            self.cut = .init(line: self.line, reason: reason)
            return
        }
        guard bytes[index] == UInt8(ascii: "[") else {
            if bytes[index] == UInt8(ascii: "{") {
                throw self.failure(self.line, "the file holds a single JSON object, not an array of events")
            }
            throw self.failure(self.line, "it does not start with \"[\" (a session file is a JSON array of events)")
        }
        index += 1

        // pgreel writes an event per line, and an event takes more than 64 bytes: room for them all at once,
        // rather than copying every event each time the array grows (what the system does not touch of a
        // pretty-printed file's excess costs nothing).
        self.events.reserveCapacity(min(Self.lineCount(bytes), bytes.count / 64) + 1)
        var parser = JSONParser(bytes)
        var expectingEvent = true
        var lastEventLine = self.line
        while true {
            index = self.skipWhitespace(bytes, from: index)
            guard index < bytes.count else {
                let after = self.events.isEmpty ? "before the first event" : "after \(self.events.count) event(s)"
                self.cut = .init(
                    line: self.line,
                    reason: "no closing \"]\": the recording was interrupted \(after)"
                )
                return
            }
            let byte = bytes[index]
            if byte == 0 {
                self.cut = .init(
                    line: self.line,
                    reason: "zero bytes instead of data from here on (the system stopped before the data reached "
                        + "the disk) after \(self.events.count) event(s)"
                )
                return
            }
            if byte == UInt8(ascii: "]") {
                index = self.skipWhitespace(bytes, from: index + 1)
                if index < bytes.count, bytes[index...].contains(where: { $0 != 0 }) {
                    throw self.failure(self.line, "unexpected text after the closing \"]\"")
                }
                return
            }
            if byte == UInt8(ascii: ",") {
                guard !expectingEvent else {
                    throw self.failure(self.line, "a \",\" where an event should be")
                }
                expectingEvent = true
                index += 1
                continue
            }
            guard expectingEvent else {
                throw self.failure(self.line, "expected \",\" or \"]\" after the event on line \(lastEventLine)")
            }
            guard byte == UInt8(ascii: "{") else {
                throw self.failure(
                    self.line, "expected an event object {\"type\": ..., \"timestamp\": ..., \"data\": ...}"
                )
            }
            let startLine = self.line
            let object: JSONValue
            do {
                object = try parser.parseValue(at: index)
            } catch {
                // Either the file was cut inside this event (its braces never close: a crash, not bad data) or
                // the event is whole and is not JSON. Telling them apart costs a second look only here.
                guard self.endOfObject(bytes, from: index) != nil else {
                    self.cut = .init(
                        line: startLine,
                        reason: "the event starting on line \(startLine) is incomplete (the recording was "
                            + "interrupted while writing it) after \(self.events.count) complete event(s)"
                    )
                    return
                }
                let place = Self.explain(error, in: bytes, event: index, line: startLine)
                throw self.failure(startLine, "the event is not valid JSON: \(place)")
            }
            do {
                self.events.append(try SessionEventJSON.decode(object))
            } catch {
                throw self.failure(startLine, error.reason)
            }
            self.line += parser.newlines
            index = parser.position
            lastEventLine = startLine
            expectingEvent = false
        }
    }

    /// The parser's message with the place of the error: `(column 7)` on the event's first line, `(line 30,
    /// column 7)` further down (the seed's pretty-printed events span lines).
    private static func explain(
        _ error: JSONParseError, in bytes: UnsafeBufferPointer<UInt8>, event start: Int, line: Int
    ) -> String {
        let offset = min(error.offset, bytes.count)
        var newlines = 0
        // The event's line may begin before the event itself (after "[" or ",").
        var lineStart = start
        while lineStart > 0, bytes[lineStart - 1] != UInt8(ascii: "\n") {
            lineStart -= 1
        }
        for index in start..<offset where bytes[index] == UInt8(ascii: "\n") {
            newlines += 1
            lineStart = index + 1
        }
        let column = offset - lineStart + 1
        guard newlines > 0 else {
            return "\(error.kind.message) (column \(column))"
        }
        return "\(error.kind.message) (line \(line + newlines), column \(column))"
    }

    /// The number of line feeds in `bytes` (memchr runs through them many bytes at a time).
    private static func lineCount(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var count = 0
        var next = UnsafeRawPointer(base)
        let end = next + bytes.count
        while next < end, let found = memchr(next, Int32(UInt8(ascii: "\n")), end - next) {
            count += 1
            next = UnsafeRawPointer(found) + 1
        }
        return count
    }

    /// Skips JSON whitespace, counting lines.
    private mutating func skipWhitespace(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\n"):
                self.line += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                break
            default:
                return index
            }
            index += 1
        }
        return index
    }

    /// The index just past the `}` that closes the object opening at `start`; nil when the bytes end first.
    /// Counts lines only when the object is complete, so a cut-off event reports its first line.
    private mutating func endOfObject(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var depth = 0
        var inString = false
        var newlines = 0
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if inString {
                if byte == UInt8(ascii: "\\") {
                    index += 1
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                } else if byte == UInt8(ascii: "\n") {
                    newlines += 1
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 {
                    self.line += newlines
                    return index
                }
            case UInt8(ascii: "\n"):
                newlines += 1
            default:
                break
            }
        }
        return nil
    }
}

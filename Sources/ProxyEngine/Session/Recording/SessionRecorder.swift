import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a session file could not be created. Each description is one line a user can act on.
public enum SessionRecorderError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotCreateDirectory(path: String, reason: String)
    case notADirectory(path: String)
    case cannotCreateFile(path: String, reason: String)
    case writerShutDown

    public var description: String {
        switch self {
        case .cannotCreateDirectory(let path, let reason):
            return "cannot create the session directory \(path): \(reason)"
        case .notADirectory(let path):
            return "cannot record sessions in \(path): it exists but is not a directory"
        case .cannotCreateFile(let path, let reason):
            return "cannot create session file \(path): \(reason)"
        case .writerShutDown:
            return "cannot record the session: the session file writer has been shut down"
        }
    }
}

/// The session file of one session: `record` queues events, the `SessionFileWriter` thread encodes and writes them.
///
/// Layout on disk (docs/session-format.md): `[` on the first line, one event per line, `]` on the last; an event
/// line's trailing comma is written with the next event, so after every write the file is whole lines that a
/// reader can use even if the process dies right then.
///
/// Thread-safe: every method may be called from any thread; the state below is guarded by `lock`, and the file
/// descriptor belongs to the writer thread once `create` returns.
public final class SessionRecorder: @unchecked Sendable {
    public let path: String
    private let writer: SessionFileWriter
    private let limits: SessionFileWriter.Limits
    private let lock = SessionFileLock()

    // Guarded by `lock`.
    private var queue: [SessionEvent] = []
    private var queuedBytes = 0
    /// What the writer thread has taken but not yet written.
    private var inFlightEvents = 0
    private var inFlightBytes = 0
    /// True while this recorder is on the writer's list of sessions with work.
    private var scheduled = false
    private var closeRequested = false
    /// The descriptor is closed: after `close` completed, or after a failure.
    private var finished = false
    private var backlogged = false
    private var failureMessage: String?
    private var discarded = 0
    private var written = 0
    private var drainHandler: (@Sendable () -> Void)?
    private var failureHandler: (@Sendable (String) -> Void)?

    // The writer thread's alone (and `init`/`deinit`'s).
    private var descriptor: Int32
    private var wroteEvent = false

    private init(path: String, descriptor: Int32, writer: SessionFileWriter) {
        self.path = path
        self.descriptor = descriptor
        self.writer = writer
        self.limits = writer.limits
    }

    deinit {
        // Only reached with nothing queued (a queued recorder is held by the writer). A session that was never
        // closed still gets a finished file.
        if self.descriptor >= 0 {
            if !self.finished, self.failureMessage == nil {
                _ = SessionFileSyscalls.writeAll(self.descriptor, Array("\n]\n".utf8))
            }
            SessionFileSyscalls.closeDescriptor(self.descriptor)
        }
        self.writer.unregister(ObjectIdentifier(self))
    }

    // MARK: Creating

    /// Creates `directory` (mode 0700, with any missing parents) if needed and a new session file in it,
    /// `<pseudo_user>_<YYYY-MM-DD_HH-MM-SS>.json` (UTC), with `_2`, `_3` ... before `.json` when the name is taken.
    ///
    /// The file is made with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600, so an existing file or symlink is never
    /// opened; an existing directory keeps its permissions. Its first line, `[`, is written before this returns.
    /// Blocking file-system calls: call it off the event loop if the disk may be slow.
    public static func create(
        directory: String, pseudoUser: String, startTime: Date, writer: SessionFileWriter
    ) throws(SessionRecorderError) -> SessionRecorder {
        try Self.makeDirectory(directory)
        let (path, descriptor) = try Self.createFile(
            directory: directory, baseName: Self.fileNameBase(pseudoUser: pseudoUser, startTime: startTime)
        )
        if let code = SessionFileSyscalls.writeAll(descriptor, Array("[\n".utf8)) {
            SessionFileSyscalls.closeDescriptor(descriptor)
            unlink(path)
            throw .cannotCreateFile(path: path, reason: SessionFileSyscalls.message(code))
        }
        let recorder = SessionRecorder(path: path, descriptor: descriptor, writer: writer)
        guard writer.register(recorder) else {
            recorder.finished = true
            recorder.descriptor = -1
            SessionFileSyscalls.closeDescriptor(descriptor)
            unlink(path)
            throw .writerShutDown
        }
        return recorder
    }

    /// `<pseudo_user>_<YYYY-MM-DD_HH-MM-SS>` with the user reduced to [A-Za-z0-9._-] (others become `_`), no
    /// leading dot (no hidden files), at most 64 characters; `session` when nothing is left.
    static func fileNameBase(pseudoUser: String, startTime: Date) -> String {
        var user = ""
        for scalar in pseudoUser.unicodeScalars.prefix(64) {
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", ".", "_", "-":
                user.unicodeScalars.append(scalar)
            default:
                user.append("_")
            }
        }
        if user.hasPrefix(".") {
            user = "_" + user.dropFirst()
        }
        if user.isEmpty {
            user = "session"
        }
        return user + "_" + SessionTimestamp.fileNameStamp(startTime)
    }

    private static func createFile(
        directory: String, baseName: String
    ) throws(SessionRecorderError) -> (path: String, descriptor: Int32) {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        var attempt = 1
        while attempt <= 10_000 {
            let path = prefix + baseName + (attempt == 1 ? "" : "_\(attempt)") + ".json"
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(0o600))
            if descriptor >= 0 {
                return (path, descriptor)
            }
            let code = errno
            switch code {
            case EINTR:
                continue
            case EEXIST, ELOOP:
                attempt += 1
            default:
                throw .cannotCreateFile(path: path, reason: SessionFileSyscalls.message(code))
            }
        }
        throw .cannotCreateFile(
            path: prefix + baseName + ".json", reason: "10000 files with this name already exist"
        )
    }

    /// Makes `path` and its missing parents with mode 0700; an existing directory is left as it is.
    private static func makeDirectory(_ path: String) throws(SessionRecorderError) {
        guard !path.isEmpty else {
            throw .cannotCreateDirectory(path: path, reason: "the directory name is empty")
        }
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw .notADirectory(path: path) }
            return
        }
        let statError = errno
        guard statError == ENOENT else {
            throw .cannotCreateDirectory(path: path, reason: SessionFileSyscalls.message(statError))
        }
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") {
            trimmed = trimmed.dropLast()
        }
        if let slash = trimmed.lastIndex(of: "/"), slash != trimmed.startIndex {
            try Self.makeDirectory(String(trimmed[..<slash]))
        }
        if mkdir(path, mode_t(0o700)) != 0 {
            let code = errno
            if code == EEXIST, stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
                return
            }
            throw .cannotCreateDirectory(path: path, reason: SessionFileSyscalls.message(code))
        }
    }

    // MARK: Recording

    /// Queues `event` for the writer thread. Never blocks on I/O and never drops an event while the file is
    /// healthy; after a failure or `close` the event is discarded and counted in `discardedEvents`.
    /// Check `isBacklogged` afterwards to know whether to stop reading from the client.
    public func record(_ event: SessionEvent) {
        let size = SessionEventJSON.estimatedSize(of: event)
        self.lock.lock()
        guard !self.closeRequested, self.failureMessage == nil else {
            self.discarded += 1
            self.lock.unlock()
            return
        }
        self.queue.append(event)
        self.queuedBytes += size
        if !self.backlogged,
            self.queue.count + self.inFlightEvents > self.limits.highWatermarkEvents
                || self.queuedBytes + self.inFlightBytes > self.limits.highWatermarkBytes
        {
            self.backlogged = true
        }
        let mustSchedule = !self.scheduled
        self.scheduled = true
        self.lock.unlock()
        if mustSchedule {
            self.scheduleOrFail()
        }
    }

    /// Writes the closing `]` after everything queued and closes the file, on the writer thread; returns at once
    /// (use `flushAndWait` to wait). Later events are discarded. Calling it again does nothing.
    public func close() {
        self.lock.lock()
        guard !self.closeRequested, !self.finished else {
            self.lock.unlock()
            return
        }
        self.closeRequested = true
        let mustSchedule = !self.scheduled
        self.scheduled = true
        self.lock.unlock()
        if mustSchedule {
            self.scheduleOrFail()
        }
    }

    /// Waits until every event queued so far is written (and the file closed, if `close` was called), or the
    /// recording failed. Returns false if `timeout` passed first, or when called on the writer thread itself
    /// (from a handler), where waiting would deadlock.
    @discardableResult
    public func flushAndWait(timeout: Duration? = nil) -> Bool {
        if self.writer.isWriterThread {
            return self.lock.withLock { self.isIdle }
        }
        let deadline = timeout.map { SessionFileLock.realtimeNow() + Self.seconds($0) }
        self.lock.lock()
        defer { self.lock.unlock() }
        while !self.isIdle {
            if let deadline {
                if !self.lock.wait(untilRealtime: deadline) {
                    return self.isIdle
                }
            } else {
                self.lock.wait()
            }
        }
        return true
    }

    /// Nothing left to write. Caller holds `lock`.
    private var isIdle: Bool {
        self.queue.isEmpty && self.inFlightEvents == 0 && (!self.closeRequested || self.finished)
    }

    // MARK: State

    /// True while more than the high watermark (4 MiB or 20,000 events by default) waits to be written; stays
    /// true until the backlog falls under the low watermark, when the drain handler runs.
    public var isBacklogged: Bool {
        self.lock.withLock { self.backlogged }
    }

    /// Why recording stopped (disk full, I/O error ...), or nil while it works.
    public var failure: String? {
        self.lock.withLock { self.failureMessage }
    }

    /// Events thrown away because they came after a failure or after `close`.
    public var discardedEvents: Int {
        self.lock.withLock { self.discarded }
    }

    /// Events handed to the operating system so far.
    public var writtenEvents: Int {
        self.lock.withLock { self.written }
    }

    /// Events queued or being written.
    public var pendingEvents: Int {
        self.lock.withLock { self.queue.count + self.inFlightEvents }
    }

    /// Called on the writer thread each time the backlog falls under the low watermark after `isBacklogged` was
    /// true (also when a failure or `close` empties it), so the proxy can read from the client again.
    /// Released when the file is closed, which breaks any cycle through the handler.
    public func setDrainHandler(_ handler: @escaping @Sendable () -> Void) {
        let replaced: (@Sendable () -> Void)? = self.lock.withLock {
            guard !self.finished else { return nil }
            defer { self.drainHandler = handler }
            return self.drainHandler
        }
        withExtendedLifetime(replaced) {}
    }

    /// Called once, on the writer thread, when writing fails; at once, on this thread, if it already failed.
    public func setFailureHandler(_ handler: @escaping @Sendable (String) -> Void) {
        let (message, replaced): (String?, (@Sendable (String) -> Void)?) = self.lock.withLock {
            if let message = self.failureMessage {
                return (message, nil)
            }
            guard !self.finished else { return (nil, nil) }
            defer { self.failureHandler = handler }
            return (nil, self.failureHandler)
        }
        withExtendedLifetime(replaced) {}
        if let message {
            handler(message)
        }
    }

    // MARK: The writer thread's side

    /// Encodes everything queued into `buffer` and writes it with one `write`, plus the closing `]` when `close`
    /// was called. Runs on the writer thread only.
    func writePending(buffer: inout [UInt8]) {
        self.lock.lock()
        self.scheduled = false
        guard !self.finished else {
            self.lock.unlock()
            return
        }
        var events: [SessionEvent] = []
        swap(&events, &self.queue)
        self.inFlightEvents = events.count
        self.inFlightBytes = self.queuedBytes
        let estimatedBytes = self.queuedBytes
        self.queuedBytes = 0
        let closing = self.closeRequested
        self.lock.unlock()

        guard !events.isEmpty || closing else { return }
        buffer.removeAll(keepingCapacity: true)
        // One allocation of about the right size: growing by doubling while encoding an 8 MiB COPY event held the
        // old and the new array at once (24 MiB for a moment, measured as peak RSS).
        let estimate = estimatedBytes + 2 * events.count + 8
        if buffer.capacity < estimate {
            buffer.reserveCapacity(estimate + estimate / 8)
        }
        for event in events {
            if self.wroteEvent {
                buffer.append(UInt8(ascii: ","))
                buffer.append(UInt8(ascii: "\n"))
            }
            SessionEventJSON.encode(event, into: &buffer)
            self.wroteEvent = true
        }
        if closing {
            buffer.append(contentsOf: "\n]\n".utf8)
        }
        if self.writer.writeDelay > .zero {
            Thread.sleep(forTimeInterval: Self.seconds(self.writer.writeDelay))
        }
        let errorCode = self.writer.injectedWriteError ?? SessionFileSyscalls.writeAll(self.descriptor, buffer)
        if closing || errorCode != nil {
            SessionFileSyscalls.closeDescriptor(self.descriptor)
            self.descriptor = -1
        }

        self.lock.lock()
        self.inFlightEvents = 0
        self.inFlightBytes = 0
        var failure: (handler: (@Sendable (String) -> Void)?, message: String)?
        if let errorCode {
            let message = "cannot write session file \(self.path): \(SessionFileSyscalls.message(errorCode))"
            self.failureMessage = message
            self.discarded += events.count + self.queue.count
            self.queue.removeAll()
            self.queuedBytes = 0
            self.finished = true
            failure = (self.failureHandler, message)
        } else {
            self.written += events.count
            self.finished = closing
        }
        let drain = self.takeDrainHandlerIfDrained()
        let retired = self.finished ? self.retireHandlers() : nil
        self.lock.broadcast()
        let finished = self.finished
        self.lock.unlock()
        withExtendedLifetime(retired) {}

        if finished {
            self.writer.unregister(self)
        }
        if let failure {
            failure.handler?(failure.message)
        }
        drain?()
    }

    /// Ends the backlog when it fell under the low watermark (or nothing more will be written); the handler to
    /// call then. Caller holds `lock`.
    private func takeDrainHandlerIfDrained() -> (@Sendable () -> Void)? {
        guard self.backlogged else { return nil }
        let drained =
            self.finished
            || (self.queue.count + self.inFlightEvents <= self.limits.lowWatermarkEvents
                && self.queuedBytes + self.inFlightBytes <= self.limits.lowWatermarkBytes)
        guard drained else { return nil }
        self.backlogged = false
        return self.drainHandler
    }

    /// The writer has stopped, so nothing queued will be written: record that as the failure.
    private func scheduleOrFail() {
        guard !self.writer.schedule(self) else { return }
        self.lock.lock()
        self.scheduled = false
        let message = "cannot write session file \(self.path): the session file writer has been shut down"
        let isNew = self.failureMessage == nil
        if isNew {
            self.failureMessage = message
        }
        self.discarded += self.queue.count
        self.queue.removeAll()
        self.queuedBytes = 0
        self.finished = true
        let drain = self.takeDrainHandlerIfDrained()
        let handler = isNew ? self.failureHandler : nil
        let retired = self.retireHandlers()
        self.lock.broadcast()
        self.lock.unlock()
        withExtendedLifetime(retired) {}
        handler?(message)
        drain?()
    }

    /// Drops the handlers once nothing more will happen (breaking any cycle through them) and returns them, so
    /// that the caller releases them after unlocking: a release can run a deinit that calls back into this
    /// recorder. Caller holds `lock`.
    private func retireHandlers() -> (drain: (@Sendable () -> Void)?, failure: (@Sendable (String) -> Void)?) {
        let handlers = (self.drainHandler, self.failureHandler)
        self.drainHandler = nil
        self.failureHandler = nil
        return handlers
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

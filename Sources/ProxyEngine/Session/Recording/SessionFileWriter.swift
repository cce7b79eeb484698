import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one background thread that encodes and writes the session files of every session.
///
/// Why one plain thread with a condition variable (and not NIOThreadPool or a thread per session): `write(2)` on a
/// file blocks, so it must stay off the event loops; one thread is enough for tens of thousands of events a second
/// because each wake-up writes everything a session has queued with a single `write`; a thread that owns its
/// loop keeps the "which sessions have work" list and a reusable encode buffer to itself, without the
/// per-task closures and allocation of a pool; and it stays free of NIO, so the reader and tools use it as is.
///
/// Lifecycle: make one at start-up, pass it to `SessionRecorder.create`, call `shutdown()` at exit (the thread
/// keeps the writer alive until then).
public final class SessionFileWriter: @unchecked Sendable {
    /// When a session counts as backlogged (the proxy then stops reading from its client) and when it is drained.
    public struct Limits: Sendable, Equatable {
        public var highWatermarkBytes: Int
        public var highWatermarkEvents: Int
        public var lowWatermarkBytes: Int
        public var lowWatermarkEvents: Int
        /// After writing a batch, the thread waits this long before it looks for more work, so that under load
        /// each session gets one `write` per interval instead of one per event, and the proxy's threads never
        /// have to wake the writer (it is not asleep on the condition then). It bounds how old the newest event
        /// in a file can be: a `kill -9` loses at most this much of the recording.
        public var batchInterval: Duration

        public init(
            highWatermarkBytes: Int = 4 << 20, highWatermarkEvents: Int = 20_000,
            lowWatermarkBytes: Int = 1 << 20, lowWatermarkEvents: Int = 5_000,
            batchInterval: Duration = .milliseconds(10)
        ) {
            self.highWatermarkBytes = highWatermarkBytes
            self.highWatermarkEvents = highWatermarkEvents
            self.lowWatermarkBytes = min(lowWatermarkBytes, highWatermarkBytes)
            self.lowWatermarkEvents = min(lowWatermarkEvents, highWatermarkEvents)
            self.batchInterval = max(batchInterval, .zero)
        }

        /// 4 MiB or 20,000 events up, 1 MiB and 5,000 events down, a batch every 10 ms at most.
        public static let `default` = Limits()
    }

    private enum State {
        case running
        /// `shutdown` is closing the open files; the thread keeps writing, nothing new may register.
        case closing
        /// Drain what is queued, then stop.
        case stopping
        case stopped
    }

    public let limits: Limits
    /// Test hook: sleep this long before each write, to simulate a slow disk.
    let writeDelay: Duration
    /// Test hook: fail every event write with this errno (ENOSPC for a full disk) instead of writing.
    let injectedWriteError: Int32?

    /// Guards everything below; its condition wakes the thread (work or stop) and `shutdown` (stopped).
    private let lock = SessionFileLock()
    private var ready: [SessionRecorder] = []
    private var state = State.running
    private var openRecorders: [ObjectIdentifier: WeakRecorder] = [:]
    private var writerThreadID: pthread_t?
    /// True while the thread works through a batch; `completedBatches` counts the batches done.
    private var busy = false
    private var completedBatches = 0

    public convenience init(limits: Limits = .default) {
        self.init(limits: limits, writeDelay: .zero, injectedWriteError: nil)
    }

    /// For tests: a writer with a slow or failing disk.
    init(limits: Limits, writeDelay: Duration, injectedWriteError: Int32? = nil) {
        self.limits = limits
        self.writeDelay = writeDelay
        self.injectedWriteError = injectedWriteError
        let thread = Thread { [self] in
            self.run()
        }
        thread.start()
    }

    /// Writes everything queued, closes every file still open (with its closing `]`), and stops the thread.
    /// Events recorded afterwards are discarded and counted; `create` then throws `.writerShutDown`.
    /// Safe to call more than once and from several threads; every call returns once the thread has stopped
    /// (except one made on the writer thread itself, from a handler, which cannot wait for it).
    public func shutdown() {
        let current = pthread_self()
        let first: Bool = self.lock.withLock {
            guard self.state == .running else { return false }
            // From here on no new recorder registers, so the list below is complete.
            self.state = .closing
            return true
        }
        if first {
            // Scoped so that the recorders are released before the lock is taken again (a release may run a
            // recorder's deinit, which takes the lock).
            do {
                let recorders = self.lock.withLock { self.openRecorders.values.compactMap(\.recorder) }
                for recorder in recorders {
                    recorder.close()
                }
            }
            self.lock.withLock {
                self.state = .stopping
                self.lock.broadcast()
            }
        }
        self.lock.lock()
        let onWriterThread = self.writerThreadID.map { pthread_equal($0, current) != 0 } ?? false
        if !onWriterThread {
            while self.state != .stopped {
                self.lock.wait()
            }
        }
        self.lock.unlock()
    }

    /// Waits until every event recorded before this call, in every session, is written; returns false if
    /// `timeout` passed first, or at once when called on the writer thread (from a handler).
    ///
    /// Everything queued sits on the list of sessions with work or in the batch being written, so two batches
    /// (the one under way and the next) are enough even while sessions keep recording.
    @discardableResult
    public func flushAndWait(timeout: Duration? = nil) -> Bool {
        let current = pthread_self()
        let deadline = timeout.map { SessionFileLock.realtimeNow() + SessionRecorder.seconds($0) }
        self.lock.lock()
        defer { self.lock.unlock() }
        if self.writerThreadID.map({ pthread_equal($0, current) != 0 }) ?? false {
            return self.ready.isEmpty
        }
        let target = self.completedBatches + (self.busy ? 2 : 1)
        while !(self.ready.isEmpty && !self.busy), self.completedBatches < target, self.state != .stopped {
            if let deadline {
                if !self.lock.wait(untilRealtime: deadline) {
                    return self.ready.isEmpty && !self.busy
                }
            } else {
                self.lock.wait()
            }
        }
        return true
    }

    // MARK: For SessionRecorder

    /// True on the writer thread itself (where waiting for the writer would deadlock).
    var isWriterThread: Bool {
        let current = pthread_self()
        return self.lock.withLock { self.writerThreadID.map { pthread_equal($0, current) != 0 } ?? false }
    }

    /// Remembers an open recorder so that `shutdown` can close it; false once shutdown has begun.
    func register(_ recorder: SessionRecorder) -> Bool {
        self.lock.withLock {
            guard self.state == .running else { return false }
            self.openRecorders[ObjectIdentifier(recorder)] = WeakRecorder(recorder: recorder)
            return true
        }
    }

    func unregister(_ recorder: SessionRecorder) {
        self.unregister(ObjectIdentifier(recorder))
    }

    func unregister(_ identifier: ObjectIdentifier) {
        _ = self.lock.withLock {
            self.openRecorders.removeValue(forKey: identifier)
        }
    }

    /// Puts `recorder` on the list of sessions with work; false once the thread has stopped.
    func schedule(_ recorder: SessionRecorder) -> Bool {
        self.lock.withLock {
            guard self.state != .stopped else { return false }
            self.ready.append(recorder)
            if self.ready.count == 1 {
                // The list was empty, so the thread may be asleep. `shutdown` waits on the same condition, hence
                // a broadcast rather than a signal that it could swallow.
                self.lock.broadcast()
            }
            return true
        }
    }

    // MARK: The thread

    private func run() {
        // Set from the thread itself so that Linux names the kernel thread too (15 characters at most there).
        Thread.current.name = "pgreel-sessions"
        self.lock.withLock {
            self.writerThreadID = pthread_self()
        }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64 * 1024)
        var batch: [SessionRecorder] = []
        let (napSeconds, napAttoseconds) = self.limits.batchInterval.components
        let napNanoseconds = Int(napSeconds) * 1_000_000_000 + Int(napAttoseconds / 1_000_000_000)
        while true {
            self.lock.lock()
            while self.ready.isEmpty, self.state != .stopping {
                self.lock.wait()
            }
            if self.ready.isEmpty {
                self.state = .stopped
                self.writerThreadID = nil
                self.lock.broadcast()
                self.lock.unlock()
                return
            }
            swap(&batch, &self.ready)
            self.busy = true
            self.lock.unlock()

            for recorder in batch {
                recorder.writePending(buffer: &buffer)
            }
            // Released outside the lock: a release can run a recorder's deinit, which takes the lock.
            batch.removeAll(keepingCapacity: true)
            self.lock.withLock {
                self.busy = false
                self.completedBatches += 1
                self.lock.broadcast()
            }
            if buffer.capacity > 1 << 20 {
                // One big COPY or result should not pin its memory for the life of the process; the next big one
                // allocates again, which costs little next to encoding it.
                buffer = []
                buffer.reserveCapacity(64 * 1024)
            }
            if napNanoseconds > 0, self.lock.withLock({ self.state == .running }) {
                Self.sleep(nanoseconds: napNanoseconds)
            }
        }
    }
}

extension SessionFileWriter {
    /// Sleeps the whole interval, also when a signal interrupts it.
    fileprivate static func sleep(nanoseconds: Int) {
        var request = timespec(tv_sec: nanoseconds / 1_000_000_000, tv_nsec: nanoseconds % 1_000_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0, errno == EINTR {
            request = remaining
        }
    }
}

/// A registry entry that does not keep a forgotten recorder (and its file descriptor) alive.
private struct WeakRecorder {
    weak var recorder: SessionRecorder?
}

/// The system calls of the writer, under names that do not collide with `SessionRecorder.close()`.
enum SessionFileSyscalls {
    static func closeDescriptor(_ descriptor: Int32) {
        _ = close(descriptor)
    }

    /// Writes all of `bytes` (retrying short writes and EINTR); the errno on failure, nil on success.
    static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { buffer -> Int32? in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0, errno == EINTR {
                    continue
                } else {
                    // write returning 0 for a non-empty buffer would loop forever; report it as an I/O error.
                    return written < 0 ? errno : EIO
                }
            }
            return nil
        }
    }

    /// One `read(2)`: the byte count, 0 at the end of the file, -1 on error (see errno).
    static func readSome(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        read(descriptor, buffer.baseAddress, buffer.count)
    }

    static func message(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

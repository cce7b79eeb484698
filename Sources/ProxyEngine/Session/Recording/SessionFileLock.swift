#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex with one condition variable, for the session file writer and its recorders.
///
/// Hand-rolled rather than `Synchronization.Mutex` (macOS 15+) because the writer thread needs to sleep on a
/// condition, which `Mutex` does not offer; the few lines here keep ProxyEngine free of extra dependencies.
final class SessionFileLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        self.mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        self.mutex.initialize(to: pthread_mutex_t())
        self.condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        self.condition.initialize(to: pthread_cond_t())
        let mutexResult = pthread_mutex_init(self.mutex, nil)
        precondition(mutexResult == 0, "pthread_mutex_init failed: \(mutexResult)")
        let conditionResult = pthread_cond_init(self.condition, nil)
        precondition(conditionResult == 0, "pthread_cond_init failed: \(conditionResult)")
    }

    deinit {
        pthread_cond_destroy(self.condition)
        pthread_mutex_destroy(self.mutex)
        self.condition.deinitialize(count: 1)
        self.condition.deallocate()
        self.mutex.deinitialize(count: 1)
        self.mutex.deallocate()
    }

    func lock() {
        let result = pthread_mutex_lock(self.mutex)
        precondition(result == 0, "pthread_mutex_lock failed: \(result)")
    }

    func unlock() {
        let result = pthread_mutex_unlock(self.mutex)
        precondition(result == 0, "pthread_mutex_unlock failed: \(result)")
    }

    /// Runs `body` with the mutex held.
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        self.lock()
        defer { self.unlock() }
        return try body()
    }

    /// Sleeps until signalled; the mutex must be held and is held again on return (spurious wake-ups happen).
    func wait() {
        let result = pthread_cond_wait(self.condition, self.mutex)
        precondition(result == 0, "pthread_cond_wait failed: \(result)")
    }

    /// Like `wait()` but gives up at `deadline` (seconds of CLOCK_REALTIME); returns false on time-out.
    func wait(untilRealtime deadline: Double) -> Bool {
        var time = timespec()
        time.tv_sec = Int(deadline.rounded(.down))
        time.tv_nsec = Int((deadline - deadline.rounded(.down)) * 1_000_000_000)
        let result = pthread_cond_timedwait(self.condition, self.mutex, &time)
        return result != ETIMEDOUT
    }

    func signal() {
        pthread_cond_signal(self.condition)
    }

    func broadcast() {
        pthread_cond_broadcast(self.condition)
    }

    /// Seconds of CLOCK_REALTIME, the clock `pthread_cond_timedwait` measures deadlines on.
    static func realtimeNow() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1_000_000_000
    }
}

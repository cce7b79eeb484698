import Foundation

/// A value guarded by a lock, so plain classes holding mutable state can be `Sendable`.
/// (Foundation only: `Synchronization.Mutex` would need macOS 15 in the package's platform list.)
final class HarnessLock<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        self.lock.lock()
        defer { self.lock.unlock() }
        return try body(&self.value)
    }
}

/// A one-shot event that any number of tasks can await; the first `fulfill` wins.
/// Waiting is cancellation-aware, so a waiter raced against a timeout never leaks a task.
final class HarnessSignal<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiters: [UInt64: CheckedContinuation<Value, any Error>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = HarnessLock(State())

    init() {}

    /// The value, if the event already happened.
    var value: Value? {
        self.state.withLock { $0.value }
    }

    /// Records the value and wakes every waiter; later calls are ignored.
    func fulfill(_ value: Value) {
        let waiters: [CheckedContinuation<Value, any Error>] = self.state.withLock { state in
            guard state.value == nil else { return [] }
            state.value = value
            let waiting = Array(state.waiters.values)
            state.waiters = [:]
            return waiting
        }
        for waiter in waiters {
            waiter.resume(returning: value)
        }
    }

    /// Waits until the event happens; throws `CancellationError` when the task is cancelled first.
    func wait() async throws -> Value {
        let id: UInt64 = self.state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
                let immediate: Result<Value, any Error>? = self.state.withLock { state in
                    if let value = state.value {
                        return .success(value)
                    }
                    if Task.isCancelled {
                        return .failure(CancellationError())
                    }
                    state.waiters[id] = continuation
                    return nil
                }
                if let immediate {
                    continuation.resume(with: immediate)
                }
            }
        } onCancel: {
            let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Waits at most `timeout`; returns nil when the event did not happen in time.
    func wait(timeout: Duration) async throws -> Value? {
        if let value = self.value {
            return value
        }
        return try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { try await self.wait() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { return nil }
            return first
        }
    }
}

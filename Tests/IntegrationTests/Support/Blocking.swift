import Foundation

/// Runs slow synchronous work (reading an 80 MB session file) on a thread of its own, so it never holds one of the
/// few threads of Swift's cooperative pool that every other test's awaits, timeouts included, depend on.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.start()
    }
}

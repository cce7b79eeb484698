import Testing

@testable import ProxyEngine

@Suite struct ConnectionLimiterTests {
    @Test func serverWideSlotsRunOutAndComeBack() {
        let limiter = ConnectionLimiter(maxConnections: 2)
        #expect(limiter.acquire())
        #expect(limiter.acquire())
        #expect(!limiter.acquire(), "the third client is refused")
        limiter.release()
        #expect(limiter.acquire(), "a closed session frees its slot")
        #expect(limiter.open == 2)
    }

    @Test func perUserSlotsAreCountedApart() {
        let limiter = ConnectionLimiter(maxConnections: nil)
        #expect(limiter.acquire(user: "bob", limit: 1))
        #expect(!limiter.acquire(user: "bob", limit: 1))
        #expect(limiter.acquire(user: "alice", limit: 1), "another user has its own count")
        #expect(limiter.acquire(user: "carol", limit: nil))
        limiter.release(user: "bob")
        #expect(limiter.open(user: "bob") == 0)
        #expect(limiter.acquire(user: "bob", limit: 1))
    }

    @Test func noLimitNeverRefuses() {
        let limiter = ConnectionLimiter(maxConnections: nil)
        for _ in 0..<1000 { #expect(limiter.acquire()) }
        #expect(limiter.open == 1000)
    }
}

import Foundation
import ProxyEngine
import Testing

/// LISTEN/NOTIFY is relayed, and a session that ends from either side records session_end with its reason.
@Suite struct SessionEndTests {
    @Test func listenNotifyIsRelayed() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url())
        defer { proxy.process.kill() }
        let result = try await proxy.psql("LISTEN pgreel_channel;\nNOTIFY pgreel_channel, 'hello through the proxy';\n")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout.contains("Asynchronous notification \"pgreel_channel\" with payload \"hello through the proxy\""))
        _ = try await proxy.process.waitForOutput(containing: "📣 NOTIFY pgreel_channel: hello through the proxy", in: .stdout)
    }

    @Test func aTerminatedBackendEndsTheSessionWithTheServersFatal() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url())
        defer { proxy.process.kill() }
        let psql = try proxy.psqlInBackground(["SELECT pg_sleep(30) AS marker_sleep"])
        defer { psql.kill() }
        let deadline = ContinuousClock.now + .seconds(15)
        var pid = ""
        while pid.isEmpty, ContinuousClock.now < deadline {
            pid = try await server.psqlAdmin(
                "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30) AS marker_sleep%' AND state = 'active'")
            if pid.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(!pid.isEmpty, "the query never started")
        _ = try await server.psqlAdmin("SELECT pg_terminate_backend(\(pid))")
        let result = try await psql.waitForExit(timeout: .seconds(15))
        #expect(result.stderr.contains("terminating connection due to administrator command"))
        let events = try await proxy.finishedSessions(count: 1).flatMap(\.events)
        let end = try #require(events.last?.activity)
        #expect(end.activity == "session_end")
        #expect(end.details.reason == "server closed the connection")
        // The query in flight is recorded with the server's FATAL.
        #expect(events.compactMap(\.result).first?.error?.code == "57P01")
    }
}

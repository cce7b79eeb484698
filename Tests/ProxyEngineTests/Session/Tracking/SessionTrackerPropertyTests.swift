import Foundation
import NIOCore
import PropertyBased
import Testing

@testable import ProxyEngine

/// Property-based tests of the relay's tap (framers + tracker) on generated sessions (`ModelSession`): whatever
/// the session and however TCP cuts it, every query is recorded once with its result; damaged streams end in a
/// clean ProtocolViolation or in the same recording as undamaged chunking would give, never in a crash or a hang.
@Suite struct SessionTrackerPropertyTests {
    private static let steps = Gen.int(in: 0...999).array(of: 1...12)
    private static let seeds = Gen.int(in: 0...Int.max)

    @Test func wellFormedSessionsRecordOneResultPerQueryWhateverTheChunking() async throws {
        await propertyCheck(count: 300, input: Self.steps, Self.seeds) { steps, seed in
            let session = ModelSession(steps: steps)
            do {
                let whole = try TapOutcome.tap(session.phases, plan: nil)
                let chunked = try TapOutcome.tap(session.phases, plan: ChunkPlan(seed: seed))
                #expect(whole.error == nil)
                #expect(chunked == whole)
                let queries = whole.queries
                #expect(queries.count == session.expectedQueries)
                #expect(queries.map(\.queryNumber) == Array(1...session.expectedQueries))
                #expect(whole.results.map(\.queryNumber).sorted() == queries.map(\.queryNumber))
                #expect(whole.queryCount == session.expectedQueries)
                // Each query is recorded with its own SQL and paired with its own result.
                for (query, expected) in zip(queries, session.expected) where expected.sql != nil {
                    #expect(query.sql == expected.sql, "query \(query.queryNumber)")
                }
                let results = Dictionary(whole.results.map { ($0.queryNumber, $0) }, uniquingKeysWith: { first, _ in first })
                for (query, expected) in zip(queries, session.expected) {
                    #expect(results[query.queryNumber]?.result.commandTag == expected.tag, "result of \(query.sql)")
                }
                // Nothing is left for session end to interrupt: every result is the server's own.
                #expect(!whole.results.contains { $0.error?.code == "08006" })
                // The password in ALTER ROLE never reaches the recording.
                #expect(!queries.contains { $0.sql.contains("secret") })
            } catch {
                Issue.record("the tap threw \(error) on a well-formed session")
            }
        }
    }

    @Test func damagedStreamsFailCleanlyAndTheSameWayWhateverTheChunking() async throws {
        let mutations = Gen.int(in: 0...Int(Int32.max)).array(of: 1...3)
        await propertyCheck(count: 400, input: Self.steps, mutations, Self.seeds) { steps, codes, seed in
            let damaged = StreamMutation.apply(codes, to: ModelSession(steps: steps).phases)
            do {
                // Any error but a ProtocolViolation escapes `tap` and fails the test.
                let whole = try TapOutcome.tap(damaged, plan: nil)
                let chunked = try TapOutcome.tap(damaged, plan: ChunkPlan(seed: seed))
                #expect(chunked == whole)
                let numbers = whole.queries.map(\.queryNumber)
                #expect(numbers == Array(numbers.indices.map { $0 + 1 }))
                let answered = whole.results.map(\.queryNumber)
                #expect(Set(answered).count == answered.count)
                #expect(Set(answered).isSubset(of: Set(numbers)))
                #expect(whole.queryCount == numbers.count)
            } catch {
                Issue.record("the tap threw \(error), not a ProtocolViolation")
            }
        }
    }
}

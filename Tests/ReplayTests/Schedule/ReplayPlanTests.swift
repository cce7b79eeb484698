import Foundation
import ProxyEngine
import Testing

@testable import Replay

/// When each session of a capture is due, how many the recording had open at once, and what a target can take.
@Suite struct ReplayPlanTests {
    static let t0 = SessionTimestamp.parse("2026-12-01T10:00:00Z")!

    static func head(_ name: String, start: Double, end: Double) -> SessionFileHead {
        var head = SessionFileHead(path: name, start: Self.t0.addingTimeInterval(start))
        head.end = Self.t0.addingTimeInterval(end)
        return head
    }

    @Test func withASpeedSessionsKeepTheirOffsetsDividedByIt() {
        let heads = [Self.head("b", start: 4, end: 6), Self.head("a", start: 0, end: 3)]
        let plan = ReplayPlan(heads: heads, speed: 2)
        #expect(plan.jobs.map(\.head.path) == ["a", "b"])
        #expect(plan.jobs.map(\.due) == [0, 2])
        let event = Self.t0.addingTimeInterval(5)
        #expect(plan.due(event, job: plan.jobs[1]) == 2.5)
        #expect(plan.scheduledSpan == 3)
    }

    @Test func withoutASpeedEverythingIsDueAtOnce() {
        let plan = ReplayPlan(heads: [Self.head("a", start: 0, end: 3), Self.head("b", start: 4, end: 6)], speed: nil)
        #expect(plan.jobs.map(\.due) == [0, 0])
        #expect(plan.due(Self.t0, job: plan.jobs[0]) == nil)
        #expect(plan.scheduledSpan == nil)
    }

    @Test func scaleCopiesAreShiftedByTheStagger() {
        let plan = ReplayPlan(heads: [Self.head("a", start: 0, end: 1)], speed: 1, scale: 3, stagger: 0.5)
        #expect(plan.jobs.map(\.copy) == [0, 1, 2])
        #expect(plan.jobs.map(\.due) == [0, 0.5, 1.0])
        #expect(plan.jobs.map(\.compared) == [true, false, false])
        #expect(plan.due(Self.t0.addingTimeInterval(1), job: plan.jobs[2]) == 2.0)
        #expect(plan.recordedOverlap == 2, "copy 0 ends at 1 s as copy 2 starts; copies 0 and 1 overlap")
    }

    @Test func theRecordedOverlapIsTheMostSessionsOpenAtOnce() {
        let heads = [
            Self.head("a", start: 0, end: 10), Self.head("b", start: 1, end: 2), Self.head("c", start: 1.5, end: 3),
            Self.head("d", start: 3, end: 4), Self.head("e", start: 20, end: 20),
        ]
        #expect(ReplayPlan(heads: heads, speed: 1).recordedOverlap == 3)
        #expect(ReplayPlan(heads: [Self.head("x", start: 0, end: 0)], speed: 1).recordedOverlap == 1)
        #expect(ReplayPlan(heads: heads, speed: nil).recordedOverlap == heads.count)
    }

    @Test(arguments: [
        (100, 3, 5, 90),  // 92 free, 2 spare
        (20, 3, 1, 14),
        (500, 3, 10, 100),  // capped
        (10, 3, 7, 1),  // nothing free: still one
        (5, 3, 9, 1),
    ])
    func theDefaultConcurrencyFitsTheTarget(maxConnections: Int, reserved: Int, inUse: Int, expected: Int) {
        let budget = ConnectionBudget(maxConnections: maxConnections, reserved: reserved, inUse: inUse)
        #expect(budget.defaultConcurrency == expected)
    }
}

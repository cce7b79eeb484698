import Foundation
import Testing
@testable import ProxyEngine

@Suite("Event mailbox") struct EventMailboxTests {
    static func event(_ number: Int, problem: Bool = false) -> ProxyEvent {
        ProxyEvent(
            sessionID: "s\(number)",
            kind: problem ? .recordingFailed(message: "disk full") : .connectionOpened(clientAddress: "127.0.0.1:\(number)"))
    }

    static func addresses(_ events: [ProxyEvent]) -> [String] {
        events.map { event in
            if case .connectionOpened(let address) = event.kind { return address }
            return "other"
        }
    }

    @Test func eventsArriveInOrderAndAreTakenOnce() {
        let bus = EventBus()
        #expect(!bus.isObserved)
        let mailbox = bus.mailbox(capacity: 10)
        #expect(bus.isObserved)
        for number in 1...3 { bus.publish(Self.event(number)) }
        #expect(Self.addresses(mailbox.takeAll()) == ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"])
        #expect(mailbox.takeAll().isEmpty)
    }

    @Test func aFullMailboxDropsAndCountsInsteadOfGrowing() {
        let bus = EventBus()
        let mailbox = bus.mailbox(capacity: 2)
        for number in 1...5 { bus.publish(Self.event(number)) }
        #expect(Self.addresses(mailbox.takeAll()) == ["127.0.0.1:1", "127.0.0.1:2"])
        #expect(mailbox.droppedCount == 3)
        #expect(bus.droppedCount == 3)
        bus.publish(Self.event(6))
        #expect(Self.addresses(mailbox.takeAll()) == ["127.0.0.1:6"])
    }

    @Test func swappingBuffersHandsOverEverythingAndReusesTheArrays() {
        let bus = EventBus()
        let mailbox = bus.mailbox(capacity: 100)
        var buffer: [ProxyEvent] = [Self.event(99)]
        bus.publish(Self.event(1))
        mailbox.swapEvents(&buffer)
        #expect(Self.addresses(buffer) == ["127.0.0.1:1"], "the buffer's old contents are dropped first")
        bus.publish(Self.event(2))
        bus.publish(Self.event(3))
        mailbox.swapEvents(&buffer)
        #expect(Self.addresses(buffer) == ["127.0.0.1:2", "127.0.0.1:3"])
    }

    @Test func aProblemsOnlyMailboxGetsOnlyProblems() {
        let bus = EventBus()
        let mailbox = bus.mailbox(capacity: 10, interest: .problemsOnly)
        #expect(!bus.isObserved, "nobody wants the frequent events, so publishers may skip building them")
        bus.publish(Self.event(1))
        bus.publish(Self.event(2, problem: true))
        #expect(mailbox.takeAll().map(\.sessionID) == ["s2"])
    }

    @Test func unsubscribingStopsDeliveryAndFinishClosesTheMailbox() {
        let bus = EventBus()
        let first = bus.mailbox(capacity: 10)
        let second = bus.mailbox(capacity: 10)
        bus.unsubscribe(first)
        #expect(first.isClosed)
        #expect(bus.isObserved, "the second mailbox still listens")
        bus.publish(Self.event(1))
        #expect(first.takeAll().isEmpty)
        #expect(second.takeAll().count == 1)
        bus.unsubscribe(second)
        #expect(!bus.isObserved)
        let third = bus.mailbox(capacity: 10)
        bus.finish()
        #expect(third.isClosed)
        bus.publish(Self.event(2))
        #expect(third.takeAll().isEmpty)
    }

    /// Publishers on several threads at once (the event loops) lose nothing while the reader takes batches.
    @Test func concurrentPublishersLoseNothing() async {
        let bus = EventBus()
        let mailbox = bus.mailbox(capacity: 1_000_000)
        await withTaskGroup(of: Void.self) { group in
            for publisher in 0..<4 {
                group.addTask {
                    for number in 0..<5_000 { bus.publish(Self.event(publisher * 10_000 + number)) }
                }
            }
        }
        var seen = 0
        var buffer: [ProxyEvent] = []
        repeat {
            mailbox.swapEvents(&buffer)
            seen += buffer.count
        } while !buffer.isEmpty
        #expect(seen == 20_000)
        #expect(mailbox.droppedCount == 0)
    }
}

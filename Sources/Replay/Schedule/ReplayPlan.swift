import Foundation
import ProxyEngine

/// What a replay runs and when: one job per selected session and per copy (`--scale N`), each due at its recorded
/// start (with a speed) or as soon as a connection is free (without).
///
/// With a speed (`--realtime` is 1) every event keeps its offset from the earliest session's start, divided by the
/// speed: gaps inside a session and the sessions' overlap are those of the recording. Copy k of a session is
/// shifted by k × `--stagger` (real time, not divided by the speed); without a speed, copy k is due k × stagger
/// after the start.
public struct ReplayPlan: Sendable {
    public struct Job: Sendable {
        public var head: SessionFileHead
        /// 0: the session as recorded, compared cell by cell; 1 and up: `--scale` copies, which count for latency,
        /// errors and throughput only (copies of writes diverge from the recording).
        public var copy: Int
        /// Seconds after the replay's start when the session is due.
        public var due: Double
        /// Seconds added to each of its events' scheduled time (copy × stagger).
        public var shift: Double

        public var compared: Bool { self.copy == 0 }
    }

    /// Earliest due first.
    public var jobs: [Job]
    /// The earliest session start: time zero of the schedule.
    public var origin: Date?
    public var speed: Double?

    public init(heads: [SessionFileHead], speed: Double?, scale: Int = 1, stagger: Double = 0) {
        self.speed = speed
        self.origin = heads.compactMap(\.start).min()
        var jobs: [Job] = []
        jobs.reserveCapacity(heads.count * max(scale, 1))
        for copy in 0..<max(scale, 1) {
            let shift = Double(copy) * max(stagger, 0)
            for head in heads {
                var job = Job(head: head, copy: copy, due: shift, shift: shift)
                if let speed, let origin = self.origin, let start = head.start {
                    job.due = max(0, start.timeIntervalSince(origin)) / speed + shift
                }
                jobs.append(job)
            }
        }
        // Stable: equal due times keep the heads' order, copy 0 first.
        self.jobs = jobs.enumerated().sorted { left, right in
            left.element.due != right.element.due
                ? left.element.due < right.element.due : left.offset < right.offset
        }.map(\.element)
    }

    /// When an event recorded at `timestamp` is due for `job`, in seconds after the replay's start; nil without a
    /// speed (events then run as fast as the target answers).
    public func due(_ timestamp: Date, job: Job) -> Double? {
        guard let speed = self.speed, let origin = self.origin else { return nil }
        return max(0, timestamp.timeIntervalSince(origin)) / speed + job.shift
    }

    /// The most sessions open at once in the recording, as scheduled (copies included): `--realtime` never opens
    /// more than this. Needs each head's `end` (`SessionFileHead.read(readTail: true)`); a session without one
    /// counts as open at its start only.
    public var recordedOverlap: Int {
        guard let speed = self.speed, let origin = self.origin else { return self.jobs.count }
        var edges: [(time: Double, change: Int)] = []
        edges.reserveCapacity(self.jobs.count * 2)
        for job in self.jobs {
            guard let start = job.head.start else { continue }
            let end = max(0, (job.head.end ?? start).timeIntervalSince(origin)) / speed + job.shift
            edges.append((job.due, 1))
            // A session with no duration is open at its start all the same.
            edges.append((max(end, job.due.nextUp), -1))
        }
        // At the same instant an end comes before a start: one session following another is not an overlap.
        edges.sort { $0.time != $1.time ? $0.time < $1.time : $0.change < $1.change }
        var open = 0
        var most = 0
        for edge in edges {
            open += edge.change
            most = max(most, open)
        }
        return max(most, 1)
    }
}

extension ReplayPlan {
    /// Seconds from the replay's start to the scheduled end of its last session (with a speed, and when the heads
    /// carry their ends); nil otherwise.
    public var scheduledSpan: Double? {
        guard self.speed != nil else { return nil }
        let ends = self.jobs.compactMap { job in job.head.end.flatMap { self.due($0, job: job) } }
        return ends.max()
    }
}

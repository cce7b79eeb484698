import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// The live state of one relayed session: it taps the messages both relay handlers see, feeds the session
/// tracker, and sends what the tracker says to the session file and the event bus.
///
/// Confined to the session's event loop (both channels of a session share it), so it needs no locks.
final class ProxySession {
    let id: String
    let info: ProxyEvent.ConnectedInfo
    private var tracker: SessionTracker
    private let recorder: SessionRecorder?
    private let bus: EventBus
    private var frontendFramer = MessageFramer(direction: .frontend)
    private var backendFramer = MessageFramer(direction: .backend)
    /// Messages framed but not yet tracked (see `tapClientMessages`).
    private var clientFrames = FramedMessages()
    private var serverFrames = FramedMessages()
    /// The tracker's outputs being sent on (swapped with the tracker's array, see `flushOutputs`).
    private var outputs: [SessionTracker.Output] = []
    private let started = Date()
    private var ended = false
    /// The transaction state listeners last heard of: ReadyForQuery repeats it after every query, and only a
    /// change is news (a flood of `idle` events would cost the dashboard a third of its work for nothing).
    private var publishedTransactionState: TransactionState?
    private(set) var clientSentTerminate = false
    private let shuttingDown: NIOLockedValueBox<Bool>

    init(
        id: String, info: ProxyEvent.ConnectedInfo, recorder: SessionRecorder?, bus: EventBus, maxRecordedRows: Int,
        shuttingDown: NIOLockedValueBox<Bool>
    ) {
        self.id = id
        self.info = info
        self.recorder = recorder
        self.bus = bus
        self.tracker = SessionTracker(maxRecordedRows: maxRecordedRows)
        self.shuttingDown = shuttingDown
    }

    /// True once the proxy began shutting down: connections it closes end for that reason.
    var isShuttingDown: Bool { self.shuttingDown.withLockedValue { $0 } }

    var isRecordingBacklogged: Bool { self.recorder?.isBacklogged ?? false }

    /// Frames a chunk the client sent, before it is forwarded: throws ProtocolViolation for a malformed stream
    /// (bad lengths, oversized messages), so such bytes never reach the server. The messages are only looked at
    /// by `tapClientMessages`, after the chunk has been flushed.
    func frameClientBytes(_ chunk: ByteBuffer) throws {
        try self.frontendFramer.feed(chunk, wants: { SessionTracker.wantsFrontend($0) || $0 == FrontendMessageID.terminate }) { frame in
            if case .message(FrontendMessageID.terminate, _) = frame {
                self.clientSentTerminate = true
            } else {
                self.clientFrames.append(frame)
            }
        }
    }

    /// Frames a chunk the server sent (its messages are looked at by `tapServerMessages`).
    func frameServerBytes(_ chunk: ByteBuffer) throws {
        try self.backendFramer.feed(chunk, wants: SessionTracker.wantsBackend) { frame in
            self.serverFrames.append(frame)
        }
    }

    /// Feeds the client messages framed since the last call to the tracker, and records what it makes of them.
    /// Called once the relay has flushed them to the server: tracking and recording a query costs microseconds
    /// that the query itself should not wait for.
    func tapClientMessages() throws {
        try self.clientFrames.drain { frame, now, monotonic in
            switch frame {
            case .message(let id, let payload):
                try self.tracker.frontend(id: id, payload: payload, now: now, monotonic: monotonic)
            case .oversized(let id, _):
                self.tracker.oversizedFrontendMessage(id: id)
            }
        }
        self.flushOutputs()
    }

    /// Feeds the server messages framed since the last call to the tracker (after the client has them).
    func tapServerMessages() throws {
        try self.serverFrames.drain { frame, now, monotonic in
            switch frame {
            case .message(let id, let payload):
                try self.tracker.backend(id: id, payload: payload, now: now, monotonic: monotonic)
            case .oversized(let id, _):
                self.tracker.oversizedBackendMessage(id: id)
            }
        }
        self.flushOutputs()
    }

    func start(clientAddress: String, applicationName: String?) {
        let details = ActivityDetails(
            sessionID: self.id, pseudoUser: self.info.pseudoUser, startTime: self.started,
            formatVersion: sessionFormatVersion, proxyVersion: pgreelVersion, clientAddress: clientAddress,
            applicationName: applicationName)
        self.emit(SessionEvent(timestamp: self.started, payload: .activity(SessionActivity(activity: SessionActivity.sessionStart, details: details))))
        let connection = ActivityDetails(
            pseudoUser: self.info.pseudoUser, realUser: self.info.realUser, database: self.info.database,
            realDBHost: self.info.upstreamHost, realDBPort: String(self.info.upstreamPort))
        self.emit(SessionEvent(timestamp: Date(), payload: .activity(SessionActivity(activity: SessionActivity.connection, details: connection))))
    }

    /// Records session_end (once) and closes the file.
    func end(reason: String) {
        guard !self.ended else { return }
        self.ended = true
        // Messages that arrived but were not tracked yet (the connection failed within a read) still count; a
        // malformed one among them changes nothing now.
        try? self.tapClientMessages()
        try? self.tapServerMessages()
        let now = Date()
        self.tracker.sessionEnded(reason: reason, now: now, monotonic: DispatchTime.now().uptimeNanoseconds)
        self.flushOutputs()
        let details = ActivityDetails(
            sessionID: self.id, pseudoUser: self.info.pseudoUser, reason: reason, endTime: now,
            durationMS: now.timeIntervalSince(self.started) * 1000, queryCount: self.tracker.queryCount)
        self.emit(SessionEvent(timestamp: now, payload: .activity(SessionActivity(activity: SessionActivity.sessionEnd, details: details))))
        self.recorder?.close()
        self.bus.publish(ProxyEvent(sessionID: self.id, time: now, kind: .connectionClosed(reason: reason)))
    }

    private func flushOutputs() {
        guard self.tracker.hasOutputs else { return }
        self.tracker.swapOutputs(&self.outputs)
        defer { self.outputs.removeAll(keepingCapacity: true) }
        for output in self.outputs {
            switch output {
            case .query(let query, let at):
                self.emit(SessionEvent(timestamp: at, payload: .query(query)))
            case .result(let result, let at):
                self.emit(SessionEvent(timestamp: at, payload: .result(result)))
            case .transactionState(let state):
                if state != self.publishedTransactionState, self.bus.isObserved {
                    self.publishedTransactionState = state
                    self.bus.publish(ProxyEvent(sessionID: self.id, kind: .transactionState(state)))
                }
            case .notice(let notice):
                if self.bus.isObserved { self.bus.publish(ProxyEvent(sessionID: self.id, kind: .notice(notice))) }
            case .notification(let channel, let payload, let pid):
                if self.bus.isObserved {
                    self.bus.publish(
                        ProxyEvent(
                            sessionID: self.id, kind: .notification(channel: channel, payload: payload, processID: pid)))
                }
            }
        }
    }

    private func emit(_ event: SessionEvent) {
        self.recorder?.record(event)
        if self.bus.isObserved {
            self.bus.publish(ProxyEvent(sessionID: self.id, time: event.timestamp, kind: .recorded(event)))
        }
    }
}

/// The version reported in session files and `pgreel --version`.
public let pgreelVersion = "0.1.0"

/// The messages of one direction framed during a read, held until the read's bytes are flushed, with the time the
/// first of them arrived (the time the tracker records for all of them).
private struct FramedMessages {
    private var frames: [MessageFramer.Frame] = []
    private var seen: (Date, UInt64) = (Date(), 0)

    /// A big result's batch of rows should not pin a large array for the rest of the session.
    private static let keptCapacity = 1024

    mutating func append(_ frame: MessageFramer.Frame) {
        if self.frames.isEmpty { self.seen = (Date(), DispatchTime.now().uptimeNanoseconds) }
        self.frames.append(frame)
    }

    /// Hands every held message to `body` in order, then forgets them (also when `body` throws).
    mutating func drain(_ body: (MessageFramer.Frame, Date, UInt64) throws -> Void) rethrows {
        guard !self.frames.isEmpty else { return }
        defer { self.frames.removeAll(keepingCapacity: self.frames.count <= Self.keptCapacity) }
        for frame in self.frames {
            try body(frame, self.seen.0, self.seen.1)
        }
    }
}

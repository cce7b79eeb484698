import Foundation
import NIOConcurrencyHelpers
import ProxyEngine

/// Prints the headless log (`pgreel proxy`): it empties the event mailbox every few milliseconds and writes the
/// lines in batches of about 64 KiB, one `write` each.
///
/// A plain thread that naps, rather than a task looping on `Task.sleep`: each of those sleeps went through the
/// dispatch timer thread and a worker thread (three wake-ups per poll, about 2% of the proxy's CPU under load in
/// `perf`). The nap grows from 10 ms to 100 ms while nothing happens (`--quiet` mostly sees nothing), and drops
/// back to 10 ms as soon as a batch arrives.
///
/// Bounded, so a client can never stall the log or the proxy's exit: the mailbox holds at most its capacity of
/// events (the rest are dropped and counted on stderr), formatting an event costs what its lines show (the
/// formatters cut values), and once the proxy has shut down the printer gets `shutdownAllowance` to catch up;
/// whatever is left then is counted, not printed.
final class HeadlessLogPrinter: Sendable {
    static let busyNap: Duration = .milliseconds(10)
    static let idleNap: Duration = .milliseconds(100)
    /// How long the log may take to catch up once the proxy has shut down.
    static let shutdownAllowance: Duration = .seconds(1)
    /// Lines are written once about this much has been formatted, so a big backlog is never held as text.
    static let batchBytes = 64 * 1024

    private let mailbox: EventMailbox
    private let format: LogFormat
    private let color: Bool
    private let output: StandardOutput
    private let state = NIOLockedValueBox(State())

    private struct State {
        /// Set at shutdown: events not printed by then are counted instead.
        var deadline: ContinuousClock.Instant?
        var finished = false
    }

    init(mailbox: EventMailbox, format: LogFormat, color: Bool, output: StandardOutput) {
        self.mailbox = mailbox
        self.format = format
        self.color = color
        self.output = output
    }

    /// Starts the printing thread; it runs until the mailbox is closed (the server shut down) and everything in it
    /// is printed, or until the deadline `finish(within:)` sets.
    func start() {
        let thread = Thread { [self] in
            Thread.current.name = "pgreel-log"  // from the thread itself, so Linux names the kernel thread
            self.loop()
            self.state.withLockedValue { $0.finished = true }
        }
        thread.start()
    }

    /// After the server shut down: lets the printer catch up for at most `allowance`, and returns whether it did.
    /// A printer stuck in a write (stdout is a pipe nobody reads) is left behind: the process exits without it.
    func finish(within allowance: Duration = HeadlessLogPrinter.shutdownAllowance) async -> Bool {
        let deadline = ContinuousClock.now + allowance
        self.state.withLockedValue { $0.deadline = deadline }
        // A little longer than the printer's own deadline, so it can say what it left out.
        while ContinuousClock.now < deadline + .milliseconds(200) {
            if self.state.withLockedValue({ $0.finished }) {
                return true
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    private func loop() {
        let text = HeadlessLogFormatter(options: .init(color: self.color))
        let json = JSONLogFormatter()
        var events: [ProxyEvent] = []
        var lines: [String] = []
        var bytes = 0
        var dropped = 0
        var nap = Self.busyNap
        while true {
            let closed = self.mailbox.isClosed
            self.mailbox.swapEvents(&events)
            let deadline = self.state.withLockedValue { $0.deadline }
            for (index, event) in events.enumerated() {
                if let deadline, ContinuousClock.now >= deadline {
                    self.output.write(lines: lines)
                    self.output.writeError(
                        "⚠️  \(events.count - index) log events not printed: the log could not catch up before exit")
                    return
                }
                let added: [String]
                switch self.format {
                case .text: added = text.lines(for: event)
                case .json: added = [json.line(for: event)]
                }
                lines += added
                bytes += added.reduce(0) { $0 + $1.utf8.count + 1 }
                if bytes >= Self.batchBytes {
                    self.output.write(lines: lines)
                    lines.removeAll(keepingCapacity: true)
                    bytes = 0
                }
            }
            self.output.write(lines: lines)
            lines.removeAll(keepingCapacity: true)
            bytes = 0
            let nowDropped = self.mailbox.droppedCount
            if nowDropped > dropped {
                // On stderr, so a JSON log stays one object per line.
                self.output.writeError(
                    "⚠️  \(nowDropped - dropped) log events dropped: the output is slower than the proxy")
                dropped = nowDropped
            }
            if closed { return }
            nap = events.isEmpty ? min(nap * 2, Self.idleNap) : Self.busyNap
            Thread.sleep(forTimeInterval: nap / .seconds(1))
        }
    }
}

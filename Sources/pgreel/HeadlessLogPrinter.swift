import Foundation
import ProxyEngine

/// Prints the headless log (`pgreel proxy`): it empties the event mailbox every few milliseconds and writes each
/// batch of lines with one `write`.
///
/// A plain thread that naps, rather than a task looping on `Task.sleep`: each of those sleeps went through the
/// dispatch timer thread and a worker thread (three wake-ups per poll, about 2% of the proxy's CPU under load in
/// `perf`). The nap grows from 10 ms to 100 ms while nothing happens (`--quiet` mostly sees nothing), and drops
/// back to 10 ms as soon as a batch arrives.
final class HeadlessLogPrinter: Sendable {
    static let busyNap: Duration = .milliseconds(10)
    static let idleNap: Duration = .milliseconds(100)

    private let mailbox: EventMailbox
    private let format: LogFormat
    private let color: Bool
    private let output: StandardOutput

    init(mailbox: EventMailbox, format: LogFormat, color: Bool, output: StandardOutput) {
        self.mailbox = mailbox
        self.format = format
        self.color = color
        self.output = output
    }

    /// Runs until the mailbox is closed (the server shut down) and everything in it is printed.
    func run() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread { [self] in
                Thread.current.name = "pgreel-log"  // from the thread itself, so Linux names the kernel thread
                self.loop()
                done.resume()
            }
            thread.start()
        }
    }

    private func loop() {
        let text = HeadlessLogFormatter(options: .init(color: self.color))
        let json = JSONLogFormatter()
        var events: [ProxyEvent] = []
        var lines: [String] = []
        var dropped = 0
        var nap = Self.busyNap
        while true {
            let closed = self.mailbox.isClosed
            self.mailbox.swapEvents(&events)
            lines.removeAll(keepingCapacity: true)
            for event in events {
                switch self.format {
                case .text: lines += text.lines(for: event)
                case .json: lines.append(json.line(for: event))
                }
            }
            self.output.write(lines: lines)
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

import Foundation
import Monitor
import ProxyEngine
import Replay

// `make bench` (and `swift run -c release pgreel-display-bench`): what showing one result costs in each place that
// shows values, for a value of 16 bytes up to 50 MiB. Issue 12's fix says the cost grows with what is shown (a cell,
// a page), never with the value: past what any place shows (1 MiB is past every cap), the 50 MiB column must cost
// what the 1 MiB one does.
//
// Prints a Markdown table of medians (µs) and one `RESULT display ...` line for bench/report.py.

/// A tab, a newline, a control character, a precomposed é, a wide 世 and an e with a combining accent (13 bytes).
let unit = "a\tb\n\u{01}é世e\u{301}"
let sizes: [(name: String, bytes: Int)] = [("16 B", 16), ("1 KiB", 1 << 10), ("1 MiB", 1 << 20), ("50 MiB", 50 << 20)]
let iterations = Int(ProcessInfo.processInfo.environment["DISPLAY_BENCH_ITERATIONS"] ?? "") ?? 21
let start = Date(timeIntervalSince1970: 1_759_872_615)

/// About `bytes` of whole units (16 B is one unit and a bit).
func value(bytes: Int) -> String {
    String(repeating: unit, count: max(bytes / unit.utf8.count, 1)) + (bytes < 2 * unit.utf8.count ? "xyz" : "")
}

func median(_ body: () -> Void) -> Double {
    var samples: [Double] = []
    for _ in 0..<iterations {
        let begin = DispatchTime.now().uptimeNanoseconds
        body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1000)
    }
    return samples.sorted()[samples.count / 2]
}

func event(_ payload: SessionEvent.Payload) -> ProxyEvent {
    ProxyEvent(sessionID: "s1", time: start, kind: .recorded(SessionEvent(timestamp: start, payload: payload)))
}

struct Case {
    var name: String
    var measure: (String) -> Double
}

let textLog = HeadlessLogFormatter(options: .init(color: false))
let jsonLog = JSONLogFormatter()
let size = ScreenSize(columns: 120, rows: 40)
let settings = DashboardSettings(
    listenAddress: "127.0.0.1:5433", maskedUpstreams: ["postgres://postgres:***@127.0.0.1:5432/postgres"],
    sessionsDirectory: "./sessions")
let connected = ProxyEvent(
    sessionID: "s1", time: start,
    kind: .connected(
        .init(
            pseudoUser: "pseudo_user", realUser: "postgres", database: "postgres", upstreamHost: "127.0.0.1",
            upstreamPort: 5432, clientAddress: "127.0.0.1:50000", backendProcessID: 42)))
let query = RecordedQuery(queryNumber: 1, sql: "SELECT huge, other FROM t")

func result(_ value: String) -> RecordedResult {
    RecordedResult(
        queryNumber: 1,
        result: RecordedResultSet(
            columns: ["huge", "other"], columnTypes: [25, 25], rows: [[value, nil]], rowCount: 1, commandTag: "SELECT 1"),
        durationMS: 1.2)
}

let cases: [Case] = [
    Case(name: "headless log: result table") { value in
        let shown = event(.result(result(value)))
        return median { _ = textLog.lines(for: shown) }
    },
    Case(name: "headless log: the value as SQL") { value in
        let shown = event(.query(RecordedQuery(queryNumber: 1, sql: value)))
        return median { _ = textLog.lines(for: shown) }
    },
    Case(name: "JSON log: result line") { value in
        let shown = event(.result(result(value)))
        return median { _ = jsonLog.line(for: shown) }
    },
    Case(name: "dashboard: result arrives, frame drawn") { value in
        var base = DashboardState(settings: settings, now: start, size: size)
        base.apply([connected, event(.query(query))])
        let shown = event(.result(result(value)))
        return median {
            var state = base
            state.apply(shown)
            _ = DashboardRenderer.render(state, size: size)
        }
    },
    Case(name: "dashboard: detail view (Enter) drawn") { value in
        var base = DashboardState(settings: settings, now: start, size: size)
        base.apply([connected, event(.query(query)), event(.result(result(value)))])
        return median {
            var state = base
            state.handle(.enter)
            _ = DashboardRenderer.render(state, size: size)
        }
    },
    Case(name: "pgreel replay: a mismatch printed") { value in
        let recorded = result(value + "x")
        let replayed = result(value + "y")
        let outcome = ResultComparison.compare(recorded: recorded, replayed: replayed)
        let step = ReplayStep.query(
            QueryStep(
                index: 0, eventNumber: 3, timestamp: start, query: query, recorded: recorded, replayed: replayed,
                status: .mismatched, difference: outcome.difference, differingRows: outcome.differingRows))
        return median {
            var printer = ReplayPrinter(options: .init(color: false))
            _ = printer.lines(for: step)
        }
    },
]

var values: [String] = []
for entry in sizes {
    values.append(value(bytes: entry.bytes))
}
print("Display cost: median µs of \(iterations) runs per value size (release build)")
print("")
print("| what | " + sizes.map(\.name).joined(separator: " | ") + " | 50 MiB / 1 MiB |")
print("|---|" + String(repeating: "---|", count: sizes.count + 1))
var worst = 0.0
for entry in cases {
    let times = values.map(entry.measure)
    let ratio = times[3] / max(times[2], 0.001)
    worst = max(worst, ratio)
    let cells = times.map { String(format: "%.1f", $0) }
    print("| \(entry.name) | " + cells.joined(separator: " | ") + " | " + String(format: "%.2f", ratio) + " |")
}
print("")
print("RESULT display worst_ratio=" + String(format: "%.2f", worst))

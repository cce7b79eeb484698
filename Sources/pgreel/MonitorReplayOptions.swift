import ArgumentParser
import Replay

/// The options of `pgreel monitor` for the step-through replay (`o` in the dashboard, `--replay FILE`): the target
/// and comparison options of `pgreel replay`.
struct MonitorReplayOptions: ParsableArguments {
    @Option(
        name: .customLong("replay"),
        help: ArgumentHelp("Open this session file in the step-through replay view at start.", valueName: "FILE"))
    var file: String?

    @Option(
        name: .customLong("db-url"),
        help: ArgumentHelp(
            "The database replays run against (default DATABASE_URL, else the recorded connection).",
            valueName: "URL"))
    var dbURL: String?

    @Flag(name: .customLong("read-only"), help: "Replay in a read-only session (t in the replay view changes it).")
    var readOnly = false

    @Flag(help: "Replay in one transaction rolled back when the replay closes or restarts.")
    var rollback = false

    @Option(
        name: .customLong("ignore-column"),
        help: ArgumentHelp("Do not compare the values of this column when replaying. Repeatable.", valueName: "NAME"))
    var ignoredColumns: [String] = []

    @Flag(help: "Compare replayed rows as a multiset (for queries without ORDER BY).")
    var unordered = false

    func validate() throws {
        if self.readOnly, self.rollback {
            throw ValidationError("--read-only and --rollback cannot be combined: choose one")
        }
    }

    var options: ReplayOptions {
        ReplayOptions(
            safety: self.rollback ? .rollback : self.readOnly ? .readOnly : .none,
            comparison: ComparisonOptions(ignoredColumns: self.ignoredColumns, unordered: self.unordered))
    }
}

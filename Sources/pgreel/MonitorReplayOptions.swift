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

    /// `t` in the replay view changes it before the first step.
    @Flag var safety: ReplaySafetyFlag?

    @Option(
        name: .customLong("ignore-column"),
        help: ArgumentHelp("Do not compare the values of this column when replaying. Repeatable.", valueName: "NAME"))
    var ignoredColumns: [String] = []

    @Flag(help: "Compare replayed rows as a multiset (for queries without ORDER BY).")
    var unordered = false

    var options: ReplayOptions {
        ReplayOptions(
            safety: ReplaySafetyFlag.safety(self.safety),
            comparison: ComparisonOptions(ignoredColumns: self.ignoredColumns, unordered: self.unordered))
    }
}

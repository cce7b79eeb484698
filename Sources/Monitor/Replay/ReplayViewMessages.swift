import Foundation
import Replay

/// What the replay view asks of its replay session. The reducer returns these; a `ReplayDriver` carries them out
/// one after the other, off the terminal thread, and answers with `ReplayViewEvent`s.
public enum ReplayViewCommand: Sendable, Equatable {
    /// Open the connection (and the `--rollback` transaction).
    case connect
    /// Execute the next query (activities before it are passed over: they are shown, never sent).
    case step
    /// Pass over the next query without executing it.
    case skip
    /// Ask the target to cancel the query a `step` is running (a CancelRequest). Carried out at once, beside the
    /// step it cancels rather than after it (`WorkspaceController.send`).
    case cancel
    /// Start again from the first event on a fresh connection (the old one rolled back under `--rollback`).
    case restart
    /// Replay in another safety mode: a new session on a new connection (only before the first step).
    case setSafety(ReplayOptions.Safety)
    /// Write `report` to `path` (the JSON of `pgreel replay --report`).
    case writeReport(path: String, report: ReplayReport)
    /// Close the connection (rolling back under `--rollback`); the view is left once it is closed.
    case close
}

/// What happened to the replay session, for the reducer.
public enum ReplayViewEvent: Sendable, Equatable {
    case connected
    /// The target could not be reached (the message masks the password).
    case connectionFailed(String)
    /// A query was executed (or skipped), taking `elapsedMS` of wall time; `marks` are its cells that differ, per
    /// result set (`CellDifferences.marks(of:options:)`), worked out where the step ran: comparing cells reads whole
    /// values, which the terminal thread must never do.
    case stepped(QueryStep, elapsedMS: Double, marks: [CellDifferences])
    /// No cancel could be sent: nothing ran any more, or the target gave no cancel key.
    case cancelFailed
    /// Nothing was left to execute.
    case reachedEnd
    /// The step could not run: the connection is gone (or `--rollback` could not be kept).
    case stepFailed(String)
    /// The replay starts again from the first query, at `at`.
    case restarted(at: Date)
    /// The replay starts again, but the new connection failed.
    case restartFailed(at: Date, String)
    /// The session is now replayed in `safety` mode (a connection outcome follows).
    case safetyChanged(ReplayOptions.Safety)
    case reportWritten(path: String)
    case reportFailed(String)
    /// The connection is closed: the view can go.
    case closed
}

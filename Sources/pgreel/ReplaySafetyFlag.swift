import ArgumentParser
import Replay

/// `--read-only` or `--rollback` (at most one; neither replays as recorded), for `pgreel replay` and the dashboard's
/// step-through replay. The argument parser makes them exclusive and says so when both are given.
enum ReplaySafetyFlag: String, EnumerableFlag {
    case readOnly
    case rollback

    static func help(for value: ReplaySafetyFlag) -> ArgumentHelp? {
        switch value {
        case .readOnly: return "Replay in a read-only session."
        case .rollback:
            return "Replay in one transaction rolled back at the end (recorded BEGIN/COMMIT become savepoints)."
        }
    }

    /// The replay's safety mode for an optional flag.
    static func safety(_ flag: ReplaySafetyFlag?) -> ReplayOptions.Safety {
        switch flag {
        case .readOnly: return .readOnly
        case .rollback: return .rollback
        case nil: return .none
        }
    }
}

/// `--id-mode map|off`: parsed by its raw value; anything else is refused with the choices listed.
extension ReplayOptions.IDMode: ExpressibleByArgument {}

/// The lowest value of each numeric setting, checked in one place whether the value comes from a flag or from
/// the config file (each names it its own way: `--max-connections`, `max_connections`).
struct SettingRange: Sendable {
    let minimum: Int
    /// How the minimum reads in an error: "1 second", "0".
    let minimumText: String

    static let maxRecordedRows = SettingRange(minimum: 0, minimumText: "0")
    static let maxConnections = SettingRange(minimum: 1, minimumText: "1")
    static let authTimeout = SettingRange(minimum: 1, minimumText: "1 second")

    /// Throws `invalidValue` naming `key` when `value` is below the minimum; nil (not given) passes.
    func check(_ value: Int?, key: String) throws(ConfigError) {
        if let value, value < self.minimum {
            throw .invalidValue(key: key, reason: "must be \(self.minimumText) or more, not \(value)")
        }
    }
}

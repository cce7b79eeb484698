/// The headless proxy's output: the seed's human-readable lines, or one JSON object per line for machines.
public enum LogFormat: String, Sendable, Equatable, Hashable, CaseIterable, CustomStringConvertible {
    case text
    case json

    public init(name: String) throws(ConfigError) {
        guard let format = LogFormat(rawValue: name) else {
            throw .unknownLogFormat(name)
        }
        self = format
    }

    public var description: String { self.rawValue }
}

import Testing

@testable import ProxyEngine

/// Runs `body` and returns the ConfigError it threw, or nil when it succeeded.
func thrownConfigError<T>(_ body: () throws -> T) -> ConfigError? {
    do {
        _ = try body()
        return nil
    } catch let error as ConfigError {
        return error
    } catch {
        Issue.record("expected a ConfigError, got \(error)")
        return nil
    }
}

/// The message of the error `body` throws (nil when it throws none).
func configErrorMessage<T>(_ body: () throws -> T) -> String? {
    thrownConfigError(body)?.description
}

/// An in-memory set of files with permissions, for `ProxyConfiguration.resolve`'s readFile / fileStatus.
struct InMemoryConfigFiles {
    var files: [String: (text: String, permissions: UInt16)] = [:]

    init(_ files: [String: (text: String, permissions: UInt16)] = [:]) {
        self.files = files
    }

    func read(_ path: String) throws -> String {
        guard let file = self.files[path] else {
            throw ConfigError.cannotReadFile(path: path, reason: "no such file or directory")
        }
        return file.text
    }

    func status(_ path: String) -> FileStatus? {
        self.files[path].map { FileStatus(isRegularFile: true, permissions: $0.permissions) }
    }

    func resolve(_ flags: CommandLineFlags, environment: [String: String] = [:]) throws(ConfigError)
        -> ProxyConfiguration
    {
        try ProxyConfiguration.resolve(
            flags: flags, environment: environment, readFile: self.read, fileStatus: self.status
        )
    }
}

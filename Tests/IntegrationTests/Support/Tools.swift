import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a tool the tests need could not be found or set up.
public enum ToolsError: Error, CustomStringConvertible {
    case postgresNotFound(searched: [String])
    case toolNotFound(name: String, searched: [String])
    case pgreelNotFound(searched: [String])
    case noFreePort(reason: String)

    public var description: String {
        switch self {
        case .postgresNotFound(let searched):
            return "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; looked in: "
                + searched.joined(separator: ", ")
                + ". Install Debian's 'postgresql' package or set PGREEL_PG_BINDIR."
        case .toolNotFound(let name, let searched):
            return "'\(name)' not found; looked in: \(searched.joined(separator: ", ")) and PATH"
        case .pgreelNotFound(let searched):
            return "the built pgreel executable was not found; looked in: \(searched.joined(separator: ", ")). "
                + "Run `swift build` first, or set PGREEL_BINARY to its path."
        case .noFreePort(let reason):
            return "could not find a free TCP port on 127.0.0.1: \(reason)"
        }
    }
}

/// Locates the real programs the integration tests drive.
public enum Tools {
    /// True when the tests run as root: PostgreSQL's server programs then have to run as the `postgres` user.
    public static var isRoot: Bool {
        getuid() == 0
    }

    /// The directory with initdb, pg_ctl and postgres, found once per process, in this order:
    /// 1. `$PGREEL_PG_BINDIR`;
    /// 2. `pg_config --bindir`;
    /// 3. the newest `/usr/lib/postgresql/<version>/bin` (Debian's layout);
    /// 4. the real directory of an `initdb` found in PATH (symlinks resolved).
    /// A candidate counts only if it holds `initdb`, `pg_ctl` and `postgres`.
    public static var postgresBinDirectory: String {
        get throws {
            try self.cachedBinDirectory.get()
        }
    }

    /// psql: the PostgreSQL bin directory first (so client and server versions match), then PATH.
    public static var psql: String {
        get throws {
            try self.clientTool("psql")
        }
    }

    /// pgbench: the PostgreSQL bin directory first, then PATH.
    public static var pgbench: String {
        get throws {
            try self.clientTool("pgbench")
        }
    }

    /// The executable and arguments that run a client program (`psql`, `pgbench`): `client`'s (its libraries
    /// found, see `PostgresInstallation.command`), or the system's when `client` is nil.
    public static func clientCommand(_ tool: String, _ arguments: [String], client: PostgresInstallation?) throws
        -> (executable: String, arguments: [String])
    {
        if let client {
            return client.command(tool, arguments)
        }
        return (try self.clientTool(tool), arguments)
    }

    /// The built `pgreel` executable.
    ///
    /// `swift build` puts it in the same directory as the test product (`.build/<triple>/debug/`, which
    /// `.build/debug` links to). So, in order:
    /// 1. `$PGREEL_BINARY`, if set;
    /// 2. a `pgreel` file next to the running test product, or up to four directories above it (on macOS the test
    ///    product is a bundle, `debug/xyzPackageTests.xctest/Contents/MacOS/xyzPackageTests`); the running test
    ///    product is taken from `/proc/self/exe`, `CommandLine.arguments[0]`, `Bundle.main` and any loaded
    ///    `.xctest` bundle, with symlinks resolved;
    /// 3. `.build/debug/pgreel` under the package root, found by walking up from this source file to `Package.swift`.
    public static var pgreelBinary: String {
        get throws {
            try self.cachedPgreelBinary.get()
        }
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago: binds port 0, reads the port the kernel chose, closes.
    /// Another process could take it before it is used; callers that start servers retry on "address in use".
    public static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else {
            throw ToolsError.noFreePort(reason: "socket() failed: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            throw ToolsError.noFreePort(reason: "bind() failed: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                getsockname(descriptor, socketAddress, &length)
            }
        }
        guard named == 0 else {
            throw ToolsError.noFreePort(reason: "getsockname() failed: \(String(cString: strerror(errno)))")
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The full path of an executable: `name` itself if it contains a slash, else the first match in PATH
    /// (plus the sbin directories, where Debian keeps `runuser` and root's PATH may not reach).
    public static func resolveExecutable(_ name: String) throws -> String {
        if name.contains("/") {
            return name
        }
        guard let path = self.which(name) else {
            throw ProcessRunnerError.executableNotFound(name)
        }
        return path
    }

    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        for directory in directories where !directory.isEmpty {
            let candidate = directory + "/" + name
            if self.isExecutableFile(candidate) {
                return candidate
            }
        }
        return nil
    }

    static func isExecutableFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            && !isDirectory.boolValue
            && FileManager.default.isExecutableFile(atPath: path)
    }

    // MARK: - Lookups, done once

    private static let cachedBinDirectory: Result<String, ToolsError> = {
        var searched: [String] = []
        func holdsServer(_ directory: String) -> Bool {
            searched.append(directory)
            return ["initdb", "pg_ctl", "postgres"].allSatisfy { Tools.isExecutableFile(directory + "/" + $0) }
        }
        if let fromEnvironment = ProcessInfo.processInfo.environment["PGREEL_PG_BINDIR"], !fromEnvironment.isEmpty {
            return holdsServer(fromEnvironment)
                ? .success(fromEnvironment) : .failure(.postgresNotFound(searched: searched))
        }
        if let pgConfig = Tools.which("pg_config"), let directory = Tools.output(of: pgConfig, ["--bindir"]),
            holdsServer(directory)
        {
            return .success(directory)
        }
        for directory in Tools.debianBinDirectories() where holdsServer(directory) {
            return .success(directory)
        }
        if let initdb = Tools.which("initdb") {
            let real = URL(fileURLWithPath: initdb).resolvingSymlinksInPath().deletingLastPathComponent().path
            if holdsServer(real) {
                return .success(real)
            }
        }
        return .failure(.postgresNotFound(searched: searched))
    }()

    /// `/usr/lib/postgresql/*/bin`, newest version first.
    private static func debianBinDirectories() -> [String] {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        func numeric(_ version: String) -> [Int] {
            version.split(separator: ".").map { Int($0) ?? 0 }
        }
        return versions
            .sorted { numeric($0).lexicographicallyPrecedes(numeric($1)) }
            .reversed()
            .map { "\(root)/\($0)/bin" }
    }

    private static func clientTool(_ name: String) throws -> String {
        var searched: [String] = []
        if let directory = try? self.postgresBinDirectory {
            searched.append(directory)
            if self.isExecutableFile(directory + "/" + name) {
                return directory + "/" + name
            }
        }
        for directory in self.debianBinDirectories() {
            searched.append(directory)
            if self.isExecutableFile(directory + "/" + name) {
                return directory + "/" + name
            }
        }
        if let found = self.which(name) {
            return found
        }
        throw ToolsError.toolNotFound(name: name, searched: searched)
    }

    private static let cachedPgreelBinary: Result<String, ToolsError> = {
        var searched: [String] = []
        if let fromEnvironment = ProcessInfo.processInfo.environment["PGREEL_BINARY"], !fromEnvironment.isEmpty {
            searched.append(fromEnvironment)
            return Tools.isExecutableFile(fromEnvironment)
                ? .success(fromEnvironment) : .failure(.pgreelNotFound(searched: searched))
        }
        var testProducts: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            testProducts.append(exe)
        }
        if let first = CommandLine.arguments.first {
            testProducts.append(first)
        }
        if let main = Bundle.main.executablePath {
            testProducts.append(main)
        }
        testProducts += Bundle.allBundles.map(\.bundlePath).filter { $0.hasSuffix(".xctest") }
        for product in testProducts {
            var directory = URL(fileURLWithPath: product).resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0...4 {
                let candidate = directory.appendingPathComponent("pgreel").path
                if !searched.contains(candidate) {
                    searched.append(candidate)
                }
                if Tools.isExecutableFile(candidate) {
                    return .success(candidate)
                }
                directory.deleteLastPathComponent()
            }
        }
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                let candidate = directory.appendingPathComponent(".build/debug/pgreel").path
                searched.append(candidate)
                if Tools.isExecutableFile(candidate) {
                    return .success(candidate)
                }
                break
            }
            directory.deleteLastPathComponent()
        }
        return .failure(.pgreelNotFound(searched: searched))
    }()

    /// The first line a short helper program prints, or nil when it fails. Synchronous: used once, at start-up.
    static func output(of executable: String, _ arguments: [String]) -> String? {
        guard let pipe = try? Spawn.pipe(), let devNull = try? Spawn.openDevNull(O_RDWR) else { return nil }
        defer { close(devNull) }
        let pid = try? Spawn.start(
            path: executable,
            arguments: arguments,
            environment: ProcessInfo.processInfo.environment,
            descriptors: .init(input: devNull, output: pipe.write, error: devNull),
            workingDirectory: nil
        )
        close(pipe.write)
        defer { close(pipe.read) }
        guard let pid else { return nil }
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(pipe.read, $0.baseAddress, $0.count) }
            if count > 0 {
                data += chunk[0..<count]
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        guard Spawn.waitForExit(pid).status == 0 else { return nil }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init)
        return line?.trimmingCharacters(in: .whitespaces)
    }
}

/// What pgbench reports at the end of a run.
public enum PgbenchOutput {
    /// "number of transactions actually processed: N" and "number of failed transactions: N (..)" (0 when the line
    /// is missing: pgbench before 15 does not print it); nil without the first.
    public static func counts(_ output: String) -> (processed: Int, failed: Int)? {
        func number(after label: String) -> Int? {
            guard let range = output.range(of: label) else { return nil }
            let digits = output[range.upperBound...].drop { $0 == " " }.prefix { $0.isNumber }
            return Int(digits)
        }
        guard let processed = number(after: "number of transactions actually processed:") else { return nil }
        return (processed, number(after: "number of failed transactions:") ?? 0)
    }
}

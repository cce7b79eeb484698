import Foundation
import Testing

@testable import ProxyEngine

/// The real file system path of the configuration: what the CLI passes to `ProxyConfiguration.resolve`.
@Suite struct LocalFilesTests {
    let directory: String

    init() throws {
        self.directory =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("pgreel-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String, mode: mode_t) throws -> String {
        let path = self.directory + "/" + name
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        #expect(chmod(path, mode) == 0)
        return path
    }

    @Test func resolvesARealConfigFileAndWarnsWhenOthersCanReadItsPasswords() throws {
        defer { try? FileManager.default.removeItem(atPath: self.directory) }
        let config = try self.write("pgreel.toml", "[[users]]\nname = \"alice\"\npassword = \"pw\"\n", mode: 0o644)
        let pgpass = try self.write("pgpass", "localhost:5432:postgres:postgres:real-pw\n", mode: 0o600)
        let configuration = try ProxyConfiguration.resolve(
            flags: CommandLineFlags(config: config), environment: ["PGPASSFILE": pgpass], readFile: LocalFiles.readText
        )
        #expect(configuration.users.map(\.name) == ["alice"])
        #expect(configuration.users[0].upstream.password == "real-pw")
        #expect(
            configuration.warnings == [
                "\(config) holds passwords and others can read it (mode 644); chmod 600 \(config)"
            ])

        #expect(chmod(config, 0o600) == 0)
        let quiet = try ProxyConfiguration.resolve(
            flags: CommandLineFlags(config: config), environment: ["PGPASSFILE": pgpass], readFile: LocalFiles.readText
        )
        #expect(quiet.warnings.isEmpty)
    }

    @Test func readErrorsSayWhyInAFewWords() throws {
        defer { try? FileManager.default.removeItem(atPath: self.directory) }
        let missing = self.directory + "/missing.toml"
        #expect(
            configErrorMessage { try LocalFiles.readText(missing) }
                == "cannot read \(missing): no such file or directory"
        )
        #expect(
            configErrorMessage { try LocalFiles.readText(self.directory) }
                == "cannot read \(self.directory): is a directory")
        let binary = self.directory + "/binary"
        try Data([0xFF, 0xFE, 0x00]).write(to: URL(fileURLWithPath: binary))
        #expect(configErrorMessage { try LocalFiles.readText(binary) } == "cannot read \(binary): it is not UTF-8 text")
        #expect(
            configErrorMessage {
                try ProxyConfiguration.resolve(
                    flags: CommandLineFlags(config: missing), environment: [:], readFile: LocalFiles.readText
                )
            } == "cannot read \(missing): no such file or directory"
        )
    }

    @Test func statusReportsTypeAndPermissions() throws {
        defer { try? FileManager.default.removeItem(atPath: self.directory) }
        let file = try self.write("f", "x", mode: 0o640)
        #expect(LocalFiles.status(of: file) == FileStatus(isRegularFile: true, permissions: 0o640))
        #expect(LocalFiles.status(of: self.directory)?.isRegularFile == false)
        #expect(LocalFiles.status(of: self.directory + "/none") == nil)
    }
}

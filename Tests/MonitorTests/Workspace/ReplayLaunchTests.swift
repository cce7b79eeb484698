import Foundation
import Monitor
import ProxyEngine
import Replay
import Testing

/// Loading a session file for the replay view.
@Suite struct ReplayLaunchTests {
    /// The fixture session written out as pgreel writes it.
    static func writeFile() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgreel-launch-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("pseudo_user_2025-10-07_21-30-15.json").path
        let lines = ReplayFixtures.events().map { String(decoding: SessionEventJSON.encode($0), as: UTF8.self) }
        try ("[\n" + lines.joined(separator: ",\n") + "\n]\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aStepNeverSendsQueriesAhead() throws {
        let path = try Self.writeFile()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        let launch = ReplayLaunch(
            sessionsDirectory: URL(fileURLWithPath: path).deletingLastPathComponent().path, dbURL: nil,
            environment: [:], options: ReplayOptions(safety: .readOnly, pipelineDepth: 64))
        let loaded = try launch.load(path: path)
        #expect(loaded.session.options.pipelineDepth == 0)
        #expect(loaded.session.options.safety == .readOnly)
        #expect(loaded.session.target.masked == "postgres://postgres@127.0.0.1:5432/postgres")
        #expect(loaded.session.target.source == .recording)
        let setup = ReplayViewState.Setup(session: loaded.session, openedAt: EventScript.start)
        #expect(setup.rows.count == 5)
        #expect(setup.targetSource == "the recorded connection")
    }

    @Test func aFileThatIsNotASessionFileSaysWhere() throws {
        let path = try Self.writeFile()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        try "[\n{\"type\":\"querry\",\"timestamp\":\"2025-10-07T21:30:15Z\",\"data\":{}}\n]\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let launch = ReplayLaunch(sessionsDirectory: "/tmp", dbURL: nil, environment: [:], options: ReplayOptions())
        #expect(throws: ReplayError.self) { try launch.load(path: path) }
    }
}

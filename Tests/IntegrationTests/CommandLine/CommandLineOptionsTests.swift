import Foundation
import Testing

/// Options with a fixed set of values are parsed by swift-argument-parser (an enum each), which refuses a wrong one
/// with one clear line and the usage exit code, before anything starts.
@Suite struct CommandLineOptionsTests {
    @Test func anUnknownLogFormatIsRefusedWithTheValidOnes() async throws {
        let result = try await ProcessRunner.run(try Tools.pgreelBinary, ["proxy", "--log-format", "yaml"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("The value 'yaml' is invalid for '--log-format <FORMAT>'"), "\(result.stderr)")
        #expect(result.stderr.contains("'text' and 'json'"))
    }

    @Test func readOnlyAndRollbackExcludeEachOther() async throws {
        for command in [["replay", "x.json"], ["monitor", "--replay", "x.json"]] {
            let result = try await ProcessRunner.run(try Tools.pgreelBinary, command + ["--read-only", "--rollback"])
            #expect(result.status == 64, "\(command)")
            #expect(result.stderr.contains("'--rollback' had already been set with flag '--read-only'"), "\(result.stderr)")
        }
    }
}

import Foundation

/// The seed's example session file, read from Tests/Fixtures (one copy for every test target that needs it).
enum SeedExampleFile {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/seed-example.json").path

    static let text: String = {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            preconditionFailure("cannot read the test fixture \(path)")
        }
        return text
    }()
}

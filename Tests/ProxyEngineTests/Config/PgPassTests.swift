import Foundation
import Testing

@testable import ProxyEngine

@Suite struct PgPassTests {
    @Test func matchesExactFieldsAndWildcards() {
        let file = PgPass(
            parsing: """
                db.example.com:5432:orders:app:exact-pw
                *:5432:*:app:any-host-pw
                localhost:*:*:*:local-pw
                """
        )
        #expect(file.password(host: "db.example.com", port: 5432, database: "orders", user: "app") == "exact-pw")
        #expect(file.password(host: "db.example.com", port: 5432, database: "other", user: "app") == "any-host-pw")
        #expect(file.password(host: "elsewhere", port: 5432, database: "x", user: "app") == "any-host-pw")
        #expect(file.password(host: "localhost", port: 6000, database: "x", user: "bob") == "local-pw")
        #expect(file.password(host: "elsewhere", port: 6000, database: "x", user: "app") == nil)
    }

    @Test func theFirstMatchingLineWins() {
        let file = PgPass(
            parsing: """
                *:*:*:app:first
                localhost:5432:app:app:second
                """
        )
        #expect(file.password(host: "localhost", port: 5432, database: "app", user: "app") == "first")
    }

    @Test func undoesEscapes() {
        let file = PgPass(
            parsing: #"""
                \:\:1:5432:my\:db:us\\er:pa\:ss\\word
                h:5432:db:u:p\*w:ignored-extra-field
                \*:5432:*:star:literal-star-host
                """#
        )
        #expect(file.password(host: "::1", port: 5432, database: "my:db", user: #"us\er"#) == #"pa:ss\word"#)
        #expect(file.password(host: "h", port: 5432, database: "db", user: "u") == "p*w")
        // An escaped "*" is a literal star, not the wildcard.
        #expect(file.password(host: "*", port: 5432, database: "x", user: "star") == "literal-star-host")
        #expect(file.password(host: "other", port: 5432, database: "x", user: "star") == nil)
        #expect(file.entries[2].host == .value("*"))
        #expect(file.entries[0].host == .value("::1"))
    }

    @Test func skipsCommentsBlankAndShortLines() {
        let file = PgPass(
            parsing: "# a comment:5432:*:app:not-a-password\n\n  \nh:5432:db\r\nh:5432:db:app:pw\r\n"
        )
        #expect(file.entries.count == 1)
        #expect(file.password(host: "h", port: 5432, database: "db", user: "app") == "pw")
    }

    @Test func anEmptyPasswordCountsAsNone() {
        let file = PgPass(parsing: "h:5432:db:app:\nh:5432:db:app:later")
        #expect(file.password(host: "h", port: 5432, database: "db", user: "app") == nil)
    }

    @Test func filePathFollowsLibpq() {
        #expect(PgPass.filePath(environment: ["PGPASSFILE": "/etc/pgpass", "HOME": "/home/a"]) == "/etc/pgpass")
        #expect(PgPass.filePath(environment: ["HOME": "/home/a"]) == "/home/a/.pgpass")
        #expect(PgPass.filePath(environment: ["HOME": "/home/a/"]) == "/home/a/.pgpass")
        #expect(PgPass.filePath(environment: [:]) == nil)
    }

    @Test func resolutionOrderIsURLThenPGPASSWORDThenFile() throws {
        let file = (path: "/p", file: PgPass(parsing: "*:*:*:*:from-file"))
        let withPassword = try UpstreamURL(parsing: "postgres://u:from-url@h/db")
        let without = try UpstreamURL(parsing: "postgres://u@h/db")

        let fromURL = PgPass.resolvePassword(
            for: withPassword, environment: ["PGPASSWORD": "from-env"], passwordFile: file
        )
        #expect(fromURL.password == "from-url")
        #expect(fromURL.source == .url)

        let fromEnvironment = PgPass.resolvePassword(
            for: without, environment: ["PGPASSWORD": "from-env"], passwordFile: file
        )
        #expect(fromEnvironment.password == "from-env")
        #expect(fromEnvironment.source == .environment(variable: "PGPASSWORD"))

        let fromFile = PgPass.resolvePassword(for: without, environment: ["PGPASSWORD": ""], passwordFile: file)
        #expect(fromFile.password == "from-file")
        #expect(fromFile.source == .passwordFile(path: "/p"))

        let none = PgPass.resolvePassword(for: without, environment: [:], passwordFile: nil)
        #expect(none.password == nil)
        #expect(none.source == .notFound)
    }

    @Test func looksUpWithTheURLsHostPortDatabaseAndUser() throws {
        let file = (path: "/p", file: PgPass(parsing: "db:6543:orders:app:right\n*:*:*:*:wrong"))
        let url = try UpstreamURL(parsing: "postgres://app@db:6543/orders")
        #expect(PgPass.resolvePassword(for: url, environment: [:], passwordFile: file).password == "right")
    }

    /// libpq ignores a password file that the group or others may access; so do we, and say why.
    @Test func ignoresAGroupOrWorldReadableFileWithAWarning() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("pgreel-pgpass-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("pgpass").path
        try "*:*:*:*:file-pw\n".write(toFile: path, atomically: false, encoding: .utf8)
        let url = try UpstreamURL(parsing: "postgres://app@localhost/app")
        let environment = ["PGPASSFILE": path]

        #expect(chmod(path, 0o644) == 0)
        #expect(LocalFiles.status(of: path) == FileStatus(isRegularFile: true, permissions: 0o644))
        let ignored = PgPass.resolvePassword(for: url, environment: environment)
        #expect(ignored.password == nil)
        #expect(ignored.source == .notFound)
        #expect(
            ignored.warning == "password file \"\(path)\" has group or world access (mode 644) and is ignored, "
                + "as libpq does; permissions should be u=rw (0600) or less: chmod 600 \(path)"
        )

        #expect(chmod(path, 0o600) == 0)
        let used = PgPass.resolvePassword(for: url, environment: environment)
        #expect(used.password == "file-pw")
        #expect(used.source == .passwordFile(path: path))
        #expect(used.warning == nil)
    }

    @Test func aMissingFileIsSilentAndADirectoryIsIgnoredWithAWarning() throws {
        let missing = PgPass.load(path: "/nonexistent/pgreel/pgpass")
        #expect(missing.file == nil)
        #expect(missing.warning == nil)

        let directory = FileManager.default.temporaryDirectory.path
        let notAFile = PgPass.load(path: directory)
        #expect(notAFile.file == nil)
        #expect(notAFile.warning == "password file \"\(directory)\" is not a plain file; it is ignored")
    }

    @Test func theFileIsNotReadWhenAnEarlierSourceHasThePassword() throws {
        let url = try UpstreamURL(parsing: "postgres://app:pw@localhost/app")
        let result = PgPass.resolvePassword(
            for: url, environment: ["PGPASSFILE": "/p"],
            fileStatus: { _ in
                Issue.record("the password file was looked at")
                return nil
            },
            readFile: { _ in "" }
        )
        #expect(result.password == "pw")
    }
}

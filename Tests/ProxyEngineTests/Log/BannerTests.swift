import Testing

@testable import ProxyEngine

@Suite struct BannerTests {
    let seedUser = BannerUser(
        pseudoUser: "pseudo_user", passwordInfo: .any, database: "postgres",
        maskedUpstreamURL: "postgres://postgres:***@localhost:5432/postgres"
    )

    @Test func reproducesTheSeedBanner() {
        let text = Banner.text(
            listen: "localhost:5433", users: [self.seedUser], sessionsDirectory: "./sessions", recording: true,
            color: false
        )
        let expected = """
            ✅ Proxy Server Started!
               Listening on localhost:5433

            📋 Available Pseudo Credentials:
            ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━

              Pseudo User: pseudo_user
              Password: (any password works)
              Database: postgres
              → Maps to: postgres://postgres:***@localhost:5432/postgres

            🔌 Connect using:
              psql -h localhost -p 5433 -U pseudo_user -d postgres

            ⚠️  Pseudo user pseudo_user accepts any password
            📝 Recording sessions to ./sessions

            🔍 Monitoring all queries and responses...

            """
        #expect(text == expected)
        #expect(!text.unicodeScalars.contains("\u{1B}"))
    }

    @Test func severalUsersRequiredPasswordsAndNoRecording() {
        let secure = BannerUser(
            pseudoUser: "analyst", passwordInfo: .required(method: "SCRAM-SHA-256"), database: "warehouse",
            maskedUpstreamURL: "postgres://etl:***@db.internal:6432/warehouse"
        )
        let text = Banner.text(
            listen: "0.0.0.0:6543", users: [secure, self.seedUser], sessionsDirectory: nil, recording: false,
            color: false
        )
        #expect(
            text.contains("\n  Pseudo User: analyst\n  Password: (required, SCRAM-SHA-256)\n  Database: warehouse\n"))
        #expect(text.contains("  psql -h localhost -p 6543 -U analyst -d warehouse\n"))
        #expect(text.contains("⚠️  Pseudo user pseudo_user accepts any password\n"))
        #expect(!text.contains("Pseudo user analyst accepts"))
        #expect(text.contains("📝 Recording is off\n"))
    }

    /// The banner receives no password; if a caller ever passes an unmasked URL, the banner masks it again.
    @Test func neverShowsAPassword() {
        let leaky = BannerUser(
            pseudoUser: "app", passwordInfo: .required(method: "SCRAM-SHA-256"), database: "app",
            maskedUpstreamURL: "postgresql://svc:S3cr3t-pw@db.example:5432/app?sslmode=require&password=hunter2#frag"
        )
        let text = Banner.text(
            listen: "[::1]:5433", users: [leaky], sessionsDirectory: "/var/lib/pgreel", recording: true, color: true
        )
        #expect(text.contains("postgresql://svc:***@db.example:5432/app?sslmode=require&password=***#frag"))
        #expect(!text.contains("S3cr3t-pw"))
        #expect(!text.contains("hunter2"))
        #expect(text.contains("  psql -h ::1 -p 5433 -U app -d app"))
        #expect(text.contains("\u{1B}[32m✅ Proxy Server Started!\u{1B}[0m"))
    }

    @Test(arguments: [
        ("postgres://postgres:***@localhost:5432/postgres", "postgres://postgres:***@localhost:5432/postgres"),
        ("postgres://u:p%40ss@h/db", "postgres://u:***@h/db"),
        ("postgres://u@h:5432/db", "postgres://u@h:5432/db"),
        ("postgres://h:5432/db", "postgres://h:5432/db"),
        ("postgres://u:a@b@h/db", "postgres://u:***@h/db"),
        ("postgres://h/db?user=u&PASSWORD=x", "postgres://h/db?user=u&PASSWORD=***"),
        ("postgres://h/db?application_name=password", "postgres://h/db?application_name=password"),
    ])
    func masking(url: String, masked: String) {
        #expect(Banner.maskingPassword(in: url) == masked)
    }

    @Test func connectTargets() {
        #expect(Banner.connectTarget("localhost:5433") == ("localhost", "5433"))
        #expect(Banner.connectTarget("0.0.0.0:5433") == ("localhost", "5433"))
        #expect(Banner.connectTarget("[::]:5433") == ("localhost", "5433"))
        #expect(Banner.connectTarget("[fe80::1]:7000") == ("fe80::1", "7000"))
        #expect(Banner.connectTarget("::1") == ("::1", nil))
        #expect(Banner.connectTarget("db.local") == ("db.local", nil))
        #expect(Banner.shellQuoted("pseudo_user") == "pseudo_user")
        #expect(Banner.shellQuoted("my db") == "'my db'")
        #expect(Banner.shellQuoted("o'neil") == "'o'\\''neil'")
    }
}

import Testing

@testable import ProxyEngine

@Suite struct ProxyConfigurationTests {
    static let defaultURL = UpstreamURL(user: "postgres", host: "localhost", port: 5432, database: "postgres")

    @Test func defaultsMatchTheCommandLineContract() throws {
        let configuration = try InMemoryConfigFiles().resolve(CommandLineFlags())
        #expect(
            configuration
                == ProxyConfiguration(
                    listenHost: "127.0.0.1", listenPort: 5433,
                    users: [PseudoUser(name: "pseudo_user", authMethod: .trust, upstream: Self.defaultURL)],
                    sessionsDirectory: "./sessions", recording: true, maxRecordedRows: 1000, logFormat: .text,
                    quiet: false
                )
        )
        #expect(configuration.users[0].upstream.masked == "postgres://postgres@localhost:5432/postgres")
        #expect(configuration.users[0].realUser == "postgres")
    }

    @Test func flagsSetEverything() throws {
        let configuration = try InMemoryConfigFiles().resolve(
            CommandLineFlags(
                listen: "[::1]:6000", upstream: "postgres://app@db:6543/orders", users: ["alice:pw", "bob"],
                sessions: "/tmp/s", noRecord: true, maxRecordedRows: 10, logFormat: .json, quiet: true
            )
        )
        let url = UpstreamURL(user: "app", host: "db", port: 6543, database: "orders")
        #expect(configuration.listenHost == "::1")
        #expect(configuration.listenPort == 6000)
        #expect(configuration.listenAddress == "[::1]:6000")
        #expect(
            configuration.users == [
                PseudoUser(name: "alice", password: "pw", authMethod: .scramSHA256, upstream: url),
                PseudoUser(name: "bob", authMethod: .trust, upstream: url),
            ]
        )
        #expect(configuration.sessionsDirectory == "/tmp/s")
        #expect(configuration.recording == false)
        #expect(configuration.maxRecordedRows == 10)
        #expect(configuration.logFormat == .json)
        #expect(configuration.quiet)
        #expect(configuration.warnings.isEmpty)
    }

    @Test func userFlagPasswordIsEverythingAfterTheFirstColon() throws {
        let configuration = try InMemoryConfigFiles().resolve(CommandLineFlags(users: ["carol:a:b@c"]))
        #expect(configuration.user(named: "carol")?.password == "a:b@c")
        #expect(configuration.user(named: "Carol") == nil, "names are case-sensitive, as in PostgreSQL")
    }

    @Test func fileOverridesDefaultsAndFlagsOverrideTheFile() throws {
        let files = InMemoryConfigFiles([
            "p.toml": (
                """
                listen = "0.0.0.0:7000"
                sessions = "/srv/sessions"
                record = false
                max_recorded_rows = 50
                log_format = "json"
                quiet = true
                upstream = "postgres://file@filedb/f"
                """,
                0o600
            )
        ])
        let fromFile = try files.resolve(CommandLineFlags(config: "p.toml"))
        #expect(fromFile.listenAddress == "0.0.0.0:7000")
        #expect(fromFile.sessionsDirectory == "/srv/sessions")
        #expect(fromFile.recording == false)
        #expect(fromFile.maxRecordedRows == 50)
        #expect(fromFile.logFormat == .json)
        #expect(fromFile.quiet)
        #expect(fromFile.users.map(\.upstream.masked) == ["postgres://file@filedb:5432/f"])
        #expect(fromFile.configFile == "p.toml")

        let overridden = try files.resolve(
            CommandLineFlags(
                listen: "127.0.0.2:8000", upstream: "postgres://flag@flagdb/g", config: "p.toml", sessions: "/x",
                maxRecordedRows: 5, logFormat: .text
            )
        )
        #expect(overridden.listenAddress == "127.0.0.2:8000")
        #expect(overridden.sessionsDirectory == "/x")
        #expect(overridden.maxRecordedRows == 5)
        #expect(overridden.logFormat == .text)
        #expect(overridden.users.map(\.upstream.masked) == ["postgres://flag@flagdb:5432/g"])
        // There is no flag to turn recording or quiet back on: the file's false / true stand.
        #expect(overridden.recording == false)
        #expect(overridden.quiet)
    }

    @Test func aPortOnlyListenFlagKeepsTheHostOfTheFile() throws {
        let files = InMemoryConfigFiles(["p.toml": ("listen = \"0.0.0.0:7000\"", 0o600)])
        #expect(try files.resolve(CommandLineFlags(listen: ":9000", config: "p.toml")).listenAddress == "0.0.0.0:9000")
        #expect(try files.resolve(CommandLineFlags(listen: "9001", config: "p.toml")).listenAddress == "0.0.0.0:9001")
        #expect(try files.resolve(CommandLineFlags(listen: "9002")).listenAddress == "127.0.0.1:9002")
    }

    @Test func userFlagsJoinFileUsersAndReplaceOnesWithTheSameName() throws {
        let files = InMemoryConfigFiles([
            "p.toml": (
                """
                [[users]]
                name = "alice"
                password = "file-pw"
                [[users]]
                name = "bob"
                password = "bob-pw"
                """,
                0o600
            )
        ])
        let configuration = try files.resolve(CommandLineFlags(users: ["alice:flag-pw", "carol"], config: "p.toml"))
        #expect(configuration.users.map(\.name) == ["alice", "bob", "carol"])
        #expect(configuration.user(named: "alice")?.password == "flag-pw")
        #expect(configuration.warnings == ["--user alice replaces the pseudo user \"alice\" of p.toml"])
    }

    @Test func fileUsersWithoutAnUpstreamUseTheDefaultUpstream() throws {
        let files = InMemoryConfigFiles([
            "p.toml": (
                """
                upstream = "main"
                [upstreams.main]
                url = "postgres://app@main/app"
                [upstreams.other]
                url = "postgres://app@other/app"
                [[users]]
                name = "alice"
                auth = "trust"
                [[users]]
                name = "bob"
                auth = "trust"
                upstream = "other"
                """,
                0o600
            )
        ])
        let fromFile = try files.resolve(CommandLineFlags(config: "p.toml"))
        #expect(fromFile.users.map(\.upstream.host) == ["main", "other"])
        let fromFlag = try files.resolve(CommandLineFlags(upstream: "postgres://app@flag/app", config: "p.toml"))
        #expect(fromFlag.users.map(\.upstream.host) == ["flag", "other"])
    }

    @Test func anUnusedUpstreamFlagIsReported() throws {
        let files = InMemoryConfigFiles([
            "p.toml": ("[[users]]\nname = \"a\"\nauth = \"trust\"\nupstream = \"postgres://u@h/d\"", 0o600)
        ])
        let configuration = try files.resolve(
            CommandLineFlags(upstream: "postgres://u:secret@elsewhere/d", config: "p.toml")
        )
        #expect(
            configuration.warnings == [
                "--upstream postgres://u:***@elsewhere/d is not used: every pseudo user names its own upstream"
            ]
        )
    }

    @Test func anUnusedUpstreamFlagIsStillChecked() {
        let files = InMemoryConfigFiles([
            "p.toml": ("[[users]]\nname = \"a\"\nauth = \"trust\"\nupstream = \"postgres://u@h/d\"", 0o600)
        ])
        #expect(
            configErrorMessage { try files.resolve(CommandLineFlags(upstream: "postgres://u@h:0/d", config: "p.toml")) }
                == "--upstream: invalid upstream URL \"postgres://u@h:0/d\": port 0 is out of range (1-65535)"
        )
    }

    @Test func upstreamPasswordOrder() throws {
        let files = InMemoryConfigFiles([
            "/home/u/.pgpass": ("*:*:*:*:from-pgpass", 0o600),
            "p.toml": (
                """
                [upstreams.inline]
                url = "postgres://app@h/app"
                password = "from-file"
                [upstreams.env]
                url = "postgres://app@h/app"
                password_env = "APP_PW"
                [upstreams.plain]
                url = "postgres://app@h/app"
                [[users]]
                name = "a"
                auth = "trust"
                upstream = "inline"
                [[users]]
                name = "b"
                auth = "trust"
                upstream = "env"
                [[users]]
                name = "c"
                auth = "trust"
                upstream = "plain"
                [[users]]
                name = "d"
                auth = "trust"
                upstream = "postgres://app:from-url@h/app"
                """,
                0o600
            ),
        ])
        func resolved(_ environment: [String: String]) throws -> [(String?, PasswordSource)] {
            try files.resolve(CommandLineFlags(config: "p.toml"), environment: environment).users.map {
                ($0.upstream.password, $0.upstreamPasswordSource)
            }
        }
        let withPGPASSWORD = try resolved(["HOME": "/home/u", "APP_PW": "from-env", "PGPASSWORD": "from-pgpassword"])
        #expect(withPGPASSWORD.map(\.0) == ["from-file", "from-env", "from-pgpassword", "from-url"])
        #expect(
            withPGPASSWORD.map(\.1) == [
                .configFile(path: "p.toml"), .environment(variable: "APP_PW"), .environment(variable: "PGPASSWORD"),
                .url,
            ]
        )
        let withPgpass = try resolved(["HOME": "/home/u", "APP_PW": "from-env"])
        #expect(withPgpass[2].0 == "from-pgpass")
        #expect(withPgpass[2].1 == .passwordFile(path: "/home/u/.pgpass"))
        let withNothing = try resolved(["APP_PW": "from-env"])
        #expect(withNothing[2].0 == nil)
        #expect(withNothing[2].1 == .notFound)
    }

    @Test func theDefaultUpstreamUsesPgpassLikeLibpq() throws {
        let files = InMemoryConfigFiles(["/pw": ("localhost:5432:postgres:postgres:local-secret", 0o600)])
        let configuration = try files.resolve(CommandLineFlags(), environment: ["PGPASSFILE": "/pw"])
        #expect(configuration.users[0].upstream.password == "local-secret")
        #expect(configuration.users[0].upstream.masked == "postgres://postgres:***@localhost:5432/postgres")
        #expect(!configuration.description.contains("local-secret"))
    }

    @Test func aReadablePgpassIsIgnoredWithAWarning() throws {
        let files = InMemoryConfigFiles(["/pw": ("*:*:*:*:secret", 0o640)])
        let configuration = try files.resolve(CommandLineFlags(), environment: ["PGPASSFILE": "/pw"])
        #expect(configuration.users[0].upstream.password == nil)
        #expect(
            configuration.warnings == [
                "password file \"/pw\" has group or world access (mode 640) and is ignored, as libpq does; "
                    + "permissions should be u=rw (0600) or less: chmod 600 /pw"
            ]
        )
    }

    @Test func aReadableConfigFileWithPasswordsGetsAWarning() throws {
        let toml = "[[users]]\nname = \"a\"\npassword = \"pw\""
        let readable = try InMemoryConfigFiles(["p.toml": (toml, 0o644)]).resolve(CommandLineFlags(config: "p.toml"))
        #expect(readable.warnings == ["p.toml holds passwords and others can read it (mode 644); chmod 600 p.toml"])
        let privateFile = try InMemoryConfigFiles(["p.toml": (toml, 0o600)]).resolve(CommandLineFlags(config: "p.toml"))
        #expect(privateFile.warnings.isEmpty)
        let noPasswords = try InMemoryConfigFiles(["p.toml": ("[[users]]\nname = \"a\"\nauth = \"trust\"", 0o644)])
            .resolve(CommandLineFlags(config: "p.toml"))
        #expect(noPasswords.warnings.isEmpty)
    }

    @Test func aFileUserWithoutPasswordOrAuthGetsAWarning() throws {
        let files = InMemoryConfigFiles(["p.toml": ("[[users]]\nname = \"bob\"", 0o600)])
        let configuration = try files.resolve(CommandLineFlags(config: "p.toml"))
        #expect(configuration.users[0].authMethod == .trust)
        #expect(
            configuration.warnings == [
                "pseudo user \"bob\" in p.toml has no password: any password is accepted "
                    + "(set a password, or auth = \"trust\" to silence this warning)"
            ]
        )
    }

    @Test func sessionsDirectoryExpandsTilde() throws {
        let configuration = try InMemoryConfigFiles().resolve(
            CommandLineFlags(sessions: "~/rec"), environment: ["HOME": "/home/u"]
        )
        #expect(configuration.sessionsDirectory == "/home/u/rec")
    }

    @Test(arguments: [
        (
            CommandLineFlags(listen: "localhost:70000"),
            "--listen: invalid listen address \"localhost:70000\": port 70000 is out of range (0-65535)"
        ),
        (
            CommandLineFlags(listen: "[::1]"),
            "--listen: invalid listen address \"[::1]\": missing port; write [ADDRESS]:PORT, as in [::1]:5433"
        ),
        (
            CommandLineFlags(upstream: "postgres://x:pw@h:99999/db"),
            "--upstream: invalid upstream URL \"postgres://x:***@h:99999/db\": port 99999 is out of range (1-65535)"
        ),
        (
            CommandLineFlags(users: ["alice", "bob", "alice:x"]),
            "--user: pseudo user \"alice\" is defined more than once"
        ),
        (CommandLineFlags(users: [""]), "--user: a pseudo user name must not be empty"),
        (CommandLineFlags(users: [":secret"]), "--user: a pseudo user name must not be empty"),
        (
            CommandLineFlags(users: ["alice:"]),
            "--user alice: the password after \":\" is empty; write --user alice to accept any password"
        ),
        (CommandLineFlags(maxRecordedRows: -1), "--max-recorded-rows must be 0 or more, not -1"),
        (CommandLineFlags(sessions: ""), "--sessions must not be empty"),
        (CommandLineFlags(config: "missing.toml"), "cannot read missing.toml: no such file or directory"),
    ])
    func flagErrors(flags: CommandLineFlags, message: String) {
        #expect(configErrorMessage { try InMemoryConfigFiles().resolve(flags) } == message)
    }

    @Test func fileErrorsFoundWhileResolving() {
        let duplicate = InMemoryConfigFiles([
            "p.toml": ("[[users]]\nname = \"a\"\nauth = \"trust\"\n[[users]]\nname = \"a\"\nauth = \"trust\"", 0o600)
        ])
        #expect(
            configErrorMessage { try duplicate.resolve(CommandLineFlags(config: "p.toml")) }
                == "p.toml: users #2 (\"a\"): pseudo user \"a\" is defined more than once"
        )
        let missingVariable = InMemoryConfigFiles([
            "p.toml": (
                "[upstreams.m]\nurl = \"postgres://u@h/d\"\npassword_env = \"M_PW\"\n"
                    + "[[users]]\nname = \"a\"\nauth = \"trust\"\nupstream = \"m\"",
                0o600
            )
        ])
        #expect(
            configErrorMessage {
                try missingVariable.resolve(CommandLineFlags(config: "p.toml"), environment: ["M_PW": ""])
            }
                == "p.toml: upstreams.m: \"password_env\" names the environment variable M_PW, which is not set"
        )
    }

    @Test func databaseRestriction() throws {
        let url = UpstreamURL(user: "app", host: "h", database: "main")
        let open = PseudoUser(name: "a", upstream: url)
        #expect(open.upstreamDatabase(forRequested: "anything") == "anything")
        #expect(open.upstreamDatabase(forRequested: nil) == "main")
        #expect(open.upstreamDatabase(forRequested: "") == "main")

        let restricted = PseudoUser(name: "b", upstream: url, allowedDatabases: ["main", "reports"])
        #expect(restricted.upstreamDatabase(forRequested: "reports") == "reports")
        #expect(restricted.upstreamDatabase(forRequested: nil) == "main")
        #expect(restricted.upstreamDatabase(forRequested: "secrets") == nil)
    }
}

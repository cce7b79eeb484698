import Testing

@testable import ProxyEngine

@Suite struct ConfigFileTests {
    @Test func anEmptyFileSetsNothing() throws {
        let file = try ConfigFile.parse("# nothing here\n", path: "p.toml")
        #expect(file == ConfigFile(path: "p.toml"))
    }

    @Test func readsEveryTopLevelKey() throws {
        let file = try ConfigFile.parse(
            """
            listen = "[::1]:6000"
            upstream = "postgres://app@db/app"
            sessions = "/var/lib/pgreel"
            record = false
            max_recorded_rows = 0
            log_format = "json"
            quiet = true
            """,
            path: "p.toml"
        )
        #expect(file.listen == ListenAddress(host: "::1", port: 6000))
        #expect(file.upstream == .url(UpstreamURL(user: "app", host: "db", database: "app")))
        #expect(file.sessions == "/var/lib/pgreel")
        #expect(file.record == false)
        #expect(file.maxRecordedRows == 0)
        #expect(file.logFormat == .json)
        #expect(file.quiet == true)
    }

    @Test func readsUpstreamsAndUsers() throws {
        let file = try ConfigFile.parse(
            """
            [upstreams.main]
            url = "postgres://app@db/app"
            password_env = "MAIN_PW"

            [upstreams.archive]
            url = "postgres://ro@archive/old"
            password = "inline"

            [[users]]
            name = "alice"
            password = "a-pw"
            auth = "md5"
            upstream = "main"
            databases = ["app", "reports"]
            max_connections = 3

            [[users]]
            name = "bob"
            """,
            path: "p.toml"
        )
        #expect(
            file.upstreams == [
                ConfigFile.Upstream(
                    name: "archive", url: UpstreamURL(user: "ro", host: "archive", database: "old"), password: "inline"
                ),
                ConfigFile.Upstream(
                    name: "main", url: UpstreamURL(user: "app", host: "db", database: "app"),
                    passwordEnvironmentVariable: "MAIN_PW"
                ),
            ]
        )
        #expect(
            file.users == [
                ConfigFile.User(
                    name: "alice", password: "a-pw", authMethod: .md5, upstream: .named("main"),
                    databases: ["app", "reports"], maxConnections: 3
                ),
                ConfigFile.User(name: "bob"),
            ]
        )
        #expect(file.containsPasswords)
    }

    @Test func knowsWhetherItHoldsPasswords() throws {
        let none = try ConfigFile.parse("[[users]]\nname = \"bob\"\n", path: "p.toml")
        #expect(!none.containsPasswords)
        let inURL = try ConfigFile.parse("[[users]]\nname = \"bob\"\nupstream = \"postgres://u:pw@h/d\"\n", path: "p")
        #expect(inURL.containsPasswords)
        let inDefault = try ConfigFile.parse("upstream = \"postgres://u:pw@h/d\"\n", path: "p")
        #expect(inDefault.containsPasswords)
    }

    @Test(arguments: [
        // Syntax
        ("listen = ", "p.toml:1:10: invalid TOML: Error while parsing key-value pair: encountered end-of-file"),
        // Unknown keys, with a suggestion for typos
        (
            "max_recorded_row = 5",
            "p.toml: unknown key \"max_recorded_row\" (did you mean \"max_recorded_rows\"?); valid keys: listen, "
                + "upstream, sessions, record, max_recorded_rows, log_format, quiet, tls_cert, tls_key, tls_required, "
                + "max_connections, auth_timeout, upstreams, users"
        ),
        (
            "log-format = \"json\"",
            "p.toml: unknown key \"log-format\" (did you mean \"log_format\"?); valid keys: listen, upstream, "
                + "sessions, record, max_recorded_rows, log_format, quiet, tls_cert, tls_key, tls_required, "
                + "max_connections, auth_timeout, upstreams, users"
        ),
        (
            "colour = true",
            "p.toml: unknown key \"colour\"; valid keys: listen, upstream, sessions, record, max_recorded_rows, "
                + "log_format, quiet, tls_cert, tls_key, tls_required, max_connections, auth_timeout, upstreams, users"
        ),
        (
            "[[users]]\nname = \"a\"\npasword = \"x\"",
            "p.toml: users #1: unknown key \"pasword\" (did you mean \"password\"?); valid keys: name, password, "
                + "auth, upstream, databases, max_connections"
        ),
        (
            "[upstreams.main]\nurl = \"postgres://u@h/d\"\npassword_environment = \"X\"",
            "p.toml: upstreams.main: unknown key \"password_environment\"; valid keys: url, password, password_env"
        ),
        // Types
        ("max_recorded_rows = \"1000\"", "p.toml: \"max_recorded_rows\" must be an integer, not a string"),
        ("max_recorded_rows = 10.5", "p.toml: \"max_recorded_rows\" must be an integer, not a floating-point number"),
        ("record = \"yes\"", "p.toml: \"record\" must be a boolean (true or false), not a string"),
        ("listen = 5433", "p.toml: \"listen\" must be a string, not an integer"),
        ("upstreams = \"x\"", "p.toml: \"upstreams\" must be a table of [upstreams.NAME] tables, not a string"),
        (
            "[upstreams]\nmain = \"postgres://u@h/d\"",
            "p.toml: \"upstreams.main\" must be a table with a url key, not a string"
        ),
        ("[users]\nname = \"a\"", "p.toml: \"users\" must be an array of [[users]] tables, not a single [users] table"),
        ("users = [\"alice\"]", "p.toml: \"users\" must be an array of [[users]] tables, not an array"),
        (
            "[[users]]\nname = \"a\"\ndatabases = \"app\"",
            "p.toml: users #1 (\"a\"): \"databases\" must be an array of strings, not a string"
        ),
        (
            "[[users]]\nname = \"a\"\ndatabases = [\"app\", 2]",
            "p.toml: users #1 (\"a\"): \"databases\" must be an array of strings, not an array holding an integer"
        ),
        ("[[users]]\nname = 7", "p.toml: users #1: \"name\" must be a string, not an integer"),
        (
            "[[users]]\nname = \"a\"\nmax_connections = true",
            "p.toml: users #1 (\"a\"): \"max_connections\" must be an integer, not a boolean"
        ),
        // Values
        ("max_recorded_rows = -1", "p.toml: \"max_recorded_rows\" must be 0 or more, not -1"),
        ("sessions = \"\"", "p.toml: \"sessions\" must not be empty"),
        ("log_format = \"xml\"", "p.toml: unknown log format \"xml\" (valid: text, json)"),
        ("listen = \"h:99999\"", "p.toml: invalid listen address \"h:99999\": port 99999 is out of range (0-65535)"),
        ("[upstreams.main]\npassword = \"x\"", "p.toml: upstreams.main: missing required key \"url\""),
        (
            "[upstreams.main]\nurl = \"postgres://u:pw@h:99999/d\"",
            "p.toml: upstreams.main: invalid upstream URL \"postgres://u:***@h:99999/d\": "
                + "port 99999 is out of range (1-65535)"
        ),
        (
            "[upstreams.main]\nurl = \"postgres://u:pw@h/d\"\npassword = \"pw2\"",
            "p.toml: upstreams.main: \"url\" and \"password\" cannot both be set: the URL already holds a password"
        ),
        (
            "[upstreams.main]\nurl = \"postgres://u@h/d\"\npassword = \"pw\"\npassword_env = \"X\"",
            "p.toml: upstreams.main: \"password\" and \"password_env\" cannot both be set: "
                + "give the real password one way only"
        ),
        ("[[users]]\npassword = \"x\"", "p.toml: users #1: missing required key \"name\""),
        ("[[users]]\nname = \"\"", "p.toml: users #1: a pseudo user name must not be empty"),
        (
            "[[users]]\nname = \"a\"\npassword = \"\"",
            "p.toml: users #1 (\"a\"): \"password\" must not be empty (omit it to accept any password)"
        ),
        (
            "[[users]]\nname = \"a\"\npassword = \"x\"\nauth = \"scram\"",
            "p.toml: users #1 (\"a\"): unknown auth method \"scram\" (valid: scram-sha-256, md5, password, trust)"
        ),
        (
            "[[users]]\nname = \"a\"\nauth = \"md5\"",
            "p.toml: users #1 (\"a\"): pseudo user \"a\" uses auth \"md5\", which needs a password; set one, "
                + "or use auth \"trust\" to accept any password"
        ),
        (
            "[[users]]\nname = \"a\"\npassword = \"x\"\nauth = \"trust\"",
            "p.toml: users #1 (\"a\"): pseudo user \"a\" has a password but auth \"trust\", which ignores it; "
                + "remove the password or choose another auth method"
        ),
        (
            "[[users]]\nname = \"a\"\nupstream = \"prod\"",
            "p.toml: users #1 (\"a\"): unknown upstream \"prod\" (no [upstreams.NAME] table is defined); "
                + "give the name of an [upstreams.NAME] table or a postgres:// URL"
        ),
        (
            "upstream = \"prdo\"\n[upstreams.prod]\nurl = \"postgres://u@h/d\"\n"
                + "[upstreams.dev]\nurl = \"postgres://u@h/d\"",
            "p.toml: unknown upstream \"prdo\" (defined: dev, prod); give the name of an [upstreams.NAME] table "
                + "or a postgres:// URL"
        ),
        (
            "[[users]]\nname = \"a\"\ndatabases = []",
            "p.toml: users #1 (\"a\"): \"databases\" must list at least one database (omit it to allow any)"
        ),
        (
            "[[users]]\nname = \"a\"\nmax_connections = 0",
            "p.toml: users #1 (\"a\"): \"max_connections\" must be 1 or more, not 0"
        ),
    ])
    func rejectsWithAMessageNamingTheFileAndKey(toml: String, message: String) {
        #expect(configErrorMessage { try ConfigFile.parse(toml, path: "p.toml") } == message)
    }

    @Test func errorsKeepTheirStructure() {
        let error = thrownConfigError {
            try ConfigFile.parse("[[users]]\nname = \"a\"\nauth = \"md4\"", path: "p.toml")
        }
        #expect(error == .inFile(path: "p.toml", table: "users #1 (\"a\")", .unknownAuthMethod("md4")))
        #expect(error?.underlying == .unknownAuthMethod("md4"))
    }
}

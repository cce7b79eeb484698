import Testing

@testable import ProxyEngine

/// The real password must never show up in anything printable: the point of masking is that a careless
/// `print`, log line or error message cannot leak it.
@Suite struct ConfigPasswordMaskingTests {
    static let secret = "Sup3r-Secret"

    @Test func upstreamURLNeverPrintsItsPassword() throws {
        let url = try UpstreamURL(parsing: "postgres://app:\(Self.secret)@db:5432/app?sslpassword=\(Self.secret)")
        #expect(url.password == Self.secret)
        #expect(url.parameters["sslpassword"] == Self.secret)
        let printed = [
            url.masked, url.description, url.debugDescription, "\(url)", String(reflecting: url), Self.dumped(url),
        ]
        for text in printed {
            #expect(!text.contains(Self.secret), "leaked in: \(text)")
        }
        #expect(url.description == "postgres://app:***@db:5432/app?sslpassword=***")
    }

    @Test func pseudoUserAndConfigurationNeverPrintPasswords() throws {
        let upstream = try UpstreamURL(parsing: "postgres://app:\(Self.secret)@db/app")
        let user = PseudoUser(name: "alice", password: Self.secret, upstream: upstream)
        let configuration = ProxyConfiguration(users: [user])
        let printed = [
            user.description, user.debugDescription, String(reflecting: user), Self.dumped(user),
            configuration.description, String(reflecting: configuration), Self.dumped(configuration),
        ]
        for text in printed {
            #expect(!text.contains(Self.secret), "leaked in: \(text)")
        }
        #expect(user.description == "alice (scram-sha-256) -> postgres://app:***@db:5432/app")
    }

    @Test func flagsAndFileEntriesNeverPrintPasswords() throws {
        let flags = CommandLineFlags(
            upstream: "postgres://app:\(Self.secret)@db/app", users: ["alice:\(Self.secret)", "bob"]
        )
        #expect(flags.description == "--upstream postgres://app:***@db/app --user alice:*** --user bob")
        #expect(!String(reflecting: flags).contains(Self.secret))
        #expect(!Self.dumped(flags).contains(Self.secret))

        let entry = PgPass(parsing: "db:5432:*:app:\(Self.secret)").entries[0]
        #expect(entry.description == "db:5432:*:app:***")
        #expect(!Self.dumped(entry).contains(Self.secret))

        let file = try ConfigFile.parse(
            """
            [upstreams.main]
            url = "postgres://app@db/app"
            password = "\(Self.secret)"
            [[users]]
            name = "alice"
            password = "\(Self.secret)"
            """,
            path: "p.toml"
        )
        #expect(!Self.dumped(file).contains(Self.secret))
        #expect(!String(reflecting: file).contains(Self.secret))
    }

    @Test func errorMessagesMaskThePassword() {
        let inputs = [
            "postgres://app:\(Self.secret)@db:70000/app",
            "postgres://app:\(Self.secret)@db/app?sslmode",
            "postgres://db/app?password=\(Self.secret)&port=x",
            "postgresql://app:\(Self.secret)@[::1/app",
            "postgres:/app:\(Self.secret)@db/app",
            "host=db password='\(Self.secret) x' port=1",
        ]
        for input in inputs {
            let message = configErrorMessage { try UpstreamURL(parsing: input, environment: ["USER": "u"]) }
            #expect(message != nil)
            #expect(message?.contains(Self.secret) == false, "leaked in: \(message ?? "")")
            #expect(message?.contains("***") == true)
        }
    }

    @Test func flagErrorsDoNotShowThePassword() {
        let files = InMemoryConfigFiles()
        let message = configErrorMessage {
            try files.resolve(CommandLineFlags(users: ["alice:\(Self.secret)", "alice:\(Self.secret)"]))
        }
        #expect(message == "--user: pseudo user \"alice\" is defined more than once")
        let badUpstream = configErrorMessage {
            try files.resolve(CommandLineFlags(upstream: "postgres://u:\(Self.secret)@h:0/db"))
        }
        #expect(
            badUpstream
                == "--upstream: invalid upstream URL \"postgres://u:***@h:0/db\": port 0 is out of range (1-65535)")
    }

    static func dumped<T>(_ value: T) -> String {
        var text = ""
        dump(value, to: &text)
        return text
    }
}

extension ConfigPasswordMaskingTests {
    /// Unencoded `/`, `?` or `#` in a password break the URL (as in libpq); the error must still hide it.
    @Test(arguments: ["postgres://u:pa/\(secret)@h/db", "postgres://u:pa?\(secret)@h/db", "postgres://u:\(secret)?x@h"])
    func malformedPasswordsAreMaskedToo(input: String) {
        let message = configErrorMessage { try UpstreamURL(parsing: input) }
        #expect(message != nil)
        #expect(message?.contains(Self.secret) == false, "leaked in: \(message ?? "")")
    }
}

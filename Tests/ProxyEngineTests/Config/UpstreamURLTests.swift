import Testing

@testable import ProxyEngine

@Suite struct UpstreamURLTests {
    @Test func parsesEveryPart() throws {
        let url = try UpstreamURL(
            parsing: "postgresql://app:secret@db.example.com:6543/orders?sslmode=verify-full&application_name=pgreel"
        )
        #expect(url.scheme == "postgresql")
        #expect(url.user == "app")
        #expect(url.password == "secret")
        #expect(url.host == "db.example.com")
        #expect(url.port == 6543)
        #expect(url.database == "orders")
        #expect(url.parameters == ["sslmode": "verify-full", "application_name": "pgreel"])
        #expect(url.hostAndPort == "db.example.com:6543")
    }

    @Test func appliesLibpqDefaults() throws {
        let url = try UpstreamURL(parsing: "postgres://alice@")
        #expect(url.host == "localhost")
        #expect(url.port == 5432)
        #expect(url.database == "alice")
        #expect(url.password == nil)
        #expect(url.parameters.isEmpty)

        let emptyParts = try UpstreamURL(parsing: "postgres://bob:@dbhost:/?")
        #expect(emptyParts.password == nil, "an empty password means none, as in libpq")
        #expect(emptyParts.port == 5432)
        #expect(emptyParts.database == "bob")
    }

    @Test func takesAMissingUserFromTheEnvironment() throws {
        #expect(try UpstreamURL(parsing: "postgres://h/db", environment: ["PGUSER": "pg", "USER": "os"]).user == "pg")
        #expect(try UpstreamURL(parsing: "postgres://h/db", environment: ["USER": "os"]).user == "os")
        #expect(try UpstreamURL(parsing: "postgres:///", environment: ["LOGNAME": "lg"]).database == "lg")
        #expect(
            configErrorMessage { try UpstreamURL(parsing: "postgres://h/db", environment: [:]) }
                == "invalid upstream URL \"postgres://h/db\": no user name; write one in the URL, "
                + "as in postgres://USER@host:5432/db"
        )
    }

    @Test func percentDecodesEveryPart() throws {
        let url = try UpstreamURL(
            parsing: "postgres://us%40er:p%3Aa%2Fs%40s%25@h%2Dx:5432/my%20db?application_name=a%26b%3Dc&opt%20k=v%2B"
        )
        #expect(url.user == "us@er")
        #expect(url.password == "p:a/s@s%")
        #expect(url.host == "h-x")
        #expect(url.database == "my db")
        #expect(url.parameters == ["application_name": "a&b=c", "opt k": "v+"])
    }

    @Test func decodesUTF8AndKeepsPlus() throws {
        let url = try UpstreamURL(parsing: "postgres://j%C3%BCrgen:a+b@h/caf%C3%A9")
        #expect(url.user == "jürgen")
        #expect(url.password == "a+b", "+ is not a space in libpq URLs")
        #expect(url.database == "café")
    }

    @Test func anUnencodedAtSignInThePasswordStillParses() throws {
        let url = try UpstreamURL(parsing: "postgres://u:p@ss@host/db")
        #expect(url.password == "p@ss")
        #expect(url.host == "host")
    }

    @Test func parsesIPv6Literals() throws {
        let loopback = try UpstreamURL(parsing: "postgres://u@[::1]:6000/db")
        #expect(loopback.host == "::1")
        #expect(loopback.port == 6000)
        #expect(loopback.hostAndPort == "[::1]:6000")
        #expect(loopback.masked == "postgres://u@[::1]:6000/db")

        let noPort = try UpstreamURL(parsing: "postgres://u@[fe80::1%25eth0]/db")
        #expect(noPort.host == "fe80::1%eth0", "the zone is percent-encoded in URLs (RFC 6874)")
        #expect(noPort.masked == "postgres://u@[fe80::1%25eth0]:5432/db")
        #expect(try UpstreamURL(parsing: noPort.masked) == noPort)
        #expect(noPort.port == 5432)
    }

    @Test func queryParametersOverrideTheMatchingParts() throws {
        let url = try UpstreamURL(
            parsing: "postgres://a:x@h1:1/d1?user=b&password=y&host=h2&port=2&dbname=d2&sslmode=disable")
        #expect(url.user == "b")
        #expect(url.password == "y")
        #expect(url.host == "h2")
        #expect(url.port == 2)
        #expect(url.database == "d2")
        #expect(url.parameters == ["sslmode": "disable"])
    }

    @Test func maskedFormIsNormalisedAndParsesBack() throws {
        let url = try UpstreamURL(parsing: "postgres://us%40er:pw@localhost?sslmode=require&application_name=a%20b")
        #expect(url.masked == "postgres://us%40er:***@localhost:5432/us%40er?application_name=a%20b&sslmode=require")
        let reparsed = try UpstreamURL(parsing: url.masked)
        #expect(reparsed.user == url.user)
        #expect(reparsed.database == url.database)
        #expect(reparsed.parameters == url.parameters)
    }

    @Test func maskedFormHasNoColonPartWithoutAPassword() throws {
        let url = try UpstreamURL(parsing: ProxyConfiguration.defaultUpstream)
        #expect(url.masked == "postgres://postgres@localhost:5432/postgres")
        var withPassword = url
        withPassword.password = "from-pgpass"
        #expect(withPassword.masked == "postgres://postgres:***@localhost:5432/postgres")
    }

    @Test(arguments: [
        ("postgres://x:pw@h:99999/db", "port 99999 is out of range (1-65535)"),
        ("postgres://x:pw@h:0/db", "port 0 is out of range (1-65535)"),
        ("postgres://x:pw@h:99999999999999999999999/db", "port 99999999999999999999999 is out of range (1-65535)"),
        ("postgres://x:pw@h:5x/db", "port \"5x\" is not a number"),
        ("postgres://x:pw@::1/db", "an IPv6 address must be written in brackets, as in postgres://user@[::1]:5432/db"),
        ("postgres://x:pw@[::1/db", "the IPv6 address has no closing \"]\""),
        ("postgres://x:pw@[::1]x/db", "unexpected \"x\" after the IPv6 address; expected :PORT"),
        ("postgres://x:pw@h1,h2/db", "several hosts (h1,h2) are not supported; give one host"),
        ("postgres://x:pw@%2Ftmp/db", "Unix-domain sockets (/tmp) are not supported; give a TCP host name or address"),
        (
            "postgres://x:pw@h/d%zzb",
            "the database name has an invalid percent-encoding (\"%\" must be followed by two hex digits)"
        ),
        ("postgres://x:pw@h/d%00", "the database name contains %00, which PostgreSQL cannot accept"),
        ("postgres://x:pw@h/%FF", "the database name is not valid UTF-8 once percent-decoded"),
        ("postgres://x:pw@h/db?sslmode", "query parameter \"sslmode\" has no value (write name=value)"),
        ("mysql://x:pw@h/db", "unsupported scheme \"mysql\"; use postgres:// or postgresql://"),
        ("localhost:5432", "it must start with postgres:// or postgresql://"),
    ])
    func rejectsWithAClearMaskedMessage(input: String, reason: String) {
        let message = configErrorMessage { try UpstreamURL(parsing: input) }
        let shown = input.replacingOccurrences(of: ":pw@", with: ":***@")
        #expect(message == "invalid upstream URL \"\(shown)\": \(reason)")
        #expect(message?.contains("pw@") == false)
    }

    @Test func refusesKeywordValueStringsWithoutEchoingThePassword() {
        let message = configErrorMessage { try UpstreamURL(parsing: "host=db user=app password=hunter2 dbname=x") }
        #expect(
            message == "invalid upstream URL \"host=db user=app password=*** dbname=x\": keyword/value connection "
                + "strings (host=... dbname=...) are not supported; write a URL such as postgres://user@host:5432/db"
        )
    }
}

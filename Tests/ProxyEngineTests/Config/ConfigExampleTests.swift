import Foundation
import Testing

@testable import ProxyEngine

/// A complete config file, as docs/configuration.md shows it, resolved into the configuration it means.
@Suite struct ConfigExampleTests {
    static let example = """
        # pgreel.toml
        listen = "0.0.0.0:6432"
        sessions = "~/pgreel/sessions"
        record = true
        max_recorded_rows = 500
        log_format = "json"
        quiet = false
        tls_cert = "/etc/pgreel/server.crt" # TLS toward clients: certificate chain (PEM)
        tls_key = "/etc/pgreel/server.key"  # and its private key (mode 600)
        tls_required = true                 # plain-text clients are refused
        max_connections = 200               # client sessions at once
        auth_timeout = 30                   # seconds a client has to authenticate
        upstream = "local"                  # for users without an upstream key

        [upstreams.local]
        url = "postgres://postgres@localhost:5432/postgres"   # password from PGPASSWORD or ~/.pgpass

        [upstreams.reporting]
        url = "postgresql://report%40corp:s3cr%3At@[::1]:6543/warehouse?sslmode=require&application_name=pgreel"

        [upstreams.staging]
        url = "postgres://app@staging.example.com/app?sslmode=verify-full&sslrootcert=/etc/pgreel/staging-ca.pem"
        password_env = "STAGING_DB_PASSWORD"

        [[users]]
        name = "alice"
        password = "alice-secret"           # scram-sha-256 by default
        databases = ["postgres", "app"]

        [[users]]
        name = "bob"
        password = "bob-secret"
        auth = "md5"
        upstream = "reporting"
        max_connections = 5

        [[users]]
        name = "carol"
        auth = "trust"                      # any password
        upstream = "staging"

        [[users]]
        name = "dave"
        password = "dave-secret"
        auth = "password"
        upstream = "postgres://dave@db.example.com:5433/dave"
        """

    static let environment = [
        "HOME": "/home/me",
        "STAGING_DB_PASSWORD": "staging-pw",
    ]

    static let files = InMemoryConfigFiles([
        "/etc/pgreel.toml": (ConfigExampleTests.example, 0o600),
        "/home/me/.pgpass": (
            """
            # host:port:database:user:password
            localhost:5432:*:postgres:local-pw
            """,
            0o600
        ),
        "/etc/pgreel/server.crt": ("-----BEGIN CERTIFICATE-----", 0o644),
        "/etc/pgreel/server.key": ("-----BEGIN PRIVATE KEY-----", 0o600),
        "/etc/pgreel/staging-ca.pem": ("-----BEGIN CERTIFICATE-----", 0o644),
    ])

    static var expected: ProxyConfiguration {
        ProxyConfiguration(
            listenHost: "0.0.0.0", listenPort: 6432,
            users: [
                PseudoUser(
                    name: "alice", password: "alice-secret", authMethod: .scramSHA256,
                    upstream: UpstreamURL(
                        user: "postgres", password: "local-pw", host: "localhost", database: "postgres"),
                    upstreamPasswordSource: .passwordFile(path: "/home/me/.pgpass"),
                    allowedDatabases: ["postgres", "app"]
                ),
                PseudoUser(
                    name: "bob", password: "bob-secret", authMethod: .md5,
                    upstream: UpstreamURL(
                        user: "report@corp", password: "s3cr:t", host: "::1", port: 6543, database: "warehouse",
                        parameters: ["sslmode": "require", "application_name": "pgreel"], scheme: "postgresql"
                    ),
                    upstreamPasswordSource: .url, maxConnections: 5, upstreamTLS: UpstreamTLSSettings(mode: .require)
                ),
                PseudoUser(
                    name: "carol", authMethod: .trust,
                    upstream: UpstreamURL(
                        user: "app", password: "staging-pw", host: "staging.example.com", database: "app",
                        parameters: ["sslmode": "verify-full", "sslrootcert": "/etc/pgreel/staging-ca.pem"]
                    ),
                    upstreamPasswordSource: .environment(variable: "STAGING_DB_PASSWORD"),
                    upstreamTLS: UpstreamTLSSettings(
                        mode: .verifyFull, rootCertificates: .file("/etc/pgreel/staging-ca.pem"))
                ),
                PseudoUser(
                    name: "dave", password: "dave-secret", authMethod: .cleartext,
                    upstream: UpstreamURL(user: "dave", host: "db.example.com", port: 5433, database: "dave"),
                    upstreamPasswordSource: .notFound
                ),
            ],
            sessionsDirectory: "/home/me/pgreel/sessions", recording: true, maxRecordedRows: 500, logFormat: .json,
            quiet: false,
            tls: ClientTLSFiles(
                certificatePath: "/etc/pgreel/server.crt", keyPath: "/etc/pgreel/server.key", required: true),
            maxConnections: 200, authTimeout: 30, configFile: "/etc/pgreel.toml", warnings: []
        )
    }

    @Test func resolvesIntoTheExpectedConfiguration() throws {
        let configuration = try Self.files.resolve(
            CommandLineFlags(config: "/etc/pgreel.toml"), environment: Self.environment
        )
        #expect(configuration == Self.expected)
        #expect(
            configuration.users.map(\.upstream.masked) == [
                "postgres://postgres:***@localhost:5432/postgres",
                "postgresql://report%40corp:***@[::1]:6543/warehouse?application_name=pgreel&sslmode=require",
                "postgres://app:***@staging.example.com:5432/app?sslmode=verify-full&sslrootcert=%2Fetc%2Fpgreel%2Fstaging-ca.pem",
                "postgres://dave@db.example.com:5433/dave",
            ]
        )
        #expect(configuration.users.map(\.realUser) == ["postgres", "report@corp", "app", "dave"])
    }

    @Test func theSummaryShowsNoSecret() throws {
        let configuration = try Self.files.resolve(
            CommandLineFlags(config: "/etc/pgreel.toml"), environment: Self.environment
        )
        for secret in ["alice-secret", "bob-secret", "dave-secret", "local-pw", "s3cr:t", "s3cr%3At", "staging-pw"] {
            #expect(!configuration.description.contains(secret))
            #expect(!String(reflecting: configuration).contains(secret))
        }
    }

    /// The example in docs/configuration.md is this one, so the documentation cannot drift from the code.
    @Test func theDocumentedExampleIsThisOne() throws {
        let docs = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/configuration.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let marker = "<!-- full-example: checked by ConfigExampleTests -->\n```toml\n"
        let start = try #require(text.range(of: marker))
        let end = try #require(text[start.upperBound...].range(of: "\n```"))
        #expect(String(text[start.upperBound..<end.lowerBound]) == Self.example)
    }
}

import Testing

@testable import ProxyEngine

/// --tls-cert / --tls-key / --tls-required, --max-connections and --auth-timeout, from flags and the file.
@Suite struct TLSAndLimitsConfigurationTests {
    static let certificate = (text: "-----BEGIN CERTIFICATE-----", permissions: UInt16(0o644))
    static let privateKey = (text: "-----BEGIN PRIVATE KEY-----", permissions: UInt16(0o600))

    @Test func defaultsAreNoTLSNoLimitAndSixtySeconds() throws {
        let configuration = try InMemoryConfigFiles().resolve(CommandLineFlags())
        #expect(configuration.tls == nil)
        #expect(configuration.maxConnections == nil)
        #expect(configuration.authTimeout == 60)
        #expect(configuration.users[0].upstreamTLS == UpstreamTLSSettings(mode: .prefer))
    }

    @Test func flagsSetTLSAndLimits() throws {
        let files = InMemoryConfigFiles(["/c.pem": Self.certificate, "/k.pem": Self.privateKey])
        let configuration = try files.resolve(
            CommandLineFlags(
                tlsCertificate: "/c.pem", tlsKey: "/k.pem", tlsRequired: true, maxConnections: 20, authTimeout: 5))
        #expect(configuration.tls == ClientTLSFiles(certificatePath: "/c.pem", keyPath: "/k.pem", required: true))
        #expect(configuration.maxConnections == 20)
        #expect(configuration.authTimeout == 5)
    }

    @Test func theFileSetsThemAndFlagsWin() throws {
        let files = InMemoryConfigFiles([
            "/c.pem": Self.certificate, "/k.pem": Self.privateKey, "/other.pem": Self.certificate,
            "p.toml": (
                """
                tls_cert = "/c.pem"
                tls_key = "/k.pem"
                tls_required = true
                max_connections = 100
                auth_timeout = 30
                upstream = "postgres://app@db/app?sslmode=require&channel_binding=require"
                """, 0o600
            ),
        ])
        let fromFile = try files.resolve(CommandLineFlags(config: "p.toml"))
        #expect(fromFile.tls == ClientTLSFiles(certificatePath: "/c.pem", keyPath: "/k.pem", required: true))
        #expect(fromFile.maxConnections == 100)
        #expect(fromFile.authTimeout == 30)
        #expect(fromFile.users[0].upstreamTLS == UpstreamTLSSettings(mode: .require, channelBinding: .require))
        let overridden = try files.resolve(
            CommandLineFlags(config: "p.toml", tlsCertificate: "/other.pem", maxConnections: 3, authTimeout: 1))
        #expect(overridden.tls?.certificatePath == "/other.pem")
        #expect(overridden.maxConnections == 3)
        #expect(overridden.authTimeout == 1)
    }

    @Test func certificateAndKeyGoTogether() {
        let files = InMemoryConfigFiles(["/c.pem": Self.certificate, "/k.pem": Self.privateKey])
        #expect(
            configErrorMessage { try files.resolve(CommandLineFlags(tlsCertificate: "/c.pem")) }
                == "--tls-cert and --tls-key go together (tls_cert and tls_key in the file): give both")
        #expect(
            configErrorMessage { try files.resolve(CommandLineFlags(tlsRequired: true)) }
                == "--tls-required needs a certificate: give --tls-cert FILE and --tls-key FILE")
        #expect(
            configErrorMessage { try files.resolve(CommandLineFlags(tlsCertificate: "/c.pem", tlsKey: "/nope.pem")) }
                == "cannot read /nope.pem: no such file (--tls-key)")
    }

    @Test func aKeyOthersCanReadIsRefusedAsPostgreSQLDoes() {
        let files = InMemoryConfigFiles(["/c.pem": Self.certificate, "/k.pem": (Self.privateKey.text, 0o640)])
        #expect(
            configErrorMessage { try files.resolve(CommandLineFlags(tlsCertificate: "/c.pem", tlsKey: "/k.pem")) }
                == "private key file \"/k.pem\" has group or world access (mode 640); permissions should be u=rw "
                + "(0600) or less: chmod 600 /k.pem")
    }

    @Test func limitsMustBePositive() {
        let files = InMemoryConfigFiles([
            "zero.toml": ("max_connections = 0", 0o600), "timeout.toml": ("auth_timeout = 0", 0o600),
        ])
        #expect(
            configErrorMessage { try files.resolve(CommandLineFlags(maxConnections: 0)) }
                == "--max-connections must be 1 or more, not 0")
        #expect(
            configErrorMessage { try files.resolve(CommandLineFlags(authTimeout: -1)) }
                == "--auth-timeout must be 1 second or more, not -1")
        #expect(
            configErrorMessage { try files.resolve(CommandLineFlags(config: "zero.toml")) }
                == "zero.toml: \"max_connections\" must be 1 or more, not 0")
        #expect(
            configErrorMessage { try files.resolve(CommandLineFlags(config: "timeout.toml")) }
                == "timeout.toml: \"auth_timeout\" must be 1 second or more, not 0")
    }

    @Test func upstreamTLSErrorsSayWhere() {
        let files = InMemoryConfigFiles([
            "p.toml": (
                """
                [upstreams.main]
                url = "postgres://app@db/app?sslmode=verify-full"
                [[users]]
                name = "a"
                upstream = "main"
                """, 0o600
            )
        ])
        #expect(
            configErrorMessage { try files.resolve(CommandLineFlags(config: "p.toml")) }
                == "p.toml: upstreams.main: invalid upstream URL \"postgres://app@db:5432/app?sslmode=verify-full\": "
                + "sslmode=verify-full needs trusted root certificates: give sslrootcert=FILE (PEM), "
                + "sslrootcert=system, or put them in ~/.postgresql/root.crt")
        #expect(
            configErrorMessage {
                try InMemoryConfigFiles().resolve(CommandLineFlags(upstream: "postgres://u@db/x?sslmode=nope"))
            }?.hasPrefix("--upstream: invalid upstream URL") == true)
    }
}

import Testing

@testable import ProxyEngine

/// sslmode, sslrootcert, channel_binding and sslnegotiation as libpq reads them from a URL and the environment.
@Suite struct UpstreamTLSSettingsTests {
    private func settings(
        _ url: String, environment: [String: String] = [:], existing: Set<String> = []
    ) throws(ConfigError) -> UpstreamTLSSettings {
        let parsed = try UpstreamURL(parsing: url)
        return try UpstreamTLSSettings(url: parsed, environment: environment, fileExists: { existing.contains($0) })
    }

    @Test func preferIsTheDefaultWithoutVerification() throws {
        let settings = try self.settings("postgres://u@db/app")
        #expect(settings == UpstreamTLSSettings(mode: .prefer, rootCertificates: nil, channelBinding: .prefer))
    }

    @Test func everyModeParses() throws {
        for mode in SSLMode.allCases {
            let settings = try self.settings(
                "postgres://u@db/app?sslmode=\(mode.rawValue)&sslrootcert=/ca.pem", existing: ["/ca.pem"])
            #expect(settings.mode == mode)
            #expect(settings.rootCertificates == (mode == .disable ? nil : .file("/ca.pem")))
        }
    }

    @Test func theURLWinsOverTheEnvironment() throws {
        let environment = ["PGSSLMODE": "disable", "PGCHANNELBINDING": "disable"]
        #expect(try self.settings("postgres://u@db/app", environment: environment).mode == .disable)
        let url = "postgres://u@db/app?sslmode=require&channel_binding=require"
        let settings = try self.settings(url, environment: environment)
        #expect(settings.mode == .require)
        #expect(settings.channelBinding == .require)
    }

    @Test func verifyModesNeedRootCertificates() {
        #expect {
            try self.settings("postgres://u:pw@db/app?sslmode=verify-full")
        } throws: { error in
            "\(error)".contains("sslmode=verify-full needs trusted root certificates") && !"\(error)".contains("pw@")
        }
        #expect {
            try self.settings("postgres://u@db/app?sslmode=verify-ca&sslrootcert=/missing.pem")
        } throws: { error in
            "\(error)" == "invalid upstream URL \"postgres://u@db:5432/app?sslmode=verify-ca&sslrootcert=%2Fmissing.pem\": "
                + "root certificate file \"/missing.pem\" (sslrootcert) does not exist"
        }
    }

    @Test func homeRootCertificateIsUsedAsLibpqDoes() throws {
        let settings = try self.settings(
            "postgres://u@db/app?sslmode=require", environment: ["HOME": "/home/me"],
            existing: ["/home/me/.postgresql/root.crt"])
        #expect(settings.rootCertificates == .file("/home/me/.postgresql/root.crt"))
    }

    @Test func systemRootsMeanVerifyFull() throws {
        #expect(try self.settings("postgres://u@db/app?sslrootcert=system").mode == .verifyFull)
        #expect(throws: ConfigError.self) { try self.settings("postgres://u@db/app?sslrootcert=system&sslmode=require") }
    }

    @Test func badValuesAreErrors() {
        #expect {
            try self.settings("postgres://u@db/app?sslmode=allow")
        } throws: { error in
            "\(error)".contains("allow is not supported")
        }
        #expect {
            try self.settings("postgres://u@db/app?channel_binding=maybe")
        } throws: { error in
            "\(error)".contains("channel_binding \"maybe\" is not one of disable, prefer, require")
        }
        #expect {
            try self.settings("postgres://u@db/app?sslmode=disable&channel_binding=require")
        } throws: { error in
            "\(error)".contains("channel_binding=require needs TLS")
        }
        #expect {
            try self.settings("postgres://u@db/app?sslcert=/c.pem")
        } throws: { error in
            "\(error)".contains("sslcert is not supported")
        }
    }

    // MARK: sslnegotiation (direct TLS, PostgreSQL 17)

    @Test func sslnegotiationIsReadAsLibpqReadsIt() throws {
        #expect(try self.settings("postgres://u@db/app").negotiation == .postgres)
        let direct = try self.settings("postgres://u@db/app?sslmode=require&sslnegotiation=direct")
        #expect(direct.negotiation == .direct && direct.mode == .require)
        #expect(direct.description == "sslmode=require, channel_binding=prefer, sslnegotiation=direct")
        let fromEnvironment = try self.settings(
            "postgres://u@db/app?sslmode=require", environment: ["PGSSLNEGOTIATION": "direct"])
        #expect(fromEnvironment.negotiation == .direct)
        #expect(
            try self.settings(
                "postgres://u@db/app?sslmode=require&sslnegotiation=postgres",
                environment: ["PGSSLNEGOTIATION": "direct"]
            ).negotiation == .postgres, "the URL wins")
    }

    @Test func directNeedsAModeThatRequiresTLS() {
        for mode in ["disable", "prefer"] {
            #expect {
                try self.settings("postgres://u@db/app?sslmode=\(mode)&sslnegotiation=direct")
            } throws: { error in
                "\(error)".contains(
                    "weak sslmode \"\(mode)\" may not be used with sslnegotiation=direct (use \"require\", "
                        + "\"verify-ca\", or \"verify-full\")")
            }
        }
        #expect {
            try self.settings("postgres://u@db/app?sslnegotiation=direct")
        } throws: { error in
            "\(error)".contains("weak sslmode \"prefer\"")
        }
        #expect {
            try self.settings("postgres://u@db/app?sslmode=require&sslnegotiation=fast")
        } throws: { error in
            "\(error)".contains("sslnegotiation \"fast\" is not one of postgres, direct")
        }
    }
}

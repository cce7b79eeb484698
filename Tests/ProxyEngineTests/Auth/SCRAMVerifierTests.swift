import Testing

@testable import ProxyEngine

@Suite struct SCRAMVerifierTests {
    /// Stored by a real PostgreSQL 15.18 (`SET password_encryption = 'scram-sha-256'; CREATE ROLE ... PASSWORD`).
    private static let postgres15: [(password: String, stored: String)] = [
        (
            "secret",
            "SCRAM-SHA-256$4096:2EyycZsWrEtegmZGZSVBJA==$CSc2B9FsFYnphdrjm2TV0nSgzABPVA6d6Ik2N86gNS0="
                + ":Oznoo7B+2Ctbq7GwyFxam+rPWH4LyQNGqhyIU9VbsTk="
        ),
        (
            // E'p\u00E4ss\u00A0w\u00ADord\uFF21\u2168': NBSP -> space, soft hyphen removed, NFKC -> "päss wordAIX".
            "p\u{00E4}ss\u{00A0}w\u{00AD}ord\u{FF21}\u{2168}",
            "SCRAM-SHA-256$4096:UHwMZblbIWP8HoVWo6aeGA==$uApH9UyKmBeocBNh5uc1Tt7geSVCmguWqi82dzeE2hs="
                + ":zLh8PH+wj8NUN9w83snAzB+pBI23650oW5SuIq6rDJA="
        ),
        (
            // Only characters that map to nothing: PostgreSQL then falls back to the raw bytes.
            "\u{00AD}\u{200C}",
            "SCRAM-SHA-256$4096:rsDiBUpjDNZetOiCjYQ9Zg==$QkKUkFGaDKg30zmf7hcgVJLwFGCMr+nLd0gV0KFSLA8="
                + ":YBi4hjPjbf0d8AbaJtNw0d9TJl8KlWMgVZy45LvAJOY="
        ),
    ]

    @Test(arguments: Self.postgres15)
    func matchesPostgreSQL(password: String, stored: String) throws {
        let parsed = try #require(SCRAMVerifier(parsing: stored))
        #expect(parsed.iterations == 4096)
        #expect(parsed.salt.count == 16)
        #expect(SCRAMVerifier(password: password, salt: parsed.salt, iterations: parsed.iterations) == parsed)
        #expect(parsed.postgresFormat == stored)
    }

    @Test func serverWithAPostgreSQLVerifierAuthenticatesOurClient() throws {
        let verifier = try #require(SCRAMVerifier(parsing: Self.postgres15[0].stored))
        for (password, accepted) in [("secret", true), ("Secret", false)] {
            var client = SCRAMClient(username: "", password: password)
            var server = SCRAMServer(verifier: verifier)
            let serverFirst = try server.receiveClientFirst(client.clientFirstMessage())
            let clientFinal = try client.receiveServerFirst(serverFirst)
            if accepted {
                try client.receiveServerFinal(server.receiveClientFinal(clientFinal))
                #expect(client.isAuthenticated)
            } else {
                #expect(throws: SCRAMError.authenticationFailed) { try server.receiveClientFinal(clientFinal) }
            }
        }
    }

    @Test func rfc7677KeysInPostgreSQLFormat() {
        // Keys computed independently with python3 (hashlib.pbkdf2_hmac, hmac, sha256).
        #expect(
            RFC7677.verifier.postgresFormat
                == "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
                + ":wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
        )
    }

    @Test func generatedVerifierRoundTrips() throws {
        let verifier = SCRAMVerifier.generate(password: "s3cret")
        #expect(verifier.salt.count == 16)
        #expect(verifier.iterations == 4096)
        #expect(SCRAMVerifier(parsing: verifier.postgresFormat) == verifier)
        #expect(SCRAMVerifier(password: "s3cret", salt: verifier.salt) == verifier)
        #expect(SCRAMVerifier.generate(password: "s3cret").salt != verifier.salt)
    }

    @Test func emptyPasswordDoesNotCrash() {
        let verifier = SCRAMVerifier(password: "", salt: [1, 2, 3], iterations: 1)
        #expect(verifier.storedKey.count == 32)
        #expect(verifier != SCRAMVerifier(password: " ", salt: [1, 2, 3], iterations: 1))
    }

    /// RFC 7677's StoredKey:ServerKey, a valid pair to build broken verifier strings around.
    private static let keys =
        "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

    @Test(arguments: [
        "",
        "secret",
        "md553f48b7c4b76a86ce72276c5755f217d",
        "SCRAM-SHA-1$4096:QUJD$\(Self.keys)",
        "SCRAM-SHA-256$0:QUJD$\(Self.keys)",
        "SCRAM-SHA-256$+1:QUJD$\(Self.keys)",
        "SCRAM-SHA-256$4096:$\(Self.keys)",
        "SCRAM-SHA-256$4096:Q!JD$\(Self.keys)",
        "SCRAM-SHA-256$4096:QUJD$QUJD:\(Self.keys.split(separator: ":")[1])",
        "SCRAM-SHA-256$4096:QUJD$\(Self.keys.split(separator: ":")[0])",
        "SCRAM-SHA-256$4096$\(Self.keys)",
        "SCRAM-SHA-256$4096:QUJD$\(Self.keys)$",
    ])
    func rejectsWhatIsNotAVerifier(text: String) {
        #expect(SCRAMVerifier(parsing: text) == nil)
    }

    @Test func acceptsTheSameShapeWithValidParts() {
        // The counterpart of the rejected strings above: the shape they break is otherwise accepted.
        let text = "SCRAM-SHA-256$1:QUJD$\(Self.keys)"
        let verifier = SCRAMVerifier(parsing: text)
        #expect(verifier?.iterations == 1)
        #expect(verifier?.salt == scramBytes("ABC"))
        #expect(verifier?.postgresFormat == text)
    }

    @Test func saslprepLeavesASCIIAlone() {
        #expect(SASLprep.normalize("Tr0ub4dor&3 \t") == scramBytes("Tr0ub4dor&3 \t"))
        #expect(SASLprep.normalize("ｐａｓｓ") == scramBytes("pass"))
        #expect(SASLprep.normalize("a\u{3000}b\u{FEFF}c") == scramBytes("a bc"))
        // U+0065 U+0301 composes to U+00E9.
        #expect(SASLprep.normalize("e\u{0301}") == scramBytes("\u{00E9}"))
    }
}

import Testing

@testable import ProxyEngine

/// Bad input at every step gives a typed error, never a crash, and ends the exchange.
@Suite struct SCRAMMalformedTests {
    private static let malformedClientFirst: [(String, SCRAMError)] = [
        ("", .malformedMessage(.clientFirst, reason: "expected \"n,,n=USER,r=NONCE\", got 1 part(s)")),
        ("n,,", .malformedMessage(.clientFirst, reason: "expected \"n,,n=USER,r=NONCE\", got 3 part(s)")),
        ("n,,n=user", .malformedMessage(.clientFirst, reason: "expected \"n,,n=USER,r=NONCE\", got 3 part(s)")),
        (
            "x,,n=user,r=abc",
            .malformedMessage(
                .clientFirst,
                reason: "expected the channel binding flag (n, y or p=) attribute \"p=\""
            )
        ),
        ("p=,,n=user,r=abc", .malformedMessage(.clientFirst, reason: "invalid channel binding name")),
        ("p=a b,,n=user,r=abc", .malformedMessage(.clientFirst, reason: "invalid channel binding name")),
        ("n,a=admin,n=user,r=abc", .authorizationIdentityNotSupported),
        ("n,x,n=user,r=abc", .malformedMessage(.clientFirst, reason: "expected an empty authorization identity")),
        ("n,,m=ext,n=user,r=abc", .unsupportedMandatoryExtension(.clientFirst)),
        ("n,,r=abc,n=user", .malformedMessage(.clientFirst, reason: "expected the user name attribute \"n=\"")),
        ("n,,n=user,r=", .malformedMessage(.clientFirst, reason: "the nonce must be non-empty printable ASCII")),
        ("n,,n=user,r=a c", .malformedMessage(.clientFirst, reason: "the nonce must be non-empty printable ASCII")),
        ("n,,n=user,r=abc,", .malformedMessage(.clientFirst, reason: "unexpected text after the last attribute")),
        ("n,,n=user,r=abc,junk", .malformedMessage(.clientFirst, reason: "unexpected text after the last attribute")),
        ("n,,n=user,x=abc", .malformedMessage(.clientFirst, reason: "expected the nonce attribute \"r=\"")),
    ]

    @Test(arguments: Self.malformedClientFirst)
    func serverRejectsMalformedClientFirst(message: String, error: SCRAMError) {
        var server = SCRAMServer(verifier: RFC7677.verifier)
        #expect(throws: error) {
            try server.receiveClientFirst(scramBytes(message))
        }
        #expect(throws: SCRAMError.unexpectedMessage(.clientFirst)) {
            try server.receiveClientFirst(scramBytes(RFC7677.clientFirst))
        }
    }

    @Test func serverRejectsANonceThatIsNotUTF8() {
        var server = SCRAMServer(verifier: RFC7677.verifier)
        let error = SCRAMError.malformedMessage(.clientFirst, reason: "the nonce must be non-empty printable ASCII")
        #expect(throws: error) {
            try server.receiveClientFirst(scramBytes("n,,n=user,r=") + [0xFF, 0xFE])
        }
    }

    private static let nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    private static let proof = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="

    private static let malformedClientFinal: [(String, SCRAMError)] = [
        ("", .malformedMessage(.clientFinal, reason: "expected \"c=BINDING,r=NONCE,p=PROOF\", got 1 part(s)")),
        (
            "c=biws,r=\(nonce)",
            .malformedMessage(.clientFinal, reason: "expected \"c=BINDING,r=NONCE,p=PROOF\", got 2 part(s)")
        ),
        (
            "r=\(nonce),c=biws,p=\(proof)",
            .malformedMessage(.clientFinal, reason: "expected the channel binding attribute \"c=\"")
        ),
        ("c=b!ws,r=\(nonce),p=\(proof)", .malformedMessage(.clientFinal, reason: "the channel binding is not base64")),
        ("c=eSws,r=\(nonce),p=\(proof)", .channelBindingMismatch),
        ("c=biws,r=\(nonce)X,p=\(proof)", .nonceMismatch(.clientFinal)),
        ("c=biws,r=rOprNGfwEbeRWgbNEkqO,p=\(proof)", .nonceMismatch(.clientFinal)),
        (
            "c=biws,r=\(nonce),p=AAAA",
            .malformedMessage(.clientFinal, reason: "the proof is not 32 bytes of base64")
        ),
        (
            "c=biws,r=\(nonce),p=not base64",
            .malformedMessage(.clientFinal, reason: "the proof is not 32 bytes of base64")
        ),
        (
            "c=biws,r=\(nonce),p=\(proof),x=1",
            .malformedMessage(.clientFinal, reason: "expected the proof (last) attribute \"p=\"")
        ),
        (
            "c=biws,r=\(nonce),junk,p=\(proof)",
            .malformedMessage(.clientFinal, reason: "unexpected text after the last attribute")
        ),
    ]

    @Test(arguments: Self.malformedClientFinal)
    func serverRejectsMalformedClientFinal(message: String, error: SCRAMError) throws {
        var server = SCRAMServer(verifier: RFC7677.verifier, nonce: RFC7677.serverNonce)
        _ = try server.receiveClientFirst(scramBytes(RFC7677.clientFirst))
        #expect(throws: error) {
            try server.receiveClientFinal(scramBytes(message))
        }
        #expect(throws: SCRAMError.unexpectedMessage(.clientFinal)) {
            try server.receiveClientFinal(scramBytes(RFC7677.clientFinal))
        }
    }

    @Test func serverAcceptsExtensionsBeforeTheProof() throws {
        // Extensions are signed as part of client-final-message-without-proof, so this proof cannot match.
        var server = SCRAMServer(verifier: RFC7677.verifier, nonce: RFC7677.serverNonce)
        _ = try server.receiveClientFirst(scramBytes(RFC7677.clientFirst + ",x=ext"))
        #expect(throws: SCRAMError.authenticationFailed) {
            try server.receiveClientFinal(scramBytes("c=biws,r=\(Self.nonce),x=ext,p=\(Self.proof)"))
        }
    }

    private static let malformedServerFirst: [(String, SCRAMError)] = [
        ("", .malformedMessage(.serverFirst, reason: "expected \"r=NONCE,s=SALT,i=COUNT\", got 1 part(s)")),
        ("m=ext,r=\(nonce),s=QUJD,i=4096", .unsupportedMandatoryExtension(.serverFirst)),
        (
            "r=\(nonce),s=QUJD",
            .malformedMessage(.serverFirst, reason: "expected \"r=NONCE,s=SALT,i=COUNT\", got 2 part(s)")
        ),
        ("s=QUJD,r=\(nonce),i=4096", .malformedMessage(.serverFirst, reason: "expected the nonce attribute \"r=\"")),
        ("r=XXX\(nonce),s=QUJD,i=4096", .nonceMismatch(.serverFirst)),
        ("r=rOprNGfwEbeRWgbNEkqO,s=QUJD,i=4096", .nonceMismatch(.serverFirst)),
        ("r=rOprNGfwEb,s=QUJD,i=4096", .nonceMismatch(.serverFirst)),
        ("r=\(nonce),s=,i=4096", .malformedMessage(.serverFirst, reason: "the salt is not non-empty base64")),
        ("r=\(nonce),s=Q!JD,i=4096", .malformedMessage(.serverFirst, reason: "the salt is not non-empty base64")),
        ("r=\(nonce),i=4096,s=QUJD", .malformedMessage(.serverFirst, reason: "expected the salt attribute \"s=\"")),
        ("r=\(nonce),s=QUJD,i=0", .invalidIterationCount("0")),
        ("r=\(nonce),s=QUJD,i=-1", .invalidIterationCount("-1")),
        ("r=\(nonce),s=QUJD,i=+4096", .invalidIterationCount("+4096")),
        ("r=\(nonce),s=QUJD,i=", .invalidIterationCount("")),
        ("r=\(nonce),s=QUJD,i=lots", .invalidIterationCount("lots")),
        ("r=\(nonce),s=QUJD,i=10000001", .invalidIterationCount("10000001")),
        ("r=\(nonce),s=QUJD,i=99999999999999999999999", .invalidIterationCount("99999999999999999999999")),
        (
            "r=\(nonce),s=QUJD,i=4096,",
            .malformedMessage(.serverFirst, reason: "unexpected text after the last attribute")
        ),
    ]

    @Test(arguments: Self.malformedServerFirst)
    func clientRejectsMalformedServerFirst(message: String, error: SCRAMError) {
        var client = SCRAMClient(username: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce)
        _ = client.clientFirstMessage()
        #expect(throws: error) {
            try client.receiveServerFirst(scramBytes(message))
        }
        #expect(throws: SCRAMError.unexpectedMessage(.serverFirst)) {
            try client.receiveServerFirst(scramBytes(RFC7677.serverFirst))
        }
    }

    @Test func clientAcceptsTheLargestIterationCountItAllows() throws {
        // Only the parse is checked here: running 10 million PBKDF2 rounds would take seconds.
        let parsed = try SCRAMMessages.parseServerFirst(scramBytes("r=abc,s=QUJD,i=10000000,x=ext"))
        #expect(parsed == SCRAMMessages.ServerFirst(nonce: "abc", salt: scramBytes("ABC"), iterations: 10_000_000))
    }

    private static let malformedServerFinal: [(String, SCRAMError)] = [
        ("", .malformedMessage(.serverFinal, reason: "expected the verifier (or e=) attribute \"v=\"")),
        ("x=abc", .malformedMessage(.serverFinal, reason: "expected the verifier (or e=) attribute \"v=\"")),
        ("v=not base64!", .malformedMessage(.serverFinal, reason: "the server signature is not base64")),
        ("v=", .serverSignatureMismatch),
        ("v=AAAA", .serverSignatureMismatch),
        (
            "\(RFC7677.serverFinal),junk",
            .malformedMessage(.serverFinal, reason: "unexpected text after the last attribute")
        ),
        ("e=invalid-proof", .serverError("invalid-proof")),
        ("e=other-error,x=ext", .serverError("other-error")),
    ]

    @Test(arguments: Self.malformedServerFinal)
    func clientRejectsMalformedServerFinal(message: String, error: SCRAMError) throws {
        var client = SCRAMClient(username: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce)
        _ = client.clientFirstMessage()
        _ = try client.receiveServerFirst(scramBytes(RFC7677.serverFirst))
        #expect(throws: error) {
            try client.receiveServerFinal(scramBytes(message))
        }
        #expect(!client.isAuthenticated)
        #expect(throws: SCRAMError.unexpectedMessage(.serverFinal)) {
            try client.receiveServerFinal(scramBytes(RFC7677.serverFinal))
        }
    }

    @Test func clientAcceptsExtensionsAfterTheServerSignature() throws {
        var client = SCRAMClient(username: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce)
        _ = client.clientFirstMessage()
        _ = try client.receiveServerFirst(scramBytes(RFC7677.serverFirst))
        try client.receiveServerFinal(scramBytes(RFC7677.serverFinal + ",x=ext"))
        #expect(client.isAuthenticated)
    }

    @Test func errorsExplainThemselves() {
        #expect(
            SCRAMError.malformedMessage(.clientFinal, reason: "the proof is not 32 bytes of base64").description
                == "malformed SCRAM client-final-message: the proof is not 32 bytes of base64"
        )
        #expect(SCRAMError.invalidIterationCount("0").description.contains("between 1 and 10000000"))
        #expect(SCRAMError.authenticationFailed.description.hasPrefix("password authentication failed"))
    }
}

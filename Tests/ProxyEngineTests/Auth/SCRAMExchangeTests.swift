import Testing

@testable import ProxyEngine

/// Our client against our server, with random nonces, and the state machines' order rules.
@Suite struct SCRAMExchangeTests {
    /// Runs a whole exchange; returns the first error, from whichever side threw it.
    private func exchange(
        clientPassword: String,
        verifier: SCRAMVerifier,
        username: String = "",
        tamperServerFinal: ([UInt8]) -> [UInt8] = { $0 }
    ) throws(SCRAMError) -> (client: SCRAMClient, server: SCRAMServer) {
        var client = SCRAMClient(username: username, password: clientPassword)
        var server = SCRAMServer(verifier: verifier)
        let serverFirst = try server.receiveClientFirst(client.clientFirstMessage())
        let clientFinal = try client.receiveServerFirst(serverFirst)
        let serverFinal = try server.receiveClientFinal(clientFinal)
        try client.receiveServerFinal(tamperServerFinal(serverFinal))
        return (client, server)
    }

    @Test func rightPasswordAuthenticatesBothSides() throws {
        let (client, server) = try self.exchange(clientPassword: "s3cret", verifier: .generate(password: "s3cret"))
        #expect(client.isAuthenticated)
        #expect(server.isAuthenticated)
    }

    @Test func wrongPasswordFailsOnTheServer() {
        #expect(throws: SCRAMError.authenticationFailed) {
            try self.exchange(clientPassword: "s3creT", verifier: .generate(password: "s3cret"))
        }
    }

    @Test func tamperedServerSignatureFailsOnTheClient() {
        #expect(throws: SCRAMError.serverSignatureMismatch) {
            try self.exchange(clientPassword: "s3cret", verifier: .generate(password: "s3cret")) { serverFinal in
                var signature = SCRAMMessages.decodeBase64(serverFinal.dropFirst(2))!
                signature[31] ^= 1
                return scramBytes("v=" + SCRAMMessages.base64(signature))
            }
        }
    }

    @Test func serverErrorIsReportedToTheClient() {
        #expect(throws: SCRAMError.serverError("invalid-proof")) {
            try self.exchange(clientPassword: "s3cret", verifier: .generate(password: "s3cret")) { _ in
                scramBytes("e=invalid-proof")
            }
        }
    }

    @Test(arguments: ["", "*", "user", "a,b=c", "Ünïcödé"])
    func serverIgnoresTheUsername(username: String) throws {
        let verifier = SCRAMVerifier.generate(password: "pw")
        let (_, server) = try self.exchange(clientPassword: "pw", verifier: verifier, username: username)
        #expect(server.isAuthenticated)
    }

    @Test func usernameIsEscapedInClientFirst() {
        var client = SCRAMClient(username: "a,b=c", password: "pw", nonce: "abc")
        #expect(scramText(client.clientFirstMessage()) == "n,,n=a=2Cb=3Dc,r=abc")
    }

    @Test(arguments: ["pässwörd", "ｐａｓｓ", "\u{00A0}spaced\u{00AD}", "日本語のパスワード"])
    func nonASCIIPasswordsAuthenticate(password: String) throws {
        let (client, server) = try self.exchange(clientPassword: password, verifier: .generate(password: password))
        #expect(client.isAuthenticated && server.isAuthenticated)
    }

    @Test func nfkcEquivalentPasswordsMatch() throws {
        // Fullwidth letters normalise to ASCII ones, so either spelling opens the account.
        let (client, server) = try self.exchange(clientPassword: "ｐａｓｓ", verifier: .generate(password: "pass"))
        #expect(client.isAuthenticated && server.isAuthenticated)
    }

    @Test func randomNoncesDiffer() {
        var first = SCRAMClient(username: "", password: "pw")
        var second = SCRAMClient(username: "", password: "pw")
        let firstMessage = first.clientFirstMessage()
        #expect(firstMessage != second.clientFirstMessage())
        #expect(scramText(firstMessage).hasPrefix("n,,n=,r="))
        #expect(firstMessage.count == "n,,n=,r=".count + 24)
    }

    // MARK: Channel binding hook

    @Test func clientWithChannelBindingSendsItsNameAndData() throws {
        let binding = SCRAMChannelBinding(name: "tls-server-end-point", data: [1, 2, 3])
        var client = SCRAMClient(username: "", password: "pw", nonce: "abc", channelBinding: binding)
        #expect(scramText(client.clientFirstMessage()) == "p=tls-server-end-point,,n=,r=abc")
        let clientFinal = try client.receiveServerFirst(scramBytes("r=abcdef,s=QUJD,i=1"))
        // base64("p=tls-server-end-point,," + [1, 2, 3]), computed with python3.
        #expect(scramText(clientFinal).hasPrefix("c=cD10bHMtc2VydmVyLWVuZC1wb2ludCwsAQID,r=abcdef,p="))
    }

    @Test func serverRefusesChannelBinding() {
        let binding = SCRAMChannelBinding(name: "tls-server-end-point", data: [1, 2, 3])
        var client = SCRAMClient(username: "", password: "pw", channelBinding: binding)
        var server = SCRAMServer(verifier: .generate(password: "pw"))
        #expect(throws: SCRAMError.channelBindingNotSupported("tls-server-end-point")) {
            try server.receiveClientFirst(client.clientFirstMessage())
        }
        #expect(
            SCRAMError.channelBindingNotSupported("tls-server-end-point").description.contains("SCRAM-SHA-256-PLUS")
        )
    }

    @Test func serverAcceptsYFlagWithMatchingBinding() throws {
        // "y,," means the client could bind but believes the server cannot; c= must then be base64("y,,").
        var server = SCRAMServer(verifier: RFC7677.verifier, nonce: RFC7677.serverNonce)
        _ = try server.receiveClientFirst(scramBytes("y,,n=user,r=rOprNGfwEbeRWgbNEkqO"))
        #expect(throws: SCRAMError.channelBindingMismatch) {
            // The RFC's client-final binds "n,," ("biws"), which does not repeat "y,,".
            try server.receiveClientFinal(scramBytes(RFC7677.clientFinal))
        }
    }

    // MARK: Order of the steps

    @Test func serverRefusesClientFinalFirst() {
        var server = SCRAMServer(verifier: RFC7677.verifier)
        #expect(throws: SCRAMError.unexpectedMessage(.clientFinal)) {
            try server.receiveClientFinal(scramBytes(RFC7677.clientFinal))
        }
    }

    @Test func serverRefusesASecondClientFirst() throws {
        var server = SCRAMServer(verifier: RFC7677.verifier)
        _ = try server.receiveClientFirst(scramBytes(RFC7677.clientFirst))
        #expect(throws: SCRAMError.unexpectedMessage(.clientFirst)) {
            try server.receiveClientFirst(scramBytes(RFC7677.clientFirst))
        }
    }

    @Test func serverRefusesEverythingAfterSuccess() throws {
        var server = SCRAMServer(verifier: RFC7677.verifier, nonce: RFC7677.serverNonce)
        _ = try server.receiveClientFirst(scramBytes(RFC7677.clientFirst))
        _ = try server.receiveClientFinal(scramBytes(RFC7677.clientFinal))
        #expect(throws: SCRAMError.unexpectedMessage(.clientFinal)) {
            try server.receiveClientFinal(scramBytes(RFC7677.clientFinal))
        }
    }

    @Test func serverRefusesARetryAfterAWrongProof() throws {
        var server = SCRAMServer(verifier: .generate(password: "other"), nonce: RFC7677.serverNonce)
        _ = try server.receiveClientFirst(scramBytes(RFC7677.clientFirst))
        #expect(throws: SCRAMError.authenticationFailed) {
            try server.receiveClientFinal(scramBytes(RFC7677.clientFinal))
        }
        #expect(throws: SCRAMError.unexpectedMessage(.clientFinal)) {
            try server.receiveClientFinal(scramBytes(RFC7677.clientFinal))
        }
    }

    @Test func clientRefusesServerFirstBeforeSendingClientFirst() {
        var client = SCRAMClient(username: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce)
        #expect(throws: SCRAMError.unexpectedMessage(.serverFirst)) {
            try client.receiveServerFirst(scramBytes(RFC7677.serverFirst))
        }
    }

    @Test func clientRefusesServerFinalBeforeServerFirst() {
        var client = SCRAMClient(username: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce)
        _ = client.clientFirstMessage()
        #expect(throws: SCRAMError.unexpectedMessage(.serverFinal)) {
            try client.receiveServerFinal(scramBytes(RFC7677.serverFinal))
        }
    }

    @Test func clientFirstMessageIsStableAndDoesNotRestartTheExchange() throws {
        var client = SCRAMClient(username: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce)
        let first = client.clientFirstMessage()
        _ = try client.receiveServerFirst(scramBytes(RFC7677.serverFirst))
        #expect(client.clientFirstMessage() == first)
        try client.receiveServerFinal(scramBytes(RFC7677.serverFinal))
        #expect(client.isAuthenticated)
    }
}

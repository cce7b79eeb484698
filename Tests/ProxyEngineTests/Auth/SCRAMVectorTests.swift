import Testing

@testable import ProxyEngine

/// RFC 7677's test vector, end to end, for each side against the RFC's fixed messages.
@Suite struct SCRAMVectorTests {
    @Test func clientProducesTheRFCMessages() throws {
        var client = SCRAMClient(username: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce)
        #expect(scramText(client.clientFirstMessage()) == RFC7677.clientFirst)
        let clientFinal = try client.receiveServerFirst(scramBytes(RFC7677.serverFirst))
        #expect(scramText(clientFinal) == RFC7677.clientFinal)
        #expect(!client.isAuthenticated)
        try client.receiveServerFinal(scramBytes(RFC7677.serverFinal))
        #expect(client.isAuthenticated)
    }

    @Test func serverProducesTheRFCMessages() throws {
        var server = SCRAMServer(verifier: RFC7677.verifier, nonce: RFC7677.serverNonce)
        let serverFirst = try server.receiveClientFirst(scramBytes(RFC7677.clientFirst))
        #expect(scramText(serverFirst) == RFC7677.serverFirst)
        #expect(!server.isAuthenticated)
        let serverFinal = try server.receiveClientFinal(scramBytes(RFC7677.clientFinal))
        #expect(scramText(serverFinal) == RFC7677.serverFinal)
        #expect(server.isAuthenticated)
    }

    @Test func serverRejectsTheRFCProofForAnotherPassword() throws {
        let verifier = SCRAMVerifier(password: "pencil2", salt: RFC7677.verifier.salt, iterations: 4096)
        var server = SCRAMServer(verifier: verifier, nonce: RFC7677.serverNonce)
        _ = try server.receiveClientFirst(scramBytes(RFC7677.clientFirst))
        #expect(throws: SCRAMError.authenticationFailed) {
            try server.receiveClientFinal(scramBytes(RFC7677.clientFinal))
        }
        #expect(!server.isAuthenticated)
    }

    @Test func clientRejectsAServerSignatureForAnotherPassword() throws {
        var client = SCRAMClient(username: RFC7677.user, password: "pencil2", nonce: RFC7677.clientNonce)
        _ = client.clientFirstMessage()
        _ = try client.receiveServerFirst(scramBytes(RFC7677.serverFirst))
        #expect(throws: SCRAMError.serverSignatureMismatch) {
            try client.receiveServerFinal(scramBytes(RFC7677.serverFinal))
        }
        #expect(!client.isAuthenticated)
    }
}

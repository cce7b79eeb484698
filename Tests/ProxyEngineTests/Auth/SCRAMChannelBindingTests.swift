import Testing

@testable import ProxyEngine

/// SCRAM-SHA-256-PLUS (RFC 5802 section 6, tls-server-end-point) between pgreel's client and server, and the
/// negotiation rules PostgreSQL applies: bind exactly the offered data, and never `y` when PLUS was offered.
@Suite struct SCRAMChannelBindingTests {
    static let binding = SCRAMChannelBinding(name: "tls-server-end-point", data: Array(repeating: 7, count: 32))
    static let verifier = SCRAMVerifier.generate(password: "pw")

    /// Runs a whole exchange; returns the server-final-message or throws where it fails.
    private func exchange(client: inout SCRAMClient, server: inout SCRAMServer) throws -> [UInt8] {
        let serverFirst = try server.receiveClientFirst(client.clientFirstMessage())
        let clientFinal = try client.receiveServerFirst(serverFirst)
        let serverFinal = try server.receiveClientFinal(clientFinal)
        try client.receiveServerFinal(serverFinal)
        return serverFinal
    }

    @Test func boundExchangeSucceedsWhenBothSeeTheSameCertificate() throws {
        var client = SCRAMClient(username: "", password: "pw", channelBinding: Self.binding)
        var server = SCRAMServer(verifier: Self.verifier, channelBinding: Self.binding, clientChosePlus: true)
        _ = try self.exchange(client: &client, server: &server)
        #expect(client.isAuthenticated)
        #expect(server.isAuthenticated)
    }

    /// A man in the middle terminates TLS with its own certificate: the client binds to that one, and the real
    /// server (which knows its own) refuses, even though the password is right.
    @Test func bindingToAnotherCertificateFails() throws {
        let seenByClient = SCRAMChannelBinding(name: "tls-server-end-point", data: Array(repeating: 8, count: 32))
        var client = SCRAMClient(username: "", password: "pw", channelBinding: seenByClient)
        var server = SCRAMServer(verifier: Self.verifier, channelBinding: Self.binding, clientChosePlus: true)
        #expect(throws: SCRAMError.channelBindingMismatch) {
            _ = try self.exchange(client: &client, server: &server)
        }
        #expect(!server.isAuthenticated)
    }

    @Test func yIsRefusedWhenPlusWasOffered() {
        var client = SCRAMClient(username: "", password: "pw", couldBind: true)
        #expect(scramText(client.clientFirstMessage()).hasPrefix("y,,"))
        var server = SCRAMServer(verifier: Self.verifier, channelBinding: Self.binding, clientChosePlus: false)
        #expect(throws: SCRAMError.channelBindingDowngrade) {
            _ = try server.receiveClientFirst(client.clientFirstMessage())
        }
        #expect(SCRAMError.channelBindingDowngrade.description.contains("this server does support channel binding"))
    }

    @Test func yIsAcceptedWhenPlusWasNotOffered() throws {
        var client = SCRAMClient(username: "", password: "pw", couldBind: true)
        var server = SCRAMServer(verifier: Self.verifier)
        _ = try self.exchange(client: &client, server: &server)
        #expect(server.isAuthenticated)
    }

    @Test func plusMechanismWithoutBindingDataIsRefused() {
        var client = SCRAMClient(username: "", password: "pw")
        var server = SCRAMServer(verifier: Self.verifier, channelBinding: Self.binding, clientChosePlus: true)
        #expect(throws: SCRAMError.channelBindingMissing) {
            _ = try server.receiveClientFirst(client.clientFirstMessage())
        }
    }

    @Test func bindingDataUnderThePlainMechanismIsRefused() {
        var client = SCRAMClient(username: "", password: "pw", channelBinding: Self.binding)
        var server = SCRAMServer(verifier: Self.verifier, channelBinding: Self.binding, clientChosePlus: false)
        #expect(throws: SCRAMError.channelBindingNotSupported("tls-server-end-point")) {
            _ = try server.receiveClientFirst(client.clientFirstMessage())
        }
    }

    @Test func anotherBindingTypeIsRefused() {
        let unique = SCRAMChannelBinding(name: "tls-unique", data: [1, 2, 3])
        var client = SCRAMClient(username: "", password: "pw", channelBinding: unique)
        var server = SCRAMServer(verifier: Self.verifier, channelBinding: Self.binding, clientChosePlus: true)
        #expect(throws: SCRAMError.unsupportedChannelBindingType("tls-unique")) {
            _ = try server.receiveClientFirst(client.clientFirstMessage())
        }
    }

    @Test func wrongPasswordIsStillAWrongPassword() throws {
        var client = SCRAMClient(username: "", password: "nope", channelBinding: Self.binding)
        var server = SCRAMServer(verifier: Self.verifier, channelBinding: Self.binding, clientChosePlus: true)
        #expect(throws: SCRAMError.authenticationFailed) {
            _ = try self.exchange(client: &client, server: &server)
        }
    }
}

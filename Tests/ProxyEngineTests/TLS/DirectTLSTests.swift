import NIOCore
import NIOEmbedded
import NIOSSL
import NIOTLS
import Testing

@testable import ProxyEngine

/// Direct TLS (PostgreSQL 17's `sslnegotiation=direct`): a ClientHello as the first bytes, ALPN "postgresql"
/// required, the startup inside TLS; and toward an upstream, TLS at once when its URL asks.
@Suite struct DirectTLSTests {
    // MARK: Telling a ClientHello from a startup packet

    @Test func theFirstTwoBytesTellAClientHelloFromAStartupPacket() {
        let cases: [([UInt8], DirectTLSProbe.FirstBytes?)] = [
            ([], nil),
            ([0x16], nil),
            ([0x16, 0x03], .tlsHandshake),
            ([0x16, 0x03, 0x01, 0x02, 0x00], .tlsHandshake),
            ([0x16, 0x04], .startupPacket),  // garbage: refused as a startup packet of an invalid length
            ([0x00, 0x00, 0x00, 0x08], .startupPacket),
            ([0x00], .startupPacket),
            ([0x47, 0x45, 0x54, 0x20], .startupPacket),  // "GET ": an HTTP client
        ]
        for (bytes, expected) in cases {
            #expect(DirectTLSProbe.classify(ByteBuffer(bytes: bytes)) == expected, "\(bytes)")
        }
        var consumed = ByteBuffer(bytes: [0xFF, 0x16, 0x03])
        consumed.moveReaderIndex(forwardBy: 1)
        #expect(DirectTLSProbe.classify(consumed) == .tlsHandshake, "read from the reader index")
    }

    // MARK: The connection's decisions

    private static let binding = SCRAMChannelBinding(name: "tls-server-end-point", data: Array(repeating: 3, count: 32))

    private func connection(tls: Bool) throws -> ClientConnectionStateMachine {
        let upstream = try UpstreamURL(parsing: "postgres://real@db.internal:6432/app")
        let user = PseudoUser(name: "alice", password: "pw", upstream: upstream)
        let credential = ClientCredential(pseudoUser: user, scramVerifier: SCRAMVerifier.generate(password: "pw"))
        let encryption =
            tls ? ClientEncryptionPolicy(tlsAvailable: true, channelBinding: Self.binding) : .unavailable
        var machine = ClientConnectionStateMachine(
            authentication: ClientStartupStateMachine(
                lookup: { $0 == "alice" ? credential : nil }, encryption: encryption),
            recording: false)
        _ = machine.connected(clientAddress: "10.0.0.9:5555")
        #expect(machine.input == .firstBytes)
        return machine
    }

    @Test func aClientHelloStartsTLSAtOnceAndTheStartupFollowsInside() throws {
        var machine = try self.connection(tls: true)
        guard case .startDirectTLS = machine.firstBytesReceived(.tlsHandshake) else {
            throw TestError("with a certificate, TLS starts at once")
        }
        #expect(machine.input == .held, "nothing is read before the handshake is judged")
        guard case .wait = machine.tlsHandshakeCompleted(negotiatedProtocol: "postgresql") else {
            throw TestError("ALPN postgresql: the startup may follow")
        }
        #expect(machine.input == .startupPackets)
        // Inside direct TLS, SSLRequest and GSSENCRequest are answered N, as PostgreSQL does.
        guard case .refuseEncryption = machine.startupPacketReceived(.sslRequest, unreadBytes: 0) else {
            throw TestError("SSLRequest inside TLS: N")
        }
        guard case .refuseEncryption = machine.startupPacketReceived(.gssEncryptionRequest, unreadBytes: 0) else {
            throw TestError("GSSENCRequest inside TLS: N")
        }
        let startup = StartupPacket.startup(
            protocolVersion: StartupPacket.protocolVersion30, parameters: [("user", "alice")])
        _ = machine.startupPacketReceived(startup, unreadBytes: 0)
        guard case .sendAuthentication(.sasl(let mechanisms), nil) = machine.serverSlotAcquired(true) else {
            throw TestError("expected SASL")
        }
        #expect(mechanisms == ["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"], "channel binding works as after SSLRequest")
    }

    /// PostgreSQL: "received direct SSL connection request without ALPN protocol negotiation extension", logged,
    /// and the connection closed without a word (the client expects TLS records).
    @Test func aDirectClientWithoutALPNIsRefusedWithoutAnAnswer() throws {
        var machine = try self.connection(tls: true)
        _ = machine.firstBytesReceived(.tlsHandshake)
        guard case .refuseWithoutAnswer(let error) = machine.tlsHandshakeCompleted(negotiatedProtocol: nil) else {
            throw TestError("no ALPN: refused")
        }
        #expect(error.code == "08P01")
        #expect(error.message == "received direct SSL connection request without ALPN protocol negotiation extension")
        #expect(machine.input == .ignored)

        var other = try self.connection(tls: true)
        _ = other.firstBytesReceived(.tlsHandshake)
        guard case .refuseWithoutAnswer = other.tlsHandshakeCompleted(negotiatedProtocol: "h2") else {
            throw TestError("another protocol is no better")
        }

        // After an SSLRequest, ALPN stays optional (libpq before 17 offers none).
        var classic = try self.connection(tls: true)
        _ = classic.firstBytesReceived(.startupPacket)
        guard case .startTLS = classic.startupPacketReceived(.sslRequest, unreadBytes: 0) else {
            throw TestError("expected S")
        }
        guard case .wait = classic.tlsHandshakeCompleted(negotiatedProtocol: nil) else {
            throw TestError("no ALPN after SSLRequest is fine")
        }
        #expect(classic.input == .startupPackets)
    }

    @Test func aClientHelloWithoutACertificateIsClosedAndSaysWhy() throws {
        var machine = try self.connection(tls: false)
        guard case .refuseWithoutAnswer(let error) = machine.firstBytesReceived(.tlsHandshake) else {
            throw TestError("no certificate: refused without an answer")
        }
        #expect(error.message.hasPrefix("direct SSL connection rejected"))
        #expect(error.message.contains("pgreel has no certificate (--tls-cert, --tls-key)"))
        #expect(machine.input == .ignored)
        guard case .disarmAuthTimeout(nil) = machine.channelInactive() else {
            throw TestError("announced once, at the refusal")
        }
    }

    @Test func onlyTheFirstBytesMayStartTLS() throws {
        var machine = try self.connection(tls: true)
        _ = machine.firstBytesReceived(.startupPacket)
        guard case .refuseEncryption = machine.startupPacketReceived(.gssEncryptionRequest, unreadBytes: 0) else {
            throw TestError("N to GSS")
        }
        guard case .wait = machine.firstBytesReceived(.tlsHandshake) else {
            throw TestError("after a startup packet, 0x16 is no longer a ClientHello")
        }
        #expect(machine.input == .startupPackets)
    }

    @Test func aHandshakeThatTimesOutOrFailsCloses() throws {
        var slow = try self.connection(tls: true)
        _ = slow.firstBytesReceived(.tlsHandshake)
        guard case .close(let reason) = slow.authTimeoutFired() else { throw TestError("expected a close") }
        #expect(reason == "authentication timeout during the TLS handshake")
        var broken = try self.connection(tls: true)
        _ = broken.firstBytesReceived(.tlsHandshake)
        guard case .close(let failed) = broken.errorCaught(TestError("unknown protocol")) else {
            throw TestError("expected a close")
        }
        #expect(failed == "TLS handshake failed: unknown protocol")
    }

    // MARK: The handler, with a real TLS client on the other end

    /// A TLS client on an EmbeddedChannel, its bytes carried by hand to and from the harness's client channel.
    private struct TLSPeer {
        let channel: EmbeddedChannel

        init(harness: ClientHandlerHarness, alpn: [String]) throws {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            configuration.applicationProtocols = alpn
            let context = try NIOSSLContext(configuration: configuration)
            self.channel = try .active(
                [try NIOSSLClientHandler(context: context, serverHostname: nil)], loop: harness.loop)
        }

        /// Carries bytes both ways until neither side has anything more to say; toward the proxy in reads of at most
        /// `chunk` bytes.
        func pump(_ harness: ClientHandlerHarness, chunk: Int = .max) throws {
            var moved = true
            while moved {
                moved = false
                while var bytes = try self.channel.readOutbound(as: ByteBuffer.self) {
                    moved = true
                    while harness.client.isActive, let piece = bytes.readSlice(length: min(chunk, bytes.readableBytes)),
                        piece.readableBytes > 0
                    {
                        try harness.send(piece)
                    }
                }
                while let bytes = try harness.client.readOutbound(as: ByteBuffer.self) {
                    moved = true
                    if self.channel.isActive { try self.channel.writeInbound(bytes) }
                }
                harness.loop.run()
            }
        }

        /// What the proxy sent inside TLS, decrypted.
        func received() throws -> ByteBuffer {
            var all = ByteBuffer()
            while var chunk = try self.channel.readInbound(as: ByteBuffer.self) { all.writeBuffer(&chunk) }
            return all
        }
    }

    private func certificate() throws -> ClientTLS {
        let files = try TestTLSFiles.make()
        return try ClientTLS(certificatePath: files.certificate, keyPath: files.key, required: false)
    }

    /// The bytes read before TLS was put in place (the ClientHello) must reach it: the handshake completes, the
    /// StartupMessage comes through TLS, and the greeting goes back through it.
    @Test func theHandlerHandsTheClientHelloToTLSAndGreetsInside() throws {
        let harness = try ClientHandlerHarness(tls: try self.certificate())
        let peer = try TLSPeer(harness: harness, alpn: ["postgresql"])
        try peer.pump(harness)
        #expect((try? harness.client.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)) != nil)
        try peer.channel.writeAndFlush(ClientHandlerHarness.startup("seed")).wait()
        try peer.pump(harness)
        #expect(try EmbeddedChannel.decode(peer.received(), direction: .backend).ids == ["R", "S", "K", "Z"])
        #expect(harness.targets.withLockedValue { $0.map(\.database) } == ["shop"])
        #expect(!harness.startupHandlerIsInPlace, "the relay took over inside TLS")
    }

    /// The first read may hold a single byte: the probe waits for the second before deciding.
    @Test func aClientHelloArrivingByteByByteStillStartsTLS() throws {
        let harness = try ClientHandlerHarness(tls: try self.certificate())
        let peer = try TLSPeer(harness: harness, alpn: ["postgresql"])
        try peer.pump(harness, chunk: 1)
        try peer.channel.writeAndFlush(ClientHandlerHarness.startup("seed")).wait()
        try peer.pump(harness, chunk: 1)
        #expect(try EmbeddedChannel.decode(peer.received(), direction: .backend).ids == ["R", "S", "K", "Z"])
    }

    @Test func theHandlerClosesADirectClientWithoutALPN() throws {
        let harness = try ClientHandlerHarness(tls: try self.certificate())
        let peer = try TLSPeer(harness: harness, alpn: [])
        try peer.pump(harness)
        #expect(!harness.client.isActive)
        #expect(
            harness.events().refusals.map(\.message)
                == ["received direct SSL connection request without ALPN protocol negotiation extension"])
        #expect(harness.targets.withLockedValue { $0.isEmpty })
    }

    @Test func theHandlerClosesAClientHelloWithoutACertificateUnanswered() throws {
        let harness = try ClientHandlerHarness()
        let peer = try TLSPeer(harness: harness, alpn: ["postgresql"])
        let clientHello = try #require(try peer.channel.readOutbound(as: ByteBuffer.self))
        try harness.send(clientHello)
        #expect(try harness.client.writtenBytes().readableBytes == 0, "nothing a TLS client could misread")
        #expect(!harness.client.isActive)
        let refusal = try #require(harness.events().refusals.first)
        #expect(refusal.message.hasPrefix("direct SSL connection rejected"))
    }

    @Test func garbageFirstBytesAreStillAnInvalidStartupPacket() throws {
        let harness = try ClientHandlerHarness(tls: try self.certificate())
        try harness.send([0x16, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00])
        let error = try harness.client.backendMessages().error()
        #expect(error.code == "08P01" && error.message == "invalid length of startup packet")
        #expect(!harness.client.isActive)
    }

    // MARK: Toward an upstream

    private static func directTarget() throws -> UpstreamTarget {
        let tls = try UpstreamTLS(UpstreamTLSSettings(mode: .require, negotiation: .direct))
        return UpstreamTarget(host: "127.0.0.1", port: 5432, user: "postgres", password: nil, database: "app", tls: tls)
    }

    @Test func anUpstreamAskedForDirectTLSGetsTLSAtOnceAndMustAnswerWithALPN() throws {
        var machine = UpstreamStartupStateMachine(target: try Self.directTarget())
        #expect(machine.connected() == .establishTLS, "no SSLRequest")
        #expect(machine.input == .unexpected)
        guard case .send(var startup) = machine.tlsEstablished(
            version: .tlsv13, peerCertificateDER: nil, negotiatedProtocol: "postgresql"),
            case .startup = try StartupPacket.decode(from: &startup)
        else { throw TestError("the StartupMessage follows inside TLS") }

        var silent = UpstreamStartupStateMachine(target: try Self.directTarget())
        _ = silent.connected()
        #expect(
            silent.tlsEstablished(version: .tlsv13, peerCertificateDER: nil, negotiatedProtocol: nil)
                == .fail(.tls("direct SSL connection was established without ALPN protocol negotiation extension")))
        var other = UpstreamStartupStateMachine(target: try Self.directTarget())
        _ = other.connected()
        #expect(
            other.tlsEstablished(version: .tlsv13, peerCertificateDER: nil, negotiatedProtocol: "h2")
                == .fail(.tls("SSL connection was established with unexpected ALPN protocol")))
    }

    /// A server before 17 reads the ClientHello as a startup packet of absurd length and hangs up.
    @Test func anOldServerHangingUpIsExplained() throws {
        var machine = UpstreamStartupStateMachine(target: try Self.directTarget())
        _ = machine.connected()
        #expect(
            machine.closed()
                == .fail(
                    .tls(
                        "the server closed the connection during the TLS handshake (sslnegotiation=direct needs "
                            + "PostgreSQL 17 or later)")))
    }
}

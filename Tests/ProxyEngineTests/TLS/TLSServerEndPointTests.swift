import Foundation
import Testing

@testable import ProxyEngine

/// tls-server-end-point (RFC 5929) over real certificates made with openssl; the expected hashes were computed
/// with `openssl x509 -outform der | sha256sum` (or sha384sum), independently of this code.
@Suite struct TLSServerEndPointTests {
    /// ecdsa-with-SHA1 signature: SHA-1 is replaced by SHA-256.
    static let ecdsaSHA1 = """
        MIIBejCCASKgAwIBAgIUEe7oZCXUJkzZh039Ee4vJvnNKAowCQYHKoZIzj0EATAU
        MRIwEAYDVQQDDAlsb2NhbGhvc3QwHhcNMjYxMTI5MDI1NDMxWhcNMzYxMTI2MDI1
        NDMxWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjOPQMB
        BwNCAAQ4MTp1tw4wwyDcgKec5bPBMNJjkXDSDWy8Nbcsdi2yVd4CnImXEjERk+Gf
        ilXEn4BrnMTCe4XYUiIcuOhuNwc7o1MwUTAdBgNVHQ4EFgQU0i/Y4WOSgAc8053A
        rqzRhiy/DbYwHwYDVR0jBBgwFoAU0i/Y4WOSgAc8053ArqzRhiy/DbYwDwYDVR0T
        AQH/BAUwAwEB/zAJBgcqhkjOPQQBA0cAMEQCIGYMWJaykJTy/4WG/fump+pBnMf0
        OgN2JolQIh9Ii3x+AiBR+Y780zhmTIqwXrIFutyqagc8Bt/wm5JcIucleK99CA==
        """
    /// ecdsa-with-SHA384 signature (P-384 key): SHA-384.
    static let ecdsaSHA384 = """
        MIIBujCCAUCgAwIBAgIUR+j7RVp+oDJZiAVQnxVUR45+MTswCgYIKoZIzj0EAwMw
        FDESMBAGA1UEAwwJbG9jYWxob3N0MB4XDTI2MTEyOTAyNTQyOVoXDTM2MTEyNjAy
        NTQyOVowFDESMBAGA1UEAwwJbG9jYWxob3N0MHYwEAYHKoZIzj0CAQYFK4EEACID
        YgAE3ucW5FYNPY1y0jTxB+7abrUjIjffkV+qHwMr27vD+paS/jPgGqQbhrNfDDnc
        Xle2x6CII/C+Z+SbdQ1MVorCuAJ5JUMmkAuC0BgEHAMGl+C9dd1VzS95CH6TmQg/
        oagbo1MwUTAdBgNVHQ4EFgQUg/NJQ22/SdlMG6zUR3SFcqz5usQwHwYDVR0jBBgw
        FoAUg/NJQ22/SdlMG6zUR3SFcqz5usQwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjO
        PQQDAwNoADBlAjEA02NPAApKPsri3YB0g+k/4z8i5C/ZOUIcSpIMk8l69h8c/RG3
        beujiP68d+CTB7KhAjBfhft6+/pa3U1nL30Q/DW1kjYuiOKJtOZ19KEUk6kLFZ9p
        IzEUuKWVCpX5YOi8j9w=
        """
    /// Ed25519: no hash of its own, so no binding (PostgreSQL cannot bind to it either).
    static let ed25519 = """
        MIIBPDCB76ADAgECAhQ+WFe9SkInmjcU4fCHe4CAqgjBXjAFBgMrZXAwFDESMBAG
        A1UEAwwJbG9jYWxob3N0MB4XDTI2MTEyOTAyNTQyOVoXDTM2MTEyNjAyNTQyOVow
        FDESMBAGA1UEAwwJbG9jYWxob3N0MCowBQYDK2VwAyEA+lX6XkyRla7oFpoLmo3u
        b96bpvC57GUQxpIa+xFTn+OjUzBRMB0GA1UdDgQWBBSEOpgB2A677LFOQQGLHFVG
        P8eb8TAfBgNVHSMEGDAWgBSEOpgB2A677LFOQQGLHFVGP8eb8TAPBgNVHRMBAf8E
        BTADAQH/MAUGAytlcANBAKvLpJNT+whXPCnI45QkHtzPdnVlL2z9jFlQbvFE2EWV
        2FVYMxEuBMLG7pJVtKvpw9neyS5txOW/aly/Atk36gg=
        """

    static func der(_ base64: String) -> [UInt8] {
        Array(Data(base64Encoded: base64.replacingOccurrences(of: "\n", with: ""))!)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    @Test func sha1SignatureIsHashedWithSHA256() throws {
        let binding = try #require(TLSServerEndPoint.binding(certificateDER: Self.der(Self.ecdsaSHA1)))
        #expect(binding.name == "tls-server-end-point")
        #expect(Self.hex(binding.data) == "0166007c2c478d79de39ceb9571d8c439cbd530a7594e891438b3f47bb91e0c6")
    }

    @Test func sha384SignatureIsHashedWithSHA384() throws {
        let binding = try #require(TLSServerEndPoint.binding(certificateDER: Self.der(Self.ecdsaSHA384)))
        #expect(
            Self.hex(binding.data)
                == "2835763a9fd11f836e5d4e1d717ec0497f70ba12e363bca15b062d1ec7a697b464405baaf80bea4e4d405573fb58a737")
    }

    @Test func ed25519HasNoBinding() {
        #expect(TLSServerEndPoint.signatureAlgorithmOID(certificateDER: Self.der(Self.ed25519)) == [0x2B, 0x65, 0x70])
        #expect(TLSServerEndPoint.binding(certificateDER: Self.der(Self.ed25519)) == nil)
    }

    @Test func rsaAlgorithmsMapAsRFC5929Says() {
        let rsa: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01]
        #expect(TLSServerEndPoint.hash(forSignatureOID: rsa + [0x04]) == .sha256)  // md5WithRSAEncryption
        #expect(TLSServerEndPoint.hash(forSignatureOID: rsa + [0x05]) == .sha256)  // sha1WithRSAEncryption
        #expect(TLSServerEndPoint.hash(forSignatureOID: rsa + [0x0B]) == .sha256)
        #expect(TLSServerEndPoint.hash(forSignatureOID: rsa + [0x0C]) == .sha384)
        #expect(TLSServerEndPoint.hash(forSignatureOID: rsa + [0x0D]) == .sha512)
        #expect(TLSServerEndPoint.hash(forSignatureOID: rsa + [0x0A]) == nil)  // RSASSA-PSS: parameters decide
        #expect(TLSServerEndPoint.hash(forSignatureOID: rsa + [0x0E]) == nil)  // SHA-224: not in swift-crypto
    }

    @Test func bytesThatAreNotACertificateHaveNoBinding() {
        let der = Self.der(Self.ecdsaSHA384)
        #expect(TLSServerEndPoint.binding(certificateDER: []) == nil)
        #expect(TLSServerEndPoint.binding(certificateDER: Array(der.dropLast())) == nil)
        #expect(TLSServerEndPoint.binding(certificateDER: der + [0]) == nil)
        #expect(TLSServerEndPoint.binding(certificateDER: [0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]) == nil)
        #expect(TLSServerEndPoint.binding(certificateDER: [0x30, 0x80, 0x00, 0x00]) == nil)
    }
}

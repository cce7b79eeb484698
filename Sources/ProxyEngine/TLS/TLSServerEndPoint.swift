import Crypto

/// The `tls-server-end-point` channel binding of RFC 5929 section 4.1, as PostgreSQL computes it for
/// SCRAM-SHA-256-PLUS: a hash of the server's certificate (DER), with the hash function of the certificate's
/// signature algorithm, except that MD5 and SHA-1 are replaced by SHA-256.
///
/// Both ends compute it from the same certificate: the proxy from its own (`--tls-cert`) when clients bind to it,
/// and from the certificate the upstream presented when pgreel binds to a real server. A man in the middle who
/// terminates TLS shows a different certificate, so the bound SCRAM proof no longer verifies.
public enum TLSServerEndPoint {
    /// The name of the binding type, as sent in the SCRAM gs2 header (`p=tls-server-end-point`).
    public static let name = "tls-server-end-point"

    /// The channel binding for a server certificate, or nil when its signature algorithm is not one whose hash is
    /// known (Ed25519, RSASSA-PSS, SHA-224 ...): PostgreSQL cannot bind to those certificates either.
    public static func binding(certificateDER der: [UInt8]) -> SCRAMChannelBinding? {
        guard let oid = Self.signatureAlgorithmOID(certificateDER: der), let hash = Self.hash(forSignatureOID: oid)
        else { return nil }
        let digest: [UInt8]
        switch hash {
        case .sha256: digest = Array(SHA256.hash(data: der))
        case .sha384: digest = Array(SHA384.hash(data: der))
        case .sha512: digest = Array(SHA512.hash(data: der))
        }
        return SCRAMChannelBinding(name: Self.name, data: digest)
    }

    enum Hash: Equatable {
        case sha256, sha384, sha512
    }

    /// RFC 5929: the hash of the signature algorithm, SHA-256 in place of MD5 and SHA-1.
    static func hash(forSignatureOID oid: [UInt8]) -> Hash? {
        let rsa: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01]  // 1.2.840.113549.1.1
        let ecdsa: [UInt8] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04]  // 1.2.840.10045.4
        let dsaSHA1: [UInt8] = [0x2A, 0x86, 0x48, 0xCE, 0x38, 0x04, 0x03]  // 1.2.840.10040.4.3
        let dsaSHA2: [UInt8] = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03]  // 2.16.840.1.101.3.4.3
        switch oid {
        case rsa + [0x04], rsa + [0x05], rsa + [0x0B]: return .sha256  // md5, sha1, sha256 WithRSAEncryption
        case rsa + [0x0C]: return .sha384
        case rsa + [0x0D]: return .sha512
        case ecdsa + [0x01], ecdsa + [0x03, 0x02]: return .sha256  // ecdsa-with-SHA1, -SHA256
        case ecdsa + [0x03, 0x03]: return .sha384
        case ecdsa + [0x03, 0x04]: return .sha512
        case dsaSHA1, dsaSHA2 + [0x02]: return .sha256
        default: return nil
        }
    }

    /// The content bytes of the OID in `Certificate.signatureAlgorithm` (RFC 5280 section 4.1):
    /// `SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE { OID, parameters }, signature BIT STRING }`.
    /// Nil when the bytes are not shaped like a certificate.
    static func signatureAlgorithmOID(certificateDER der: [UInt8]) -> [UInt8]? {
        var reader = DERReader(bytes: der[...])
        guard var certificate = reader.read(tag: 0x30), reader.isAtEnd else { return nil }
        guard certificate.read(tag: 0x30) != nil, var algorithm = certificate.read(tag: 0x30),
            let oid = algorithm.read(tag: 0x06)
        else { return nil }
        return Array(oid.bytes)
    }
}

/// Just enough DER to walk a certificate's outer structure: definite lengths, single-byte tags.
private struct DERReader {
    var bytes: ArraySlice<UInt8>

    var isAtEnd: Bool { self.bytes.isEmpty }

    /// The contents of the next element if it has `tag`, moving past it.
    mutating func read(tag: UInt8) -> DERReader? {
        guard let first = self.bytes.first, first == tag else { return nil }
        var index = self.bytes.index(after: self.bytes.startIndex)
        guard index < self.bytes.endIndex else { return nil }
        let lengthByte = self.bytes[index]
        index += 1
        var length = 0
        if lengthByte < 0x80 {
            length = Int(lengthByte)
        } else {
            let count = Int(lengthByte & 0x7F)
            // Indefinite lengths (0x80) are not DER; four length bytes are plenty for a certificate.
            guard count >= 1, count <= 4, self.bytes.endIndex - index >= count else { return nil }
            for _ in 0..<count {
                length = length << 8 | Int(self.bytes[index])
                index += 1
            }
        }
        guard self.bytes.endIndex - index >= length else { return nil }
        let contents = self.bytes[index..<(index + length)]
        self.bytes = self.bytes[(index + length)...]
        return DERReader(bytes: contents)
    }
}

import Crypto
import CryptoExtras

/// The SCRAM-SHA-256 key schedule of RFC 5802 section 3, shared by the client, the server and the verifier.
enum SCRAMCrypto {
    /// Bytes of the keys and signatures (SHA-256 output).
    static let keyLength = 32

    /// The three keys derived from a password; the client needs `clientKey`, a server stores only the other two.
    struct Keys {
        var clientKey: [UInt8]
        var storedKey: [UInt8]
        var serverKey: [UInt8]
    }

    /// SaltedPassword = Hi(password, salt, i), then ClientKey, StoredKey and ServerKey from it.
    /// `password` must already be normalised (see `SASLprep`); `iterations` must be at least 1.
    static func keys(password: [UInt8], salt: [UInt8], iterations: Int) throws(SCRAMError) -> Keys {
        let salted: [UInt8]
        do {
            // PostgreSQL's default is 4096 rounds, below the 210,000 that the checked variant insists on.
            let key = try KDF.Insecure.PBKDF2.deriveKey(
                from: password,
                salt: salt,
                using: .sha256,
                outputByteCount: Self.keyLength,
                unsafeUncheckedRounds: iterations
            )
            salted = key.withUnsafeBytes { Array($0) }
        } catch {
            throw .keyDerivationFailed
        }
        let clientKey = Self.hmac(key: salted, Array("Client Key".utf8))
        return Keys(
            clientKey: clientKey,
            storedKey: Self.sha256(clientKey),
            serverKey: Self.hmac(key: salted, Array("Server Key".utf8))
        )
    }

    static func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key)))
    }

    static func sha256(_ data: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: data))
    }

    static func xor(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        zip(a, b).map { $0 ^ $1 }
    }

    /// A fresh nonce: 18 random bytes in base64 (24 printable characters), as PostgreSQL and libpq make them.
    static func randomNonce() -> String {
        SCRAMMessages.base64(Self.randomBytes(18))
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}

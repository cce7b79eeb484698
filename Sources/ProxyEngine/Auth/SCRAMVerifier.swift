/// What a server stores to check a SCRAM-SHA-256 password without knowing it (RFC 5802 section 3), in the form
/// PostgreSQL keeps in `pg_authid.rolpassword`.
public struct SCRAMVerifier: Sendable, Equatable {
    /// PostgreSQL's default iteration count (`scram_iterations`).
    public static let defaultIterations = 4096

    public var salt: [UInt8]
    public var iterations: Int
    public var storedKey: [UInt8]
    public var serverKey: [UInt8]

    public init(salt: [UInt8], iterations: Int, storedKey: [UInt8], serverKey: [UInt8]) {
        self.salt = salt
        self.iterations = iterations
        self.storedKey = storedKey
        self.serverKey = serverKey
    }

    /// Derives the verifier of `password` (normalised as described on `SASLprep`).
    /// `iterations` must be at least 1 and `salt` non-empty: these are fixed by the caller, never by a peer.
    public init(password: String, salt: [UInt8], iterations: Int = SCRAMVerifier.defaultIterations) {
        precondition(iterations >= 1, "SCRAM needs at least one PBKDF2 iteration")
        precondition(!salt.isEmpty, "SCRAM needs a salt")
        let keys: SCRAMCrypto.Keys
        do {
            keys = try SCRAMCrypto.keys(password: SASLprep.normalize(password), salt: salt, iterations: iterations)
        } catch {
            // BoringSSL's PBKDF2 only fails when it cannot allocate memory.
            preconditionFailure("\(error)")
        }
        self.init(salt: salt, iterations: iterations, storedKey: keys.storedKey, serverKey: keys.serverKey)
    }

    /// A verifier for `password` with a fresh random 16-byte salt (what PostgreSQL does on `ALTER ROLE ... PASSWORD`).
    public static func generate(password: String) -> SCRAMVerifier {
        SCRAMVerifier(password: password, salt: SCRAMCrypto.randomBytes(16))
    }

    /// Reads PostgreSQL's stored form `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64 parts).
    /// Returns nil for anything else, including an MD5 hash or a plain-text password.
    public init?(parsing text: String) {
        let sections = text.split(separator: "$", omittingEmptySubsequences: false)
        guard sections.count == 3, sections[0] == "SCRAM-SHA-256" else {
            return nil
        }
        let parameters = sections[1].split(separator: ":", omittingEmptySubsequences: false)
        let keys = sections[2].split(separator: ":", omittingEmptySubsequences: false)
        guard parameters.count == 2, keys.count == 2,
            parameters[0].utf8.allSatisfy({ (0x30...0x39).contains($0) }),
            let iterations = Int(parameters[0]), iterations >= 1,
            let salt = SCRAMMessages.decodeBase64(parameters[1].utf8), !salt.isEmpty,
            let storedKey = SCRAMMessages.decodeBase64(keys[0].utf8), storedKey.count == SCRAMCrypto.keyLength,
            let serverKey = SCRAMMessages.decodeBase64(keys[1].utf8), serverKey.count == SCRAMCrypto.keyLength
        else {
            return nil
        }
        self.init(salt: salt, iterations: iterations, storedKey: storedKey, serverKey: serverKey)
    }

    /// The form PostgreSQL stores and accepts in `CREATE ROLE ... PASSWORD '...'`.
    public var postgresFormat: String {
        "SCRAM-SHA-256$\(self.iterations):\(SCRAMMessages.base64(self.salt))$"
            + "\(SCRAMMessages.base64(self.storedKey)):\(SCRAMMessages.base64(self.serverKey))"
    }
}

import Crypto

/// PostgreSQL's MD5 password authentication (AuthenticationMD5Password): the client answers
/// "md5" + md5hex(md5hex(password + user) + salt), where md5hex(password + user), with "md5" in front, is also
/// what PostgreSQL stores for MD5 passwords. Kept for old servers and clients; MD5 is weak, prefer SCRAM.
public enum MD5Password {
    /// The stored form, `"md5" + md5hex(password + user)`, as in `pg_authid.rolpassword`.
    public static func storedHash(user: String, password: String) -> String {
        "md5" + Self.md5Hex(Array(password.utf8) + Array(user.utf8))
    }

    /// The PasswordMessage a client sends for the 4-byte `salt` of AuthenticationMD5Password.
    public static func response(user: String, password: String, salt: [UInt8]) -> String {
        let inner = Self.md5Hex(Array(password.utf8) + Array(user.utf8))
        return "md5" + Self.md5Hex(Array(inner.utf8) + salt)
    }

    /// Whether a client's `response` is right for this user, password and salt; compares in constant time.
    public static func verify(response: String, user: String, password: String, salt: [UInt8]) -> Bool {
        let expected = Self.response(user: user, password: password, salt: salt)
        return constantTimeEquals(Array(response.utf8), Array(expected.utf8))
    }

    private static func md5Hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(32)
        for byte in Insecure.MD5.hash(data: bytes) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}

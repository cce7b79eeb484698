import Testing

import ProxyEngine

@Suite struct MD5PasswordTests {
    @Test func storedHashIsMD5OfPasswordThenUser() {
        // `printf secretpostgres | md5sum`
        #expect(MD5Password.storedHash(user: "postgres", password: "secret") == "md553f48b7c4b76a86ce72276c5755f217d")
        // Stored by a real PostgreSQL 15.18 for role postgres_md5 (password_encryption = 'md5').
        #expect(
            MD5Password.storedHash(user: "postgres_md5", password: "secret") == "md570d28846ae31a9a777702bb5bb60a27e"
        )
    }

    @Test func responseMatchesPython() {
        // python3: "md5" + md5(md5(b"secretpostgres").hexdigest().encode() + scramBytes([1, 2, 3, 4])).hexdigest()
        #expect(
            MD5Password.response(user: "postgres", password: "secret", salt: [1, 2, 3, 4])
                == "md5bb41a296aab6baccb36ff243a562abff"
        )
    }

    @Test func verifyAcceptsOnlyTheRightResponse() {
        let salt: [UInt8] = [1, 2, 3, 4]
        let good = "md5bb41a296aab6baccb36ff243a562abff"
        #expect(MD5Password.verify(response: good, user: "postgres", password: "secret", salt: salt))
        #expect(!MD5Password.verify(response: good, user: "postgres", password: "Secret", salt: salt))
        #expect(!MD5Password.verify(response: good, user: "postgre", password: "secret", salt: salt))
        #expect(!MD5Password.verify(response: good, user: "postgres", password: "secret", salt: [1, 2, 3, 5]))
        let truncated = String(good.dropLast())
        #expect(!MD5Password.verify(response: truncated, user: "postgres", password: "secret", salt: salt))
        #expect(!MD5Password.verify(response: "", user: "postgres", password: "secret", salt: salt))
    }
}

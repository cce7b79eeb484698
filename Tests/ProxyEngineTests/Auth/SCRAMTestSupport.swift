@testable import ProxyEngine

/// Bytes of an ASCII/UTF-8 literal, to keep SCRAM messages readable in tests.
func scramBytes(_ text: String) -> [UInt8] {
    Array(text.utf8)
}

/// The text of a SCRAM message, for exact comparisons with the RFC's strings.
func scramText(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}

/// RFC 7677 section 3: the SCRAM-SHA-256 example exchange.
enum RFC7677 {
    static let user = "user"
    static let password = "pencil"
    static let clientNonce = "rOprNGfwEbeRWgbNEkqO"
    static let serverNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    static let salt = "W22ZaJ0SNY7soEsUEjb6gQ=="
    static let clientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    static let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    static let clientFinal =
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    static let serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

    static var verifier: SCRAMVerifier {
        SCRAMVerifier(password: Self.password, salt: SCRAMMessages.decodeBase64(Self.salt.utf8)!, iterations: 4096)
    }
}

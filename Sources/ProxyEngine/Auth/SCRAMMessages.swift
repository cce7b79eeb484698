import Foundation

/// Parsing and formatting of the four SCRAM messages, which are comma-separated `name=value` attribute lists
/// (RFC 5802 section 7). Works on bytes, so odd UTF-8 from a peer can only make a message malformed.
enum SCRAMMessages {
    /// A client-first-message: gs2 header (channel binding flag, authzid) and the bare part that is signed.
    struct ClientFirst: Equatable {
        enum ChannelBindingFlag: Equatable {
            /// `n`: the client does not support channel binding.
            case none
            /// `y`: the client supports it but thinks the server does not.
            case supportedButNotUsed
            /// `p=NAME`: the client requires channel binding of type NAME.
            case required(String)

            var isRequired: Bool {
                if case .required = self { return true }
                return false
            }
        }

        var channelBinding: ChannelBindingFlag
        /// `gs2-header` exactly as sent, e.g. "n,,", repeated (base64) in the client-final-message.
        var gs2Header: [UInt8]
        /// `client-first-message-bare` exactly as sent; part of the AuthMessage.
        var bare: [UInt8]
        var nonce: String
    }

    struct ServerFirst: Equatable {
        var nonce: String
        var salt: [UInt8]
        var iterations: Int
    }

    struct ClientFinal: Equatable {
        /// The decoded `c=` value: gs2 header followed by the channel binding data, if any.
        var channelBinding: [UInt8]
        var nonce: String
        var proof: [UInt8]
        /// `client-final-message-without-proof` exactly as sent; part of the AuthMessage.
        var withoutProof: [UInt8]
    }

    enum ServerFinal: Equatable {
        case verifier([UInt8])
        case error(String)
    }

    /// Highest iteration count a client accepts: more would let a server pin a client's CPU for minutes.
    static let maximumIterations = 10_000_000

    // MARK: Parsing

    static func parseClientFirst(_ message: [UInt8]) throws(SCRAMError) -> ClientFirst {
        let kind = SCRAMMessageKind.clientFirst
        let parts = Self.split(message)
        guard parts.count >= 4 else {
            throw .malformedMessage(kind, reason: "expected \"n,,n=USER,r=NONCE\", got \(parts.count) part(s)")
        }
        let flag: ClientFirst.ChannelBindingFlag
        switch Self.text(parts[0]) {
        case "n":
            flag = .none
        case "y":
            flag = .supportedButNotUsed
        default:
            let name = try Self.value(of: "p", in: parts[0], kind: kind, what: "channel binding flag (n, y or p=)")
            guard !name.isEmpty, name.allSatisfy(Self.isChannelBindingNameCharacter) else {
                throw .malformedMessage(kind, reason: "invalid channel binding name")
            }
            flag = .required(Self.text(name))
        }
        if !parts[1].isEmpty {
            guard parts[1].first != UInt8(ascii: "a") else {
                throw .authorizationIdentityNotSupported
            }
            throw .malformedMessage(kind, reason: "expected an empty authorization identity")
        }
        if parts[2].first == UInt8(ascii: "m") {
            throw .unsupportedMandatoryExtension(kind)
        }
        // The user name is ignored, as PostgreSQL does: the user comes from the startup message.
        _ = try Self.value(of: "n", in: parts[2], kind: kind, what: "user name")
        let nonce = try Self.nonce(parts[3], kind: kind)
        try Self.checkExtensions(parts.dropFirst(4), kind: kind)
        let headerLength = parts[0].count + parts[1].count + 2
        return ClientFirst(
            channelBinding: flag,
            gs2Header: Array(message.prefix(headerLength)),
            bare: Array(message.dropFirst(headerLength)),
            nonce: nonce
        )
    }

    static func parseServerFirst(_ message: [UInt8]) throws(SCRAMError) -> ServerFirst {
        let kind = SCRAMMessageKind.serverFirst
        let parts = Self.split(message)
        if parts[0].first == UInt8(ascii: "m") {
            throw .unsupportedMandatoryExtension(kind)
        }
        guard parts.count >= 3 else {
            throw .malformedMessage(kind, reason: "expected \"r=NONCE,s=SALT,i=COUNT\", got \(parts.count) part(s)")
        }
        let nonce = try Self.nonce(parts[0], kind: kind)
        let saltText = try Self.value(of: "s", in: parts[1], kind: kind, what: "salt")
        guard let salt = Self.decodeBase64(saltText), !salt.isEmpty else {
            throw .malformedMessage(kind, reason: "the salt is not non-empty base64")
        }
        let countText = try Self.value(of: "i", in: parts[2], kind: kind, what: "iteration count")
        guard let iterations = Self.decimal(countText), (1...Self.maximumIterations).contains(iterations) else {
            throw .invalidIterationCount(Self.text(countText))
        }
        try Self.checkExtensions(parts.dropFirst(3), kind: kind)
        return ServerFirst(nonce: nonce, salt: salt, iterations: iterations)
    }

    static func parseClientFinal(_ message: [UInt8]) throws(SCRAMError) -> ClientFinal {
        let kind = SCRAMMessageKind.clientFinal
        let parts = Self.split(message)
        guard parts.count >= 3 else {
            throw .malformedMessage(kind, reason: "expected \"c=BINDING,r=NONCE,p=PROOF\", got \(parts.count) part(s)")
        }
        let bindingText = try Self.value(of: "c", in: parts[0], kind: kind, what: "channel binding")
        guard let binding = Self.decodeBase64(bindingText) else {
            throw .malformedMessage(kind, reason: "the channel binding is not base64")
        }
        let nonce = try Self.nonce(parts[1], kind: kind)
        let proofPart = parts[parts.count - 1]
        let proofText = try Self.value(of: "p", in: proofPart, kind: kind, what: "proof (last)")
        guard let proof = Self.decodeBase64(proofText), proof.count == SCRAMCrypto.keyLength else {
            throw .malformedMessage(kind, reason: "the proof is not \(SCRAMCrypto.keyLength) bytes of base64")
        }
        try Self.checkExtensions(parts.dropFirst(2).dropLast(), kind: kind)
        return ClientFinal(
            channelBinding: binding,
            nonce: nonce,
            proof: proof,
            withoutProof: Array(message.prefix(message.count - proofPart.count - 1))
        )
    }

    static func parseServerFinal(_ message: [UInt8]) throws(SCRAMError) -> ServerFinal {
        let kind = SCRAMMessageKind.serverFinal
        let parts = Self.split(message)
        try Self.checkExtensions(parts.dropFirst(), kind: kind)
        if parts[0].first == UInt8(ascii: "e") {
            let error = try Self.value(of: "e", in: parts[0], kind: kind, what: "server error")
            return .error(Self.text(error))
        }
        let signatureText = try Self.value(of: "v", in: parts[0], kind: kind, what: "verifier (or e=)")
        guard let signature = Self.decodeBase64(signatureText) else {
            throw .malformedMessage(kind, reason: "the server signature is not base64")
        }
        return .verifier(signature)
    }

    // MARK: Formatting

    /// `n=NAME,r=NONCE`, with "," and "=" in the name escaped as RFC 5802 requires.
    static func clientFirstBare(username: String, nonce: String) -> [UInt8] {
        var name = ""
        for character in username.unicodeScalars {
            switch character {
            case ",": name += "=2C"
            case "=": name += "=3D"
            default: name.unicodeScalars.append(character)
            }
        }
        return Array("n=\(name),r=\(nonce)".utf8)
    }

    static func serverFirst(nonce: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        Array("r=\(nonce),s=\(Self.base64(salt)),i=\(iterations)".utf8)
    }

    static func clientFinalWithoutProof(channelBinding: [UInt8], nonce: String) -> [UInt8] {
        Array("c=\(Self.base64(channelBinding)),r=\(nonce)".utf8)
    }

    /// The AuthMessage that both proofs sign.
    static func authMessage(clientFirstBare: [UInt8], serverFirst: [UInt8], clientFinalWithoutProof: [UInt8])
        -> [UInt8]
    {
        clientFirstBare + [UInt8(ascii: ",")] + serverFirst + [UInt8(ascii: ",")] + clientFinalWithoutProof
    }

    // MARK: Helpers

    /// A nonce is printable ASCII without ",": RFC 5802's `printable`.
    static func isValidNonce(_ nonce: some Collection<UInt8>) -> Bool {
        !nonce.isEmpty && nonce.allSatisfy { (0x21...0x7E).contains($0) && $0 != UInt8(ascii: ",") }
    }

    static func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    static func decodeBase64(_ text: some Collection<UInt8>) -> [UInt8]? {
        Data(base64Encoded: Data(text)).map { Array($0) }
    }

    private static func split(_ message: [UInt8]) -> [ArraySlice<UInt8>] {
        message.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
    }

    /// The value of the attribute `name` in `part`, or a "malformed" error naming what was expected.
    private static func value(
        of name: Unicode.Scalar,
        in part: ArraySlice<UInt8>,
        kind: SCRAMMessageKind,
        what: String
    ) throws(SCRAMError) -> ArraySlice<UInt8> {
        guard part.count >= 2, part.first == UInt8(ascii: name),
            part[part.index(after: part.startIndex)] == UInt8(ascii: "=")
        else {
            throw .malformedMessage(kind, reason: "expected the \(what) attribute \"\(name)=\"")
        }
        return part.dropFirst(2)
    }

    private static func nonce(_ part: ArraySlice<UInt8>, kind: SCRAMMessageKind) throws(SCRAMError) -> String {
        let value = try Self.value(of: "r", in: part, kind: kind, what: "nonce")
        guard Self.isValidNonce(value) else {
            throw .malformedMessage(kind, reason: "the nonce must be non-empty printable ASCII")
        }
        return Self.text(value)
    }

    /// Extensions are allowed after the defined attributes and ignored, but must still look like attributes.
    private static func checkExtensions(_ parts: some Sequence<ArraySlice<UInt8>>, kind: SCRAMMessageKind)
        throws(SCRAMError)
    {
        for part in parts {
            guard part.count >= 2, let first = part.first, Self.isLetter(first),
                part[part.index(after: part.startIndex)] == UInt8(ascii: "=")
            else {
                throw .malformedMessage(kind, reason: "unexpected text after the last attribute")
            }
        }
    }

    private static func decimal(_ text: ArraySlice<UInt8>) -> Int? {
        guard !text.isEmpty, text.count <= 18, text.allSatisfy({ (0x30...0x39).contains($0) }) else {
            return nil
        }
        return text.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    private static func isChannelBindingNameCharacter(_ byte: UInt8) -> Bool {
        Self.isLetter(byte) || (0x30...0x39).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
    }

    private static func text(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

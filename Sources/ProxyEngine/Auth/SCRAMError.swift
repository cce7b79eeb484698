/// The SCRAM-SHA-256 messages, named as in RFC 5802; used to say where a problem was found.
public enum SCRAMMessageKind: String, Sendable, Equatable {
    case clientFirst = "client-first-message"
    case serverFirst = "server-first-message"
    case clientFinal = "client-final-message"
    case serverFinal = "server-final-message"
}

/// Why a SCRAM-SHA-256 exchange failed, on the client or the server side.
///
/// `authenticationFailed` is the only case caused by a wrong password (SQLSTATE 28P01); the others are protocol
/// violations (08P01) or, for `serverSignatureMismatch`, a server that does not know the password.
public enum SCRAMError: Error, Equatable, CustomStringConvertible {
    /// A message arrived (or was asked for) at a point of the exchange where it does not belong.
    case unexpectedMessage(SCRAMMessageKind)
    /// A message does not follow the RFC 5802 grammar.
    case malformedMessage(SCRAMMessageKind, reason: String)
    /// The client asked for channel binding (`p=NAME`), which this server does not offer (yet).
    case channelBindingNotSupported(String)
    /// The client asked for a channel binding type other than the one offered (`tls-server-end-point`).
    case unsupportedChannelBindingType(String)
    /// The client chose SCRAM-SHA-256-PLUS but its client-first-message does not bind (`n` or `y` instead of `p=`).
    case channelBindingMissing
    /// The client says `y` (it could bind but thinks the server cannot) while the server did offer
    /// SCRAM-SHA-256-PLUS: the offer may have been stripped by someone in the middle.
    case channelBindingDowngrade
    /// The client sent an authorization identity (`a=`); PostgreSQL does not support one either.
    case authorizationIdentityNotSupported
    /// The message starts with a mandatory extension (`m=`), which no SCRAM-SHA-256 peer may require.
    case unsupportedMandatoryExtension(SCRAMMessageKind)
    /// The client-final-message's channel binding (`c=`) does not repeat what the client-first-message announced.
    case channelBindingMismatch
    /// The nonce does not continue the exchange: the server's nonce does not extend the client's, or the
    /// client-final-message's nonce is not the one the server sent.
    case nonceMismatch(SCRAMMessageKind)
    /// The server asked for an iteration count that is not a number in 1...10,000,000.
    case invalidIterationCount(String)
    /// The client's proof is wrong: wrong password (or a client that does not know it).
    case authenticationFailed
    /// The server's signature is wrong: the server does not know the password's keys.
    case serverSignatureMismatch
    /// The server ended the exchange with an error (`e=...`).
    case serverError(String)
    /// PBKDF2 failed inside the crypto library (not caused by the peer).
    case keyDerivationFailed

    public var description: String {
        switch self {
        case .unexpectedMessage(let kind):
            return "SCRAM exchange out of order: a \(kind.rawValue) is not expected at this point"
        case .malformedMessage(let kind, let reason):
            return "malformed SCRAM \(kind.rawValue): \(reason)"
        case .channelBindingNotSupported(let name):
            return "the client asked for SCRAM channel binding \"\(name)\" (SCRAM-SHA-256-PLUS), "
                + "which this server does not offer; use SCRAM-SHA-256 without channel binding"
        case .unsupportedChannelBindingType(let name):
            return "unsupported SCRAM channel-binding type \"\(name)\" (only tls-server-end-point is offered)"
        case .channelBindingMissing:
            return "the client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not include channel binding data"
        case .channelBindingDowngrade:
            return "SCRAM channel binding negotiation error: the client supports SCRAM channel binding but thinks "
                + "the server does not; however, this server does support channel binding"
        case .authorizationIdentityNotSupported:
            return "the client sent a SCRAM authorization identity (a=...), which is not supported"
        case .unsupportedMandatoryExtension(let kind):
            return "the SCRAM \(kind.rawValue) requires an extension (m=...) that is not supported"
        case .channelBindingMismatch:
            return "SCRAM channel binding check failed: the client-final-message does not bind this connection"
        case .nonceMismatch(let kind):
            return "the nonce in the SCRAM \(kind.rawValue) does not match the exchange "
                + "(possible replay or a broken peer)"
        case .invalidIterationCount(let value):
            return "the SCRAM iteration count \"\(value)\" is not a number between 1 and 10000000"
        case .authenticationFailed:
            return "password authentication failed: the SCRAM client proof is wrong"
        case .serverSignatureMismatch:
            return "the server's SCRAM signature is wrong: the server does not know this password, "
                + "do not trust it"
        case .serverError(let value):
            return "the server rejected the SCRAM authentication: \(value)"
        case .keyDerivationFailed:
            return "SCRAM key derivation (PBKDF2) failed in the crypto library"
        }
    }
}

/// Compares two byte strings in time that depends only on their lengths, not on where they differ.
///
/// Proofs, signatures and password hashes must be compared like this so an attacker cannot learn a secret byte
/// by byte from response times. swift-crypto has such a comparison, but only internally (its public ones work on
/// digests and MACs), hence this one. The lengths themselves are not secret here (they are fixed by the protocol).
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else {
        return false
    }
    var difference: UInt8 = 0
    for index in a.indices {
        difference |= a[index] ^ b[index]
    }
    return difference == 0
}

import CFuzzerDriver

/// Reads a fuzzer's bytes as a sequence of small decisions. Past the end every read returns 0, so any input,
/// even an empty one, is a valid program for the targets.
public struct FuzzInput {
    private let bytes: [UInt8]
    private var index = 0

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var isAtEnd: Bool { self.index >= self.bytes.count }

    public mutating func byte() -> UInt8 {
        guard self.index < self.bytes.count else { return 0 }
        defer { self.index += 1 }
        return self.bytes[self.index]
    }

    /// A value in 0..<bound (bound > 0).
    public mutating func choose(_ bound: Int) -> Int {
        Int(self.byte()) % bound
    }

    public mutating func uint16() -> UInt16 {
        UInt16(self.byte()) << 8 | UInt16(self.byte())
    }

    /// Up to `count` raw bytes (fewer at the end of the input).
    public mutating func take(_ count: Int) -> [UInt8] {
        let end = min(self.bytes.count, self.index + count)
        defer { self.index = max(self.index, end) }
        return self.index < end ? Array(self.bytes[self.index..<end]) : []
    }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] {
        self.take(self.bytes.count)
    }
}

/// Splits `total` bytes into chunks whose sizes come from a small PRNG (splitmix64) seeded by `seed`: mostly
/// short chunks (1 to 8 bytes, the hardest for a framer) and now and then a long one.
public func chunkSizes(total: Int, seed: UInt64) -> [Int] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    var sizes: [Int] = []
    var left = total
    while left > 0 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let size = z % 4 == 0 ? Int((z >> 8) % 512) + 1 : Int((z >> 8) % 8) + 1
        sizes.append(min(size, left))
        left -= sizes[sizes.count - 1]
    }
    return sizes
}

/// A fuzzing invariant: a violation is a crash, which libFuzzer records with the input that caused it.
public func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
        fatalError("invariant violated: \(message())")
    }
}

/// Hands control to libFuzzer's driver (flags, corpus, the fuzzing loop) with `callback` as the target.
public func runFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}

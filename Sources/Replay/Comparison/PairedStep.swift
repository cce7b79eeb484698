import ProxyEngine

/// `--compare-with B`: one step replayed on target B beside target A. B's step is compared with the recording as
/// A's is; on top, B's result is compared with A's (A in the place of the recording), which is what tells "the
/// upgraded server answers differently from today's" even where the recording itself is stale (a clock value that
/// both targets agree on and the recording does not).
public struct PairedStep: Sendable, Equatable {
    public var b: ReplayStep
    /// B's result against A's, when both executed the query (nil otherwise).
    public var versusA: ComparisonOutcome?

    public init(b: ReplayStep, versusA: ComparisonOutcome?) {
        self.b = b
        self.versusA = versusA
    }

    /// Pairs B's step with A's, comparing their results when both ran.
    public static func pair(a: ReplayStep, b: ReplayStep, options: ComparisonOptions) -> PairedStep {
        guard case .query(let left) = a, case .query(let right) = b, let resultA = left.replayed,
            let resultB = right.replayed
        else { return PairedStep(b: b, versusA: nil) }
        return PairedStep(b: b, versusA: ResultComparison.compare(recorded: resultA, replayed: resultB, options: options))
    }

    /// B's step when it is a query.
    public var query: QueryStep? {
        if case .query(let step) = self.b { return step }
        return nil
    }

    public var differsFromA: Bool { self.versusA?.matches == false }

    /// Worth showing under --quiet, or stopping for: B differs from the recording, failed unexpectedly, or differs
    /// from A.
    public var isProblem: Bool {
        guard let query = self.query else { return false }
        return query.status == .mismatched || query.unexpectedError || self.differsFromA
    }
}

/// How many results the two targets both produced, and in how many they differ.
public struct PairCounts: Sendable, Equatable {
    public var compared = 0
    public var differing = 0

    public init() {}

    public mutating func add(_ paired: PairedStep) {
        guard let outcome = paired.versusA else { return }
        self.compared += 1
        if !outcome.matches { self.differing += 1 }
    }

    public mutating func add(_ other: PairCounts) {
        self.compared += other.compared
        self.differing += other.differing
    }
}

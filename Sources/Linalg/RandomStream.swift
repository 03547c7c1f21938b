import CGSL

/// A named, seedable, splittable stream of random numbers on GSL's Mersenne Twister
/// (`gsl_rng_mt19937`).
///
/// A run's seed makes one root stream; every consumer (environment resets, an attack's random
/// starts, minibatch shuffling) takes its own child stream by name or index, so adding draws in
/// one place never shifts the numbers another place sees. A child's seed is a SplitMix64 hash of
/// the parent's seed and the child's key: the same key always gives the same child.
///
/// Not thread-safe: a stream belongs to one task. The generator's complete state can be saved
/// (`state`) and restored (`restore(state:)`), which checkpoints use for exact resumption.
public final class RandomStream {
    /// The seed this stream was created with.
    public let seed: UInt64
    private let generator: UnsafeMutablePointer<gsl_rng>

    /// A stream seeded with `seed`. MT19937 is seeded with 32 bits; the 64-bit seed is folded
    /// into them by a SplitMix64 hash, so nearby seeds give unrelated streams.
    public init(seed: UInt64) {
        self.seed = seed
        guard let generator = gsl_rng_alloc(gauntlet_rng_mt19937()) else {
            fatalError("GSL could not allocate a random number generator (out of memory)")
        }
        self.generator = generator
        let mixed = splitMix64(seed)
        gsl_rng_set(generator, UInt(truncatingIfNeeded: (mixed >> 32) ^ (mixed & 0xffff_ffff)))
    }

    deinit { gsl_rng_free(generator) }

    /// An independent child stream for the consumer called `name`.
    public func child(_ name: String) -> RandomStream {
        RandomStream(seed: splitMix64(seed ^ FNV1a.hash(name.utf8)))
    }

    /// An independent child stream number `index` (episodes, environments, ensemble members).
    public func child(_ index: Int) -> RandomStream {
        RandomStream(seed: splitMix64(seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(bitPattern: Int64(index &+ 1))))
    }

    /// A new independent stream seeded from this stream's next draws (so successive splits
    /// differ, unlike `child`, which depends on the key only).
    public func split() -> RandomStream {
        let high = UInt64(gsl_rng_get(generator)) & 0xffff_ffff
        let low = UInt64(gsl_rng_get(generator)) & 0xffff_ffff
        return RandomStream(seed: splitMix64(seed ^ (high << 32 | low)))
    }

    /// A stream in exactly this stream's current state; the two then evolve independently.
    public func copy() -> RandomStream {
        let twin = RandomStream(seed: seed)
        twin.restore(state: state)
        return twin
    }

    // MARK: - Draws

    /// The generator's next 32-bit output.
    @inline(__always)
    public func next32() -> UInt32 { UInt32(truncatingIfNeeded: gsl_rng_get(generator)) }

    /// A uniform draw from [0, 1).
    @inline(__always)
    public func uniform() -> Double { gsl_rng_uniform(generator) }

    /// A uniform draw from [lower, upper).
    @inline(__always)
    public func uniform(_ lower: Double, _ upper: Double) -> Double {
        gsl_ran_flat(generator, lower, upper)
    }

    /// A normal draw with the given mean and standard deviation (GSL's ziggurat method).
    @inline(__always)
    public func normal(mean: Double = 0, standardDeviation: Double = 1) -> Double {
        mean + gsl_ran_gaussian_ziggurat(generator, standardDeviation)
    }

    /// A uniform integer in 0..<upperBound.
    @inline(__always)
    public func integer(below upperBound: Int) -> Int {
        precondition(upperBound > 0 && upperBound <= Int(UInt32.max), "integer(below:) needs 0 < n ≤ 2³²−1")
        return Int(gsl_rng_uniform_int(generator, UInt(upperBound)))
    }

    /// An index drawn with the given (not necessarily normalised, non-negative) weights, by
    /// inverting the cumulative distribution at one uniform draw.
    public func categorical<S: BLASScalar>(_ weights: UnsafeBufferPointer<S>) -> Int {
        var total = 0.0
        for w in weights { total += Double(w) }
        precondition(total > 0 && total.isFinite, "categorical(_:) needs positive finite total weight")
        let u = uniform() * total
        var cumulative = 0.0
        for (i, w) in weights.enumerated() {
            cumulative += Double(w)
            if u < cumulative { return i }
        }
        return weights.lastIndex(where: { $0 > 0 }) ?? (weights.count - 1)
    }

    /// An index drawn with the given weights.
    public func categorical<S: BLASScalar>(_ weights: [S]) -> Int {
        weights.withUnsafeBufferPointer { categorical($0) }
    }

    /// A uniformly random permutation of 0..<count (GSL's `gsl_ran_shuffle`).
    public func permutation(_ count: Int) -> [Int] {
        var indices = Array(0..<count)
        shuffle(&indices)
        return indices
    }

    /// Shuffles `values` in place uniformly at random.
    public func shuffle<T>(_ values: inout [T]) {
        guard values.count > 1 else { return }
        values.withUnsafeMutableBufferPointer { buffer in
            gsl_ran_shuffle(generator, buffer.baseAddress, buffer.count, MemoryLayout<T>.stride)
        }
    }

    // MARK: - State

    /// The generator's complete internal state as bytes.
    public var state: [UInt8] {
        let size = gsl_rng_size(generator)
        let raw = UnsafeRawBufferPointer(start: gsl_rng_state(generator), count: size)
        return Array(raw)
    }

    /// Restores a state obtained from `state` on a stream of the same generator type.
    public func restore(state bytes: [UInt8]) {
        let size = gsl_rng_size(generator)
        precondition(bytes.count == size, "Random stream state has \(bytes.count) bytes, expected \(size)")
        bytes.withUnsafeBytes { source in
            gsl_rng_state(generator)!.copyMemory(from: source.baseAddress!, byteCount: size)
        }
    }
}

/// SplitMix64's finaliser: a bijective 64-bit mix with full avalanche.
@inline(__always)
func splitMix64(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

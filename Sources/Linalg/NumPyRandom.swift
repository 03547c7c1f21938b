/// NumPy's legacy generator (`numpy.random.RandomState`) on this stream's Mersenne Twister: the
/// same seeding and the same draws, so a port of a Python environment that draws from a
/// `RandomState` reproduces its random choices exactly (MinAtar's games do).
extension RandomStream {
    /// A stream in the state `numpy.random.RandomState(seed)` starts in: MT19937 seeded with
    /// `seed` by Matsumoto and Nishimura's `init_genrand` (GSL's seeding is the same except that
    /// it replaces 0 by 4357, so the state is written directly). Its `seed` property is 0.
    public static func numPy(seed: UInt32) -> RandomStream {
        let stream = RandomStream(seed: 0)
        var words = [UInt64](repeating: 0, count: 624)
        var value = seed
        for index in 0..<624 {
            words[index] = UInt64(value)
            value = 1_812_433_253 &* (value ^ (value >> 30)) &+ UInt32(index + 1)
        }
        // GSL's mt19937 state: `unsigned long mt[624]; int mti;` — mti = 624 regenerates the
        // block at the first draw, as NumPy's `pos = 624` does.
        var bytes = stream.state
        words.withUnsafeBytes { bytes.replaceSubrange(0..<(624 * 8), with: $0) }
        withUnsafeBytes(of: Int32(624).littleEndian) { bytes.replaceSubrange((624 * 8)..<(624 * 8 + 4), with: $0) }
        stream.restore(state: bytes)
        return stream
    }

    /// NumPy's legacy `random_sample()` / `rand()`: 53 random bits from two outputs,
    /// `(a·2²⁶ + b) / 2⁵³` with `a` the first output's top 27 bits and `b` the second's top 26.
    public func numPyUniform() -> Double {
        let a = Double(next32() >> 5)
        let b = Double(next32() >> 6)
        return (a * 67_108_864 + b) / 9_007_199_254_740_992
    }

    /// NumPy's legacy `randint(low, high)`: `low` plus a draw from `0…high − low − 1` by masked
    /// rejection — outputs masked to the smallest `2ᵏ − 1` covering the range, redrawn while
    /// above it. A range of one value draws nothing.
    public func numPyInteger(_ low: Int, _ high: Int) -> Int {
        precondition(high > low && high - low <= Int(UInt32.max), "numPyInteger needs low < high and a range below 2³²")
        let range = UInt32(high - low - 1)
        guard range > 0 else { return low }
        var mask = range
        for shift in [1, 2, 4, 8, 16] { mask |= mask >> UInt32(shift) }
        var value = next32() & mask
        while value > range { value = next32() & mask }
        return low + Int(value)
    }
}

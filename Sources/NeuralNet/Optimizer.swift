import Linalg

/// A first-order optimiser over a flat parameter vector (see `Sequential`'s layout). Its state
/// is a value: copying an optimiser copies its moments, which checkpoints rely on.
public protocol Optimizer: Sendable, Codable {
    associatedtype Scalar: BLASScalar
    /// The learning rate; schedules change it between steps.
    var learningRate: Double { get set }
    /// One update `θ ← θ − step(∇θ)`.
    mutating func update(_ parameters: inout [Scalar], gradient: [Scalar])
}

/// Rescales `gradient` so its global L2 norm is at most `maximumNorm`, as
/// `torch.nn.utils.clip_grad_norm_` does (`g ← g · maxNorm / (‖g‖ + 10⁻⁶)` when that factor is
/// below 1). Returns the norm before clipping.
@discardableResult
@_specialize(where S == Float)
@_specialize(where S == Double)
public func clipGradientNorm<S: BLASScalar>(_ gradient: inout [S], maximumNorm: Double) -> Double {
    // Eight running sums: one sum's chain of dependent additions would bound the loop by the
    // adder's latency (a tenth of a millisecond for MinAtar's network, each update).
    var (s0, s1, s2, s3, s4, s5, s6, s7) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    gradient.withUnsafeBufferPointer { g in
        let whole = g.count / 8 * 8
        var i = 0
        while i < whole {
            let (g0, g1, g2, g3) = (Double(g[i]), Double(g[i + 1]), Double(g[i + 2]), Double(g[i + 3]))
            let (g4, g5, g6, g7) = (Double(g[i + 4]), Double(g[i + 5]), Double(g[i + 6]), Double(g[i + 7]))
            s0 += g0 * g0
            s1 += g1 * g1
            s2 += g2 * g2
            s3 += g3 * g3
            s4 += g4 * g4
            s5 += g5 * g5
            s6 += g6 * g6
            s7 += g7 * g7
            i += 8
        }
        for j in whole..<g.count { s0 += Double(g[j]) * Double(g[j]) }
    }
    let norm = (((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))).squareRoot()
    let coefficient = maximumNorm / (norm + 1e-6)
    if coefficient < 1 {
        let c = S(coefficient)
        for i in gradient.indices { gradient[i] *= c }
    }
    return norm
}

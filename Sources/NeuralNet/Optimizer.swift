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
    var squared = 0.0
    for g in gradient { squared += Double(g) * Double(g) }
    let norm = squared.squareRoot()
    let coefficient = maximumNorm / (norm + 1e-6)
    if coefficient < 1 {
        let c = S(coefficient)
        for i in gradient.indices { gradient[i] *= c }
    }
    return norm
}

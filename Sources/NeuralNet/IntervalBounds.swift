import Linalg

/// Interval bound propagation (Gowal et al. 2018): for every input inside the box
/// `[lower, upper]`, bounds on every output of the network.
///
/// A Linear layer maps the box with centre `c = (u + l)/2` and radius `r = (u − l)/2` to centre
/// `W c + b` and radius `|W| r`, which is the exact range of a single Linear layer; the
/// activations here are non-decreasing, so they map lower to lower and upper to upper bounds.
/// Through several layers the bounds are sound (they contain every reachable output) but loose.
public struct IntervalBounds<Scalar: BLASScalar>: Equatable, Sendable {
    public var lower: Matrix<Scalar>
    public var upper: Matrix<Scalar>

    public init(lower: Matrix<Scalar>, upper: Matrix<Scalar>) {
        precondition(lower.rows == upper.rows && lower.columns == upper.columns, "bounds must have equal shapes")
        self.lower = lower
        self.upper = upper
    }

    /// The L∞ ball of radius `epsilon` around each row of `center`.
    public init(center: Matrix<Scalar>, epsilon: Scalar) {
        precondition(epsilon >= 0, "epsilon must be non-negative")
        self.init(lower: center.map { $0 - epsilon }, upper: center.map { $0 + epsilon })
    }
}

extension Sequential {
    /// Bounds on the network's outputs — or, with `moduleCount`, on the values after its first
    /// `moduleCount` modules — for inputs anywhere in `input`'s box (per row).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func intervalBounds(_ input: IntervalBounds<Scalar>, moduleCount: Int? = nil) -> IntervalBounds<Scalar> {
        precondition(input.lower.columns == inputDimensions)
        var lower = input.lower
        var upper = input.upper
        var linearIndex = 0
        for module in modules.prefix(moduleCount ?? modules.count) {
            switch module {
            case .activation(let activation):
                lower = lower.map { activation($0) }
                upper = upper.map { activation($0) }
            case .linear:
                let weight = self.weight(linearIndex)
                let bias = self.bias(linearIndex)
                linearIndex += 1
                let center = (lower + upper).map { $0 / 2 }
                let radius = (upper - lower).map { $0 / 2 }
                var outCenter = Matrix.product(center, weight, transposeB: true)
                let outRadius = Matrix.product(radius, weight.map { abs($0) }, transposeB: true)
                for r in 0..<outCenter.rows {
                    for j in 0..<outCenter.columns { outCenter[r, j] += bias[j] }
                }
                lower = outCenter - outRadius
                upper = outCenter + outRadius
            }
        }
        return IntervalBounds(lower: lower, upper: upper)
    }
}

import Environments
import Linalg

/// What an attacker may do to an observation `s`: add a perturbation `δ` with `‖δ / u‖ ≤ ε`,
/// where `u` are per-dimension units (1 for raw units, or each dimension's standard deviation on
/// clean episodes), leave masked dimensions untouched, and stay inside the observation space's
/// finite bounds. Printed with every result.
public struct ThreatModel: Equatable, Sendable, Codable, CustomStringConvertible {
    public enum Norm: String, Sendable, Codable, CaseIterable {
        case linf, l2
    }

    public enum Units: String, Sendable, Codable, CaseIterable {
        /// ε in raw observation units.
        case raw
        /// ε in multiples of each dimension's standard deviation measured on clean episodes.
        case std
        /// ε in the policy's own normalised observation space: each dimension's unit is the
        /// standard deviation its observation normalisation divides by (what SA-PPO, ATLA and
        /// WocaR mean by Hopper's ε = 0.075). Only for policies that normalise observations.
        case normalized
    }

    public var norm: Norm
    public var epsilon: Double
    public var units: Units
    /// Per-dimension unit `u` (all 1 for raw units).
    public var scale: [Double]
    /// Observation bounds (±∞ where unbounded); perturbed observations are clipped to them.
    public var lower: [Float]
    public var upper: [Float]
    /// Dimensions the attacker may change (all when nil).
    public var mask: [Bool]?
    /// Which steps of an episode are attacked.
    public var schedule: AttackSchedule

    public init(
        norm: Norm = .linf, epsilon: Double, units: Units = .raw, scale: [Double]? = nil, bounds: BoxSpace, mask: [Bool]? = nil,
        schedule: AttackSchedule = .everyStep
    ) {
        precondition(epsilon >= 0 && epsilon.isFinite, "epsilon must be finite and non-negative")
        self.norm = norm
        self.epsilon = epsilon
        self.units = units
        self.scale = scale ?? Array(repeating: 1, count: bounds.dimension)
        self.lower = bounds.low
        self.upper = bounds.high
        self.mask = mask
        self.schedule = schedule
        precondition(
            self.scale.count == bounds.dimension && self.scale.allSatisfy { $0 > 0 && $0.isFinite },
            "scale must be positive, one per dimension")
        precondition(mask.map { $0.count == bounds.dimension } ?? true, "mask must have one entry per dimension")
    }

    public var dimension: Int { lower.count }

    /// A mask over whole image channels: an observation of `dimension` values stored channel by
    /// channel (`channels.count` equal blocks, as MinAtar's and every CHW image are) may change
    /// in the channels marked true. Fails unless the channels divide the observation evenly.
    public static func channelMask(_ channels: [Bool], dimension: Int) throws(AttackError) -> [Bool] {
        guard !channels.isEmpty, dimension % channels.count == 0 else {
            throw AttackError(
                "a mask of \(channels.count) channels needs observations of a multiple of \(channels.count) values, these have \(dimension)"
            )
        }
        return channels.flatMap { Array(repeating: $0, count: dimension / channels.count) }
    }

    public var description: String {
        let maskText = mask.map { " mask \($0.map { $0 ? "1" : "0" }.joined())" } ?? ""
        return "\(norm.rawValue) ε=\(epsilon) (\(units.rawValue) units)\(maskText), \(schedule)"
    }

    /// Whether dimension `j` may be perturbed.
    @inline(__always)
    public func isFree(_ j: Int) -> Bool { mask?[j] ?? true }

    /// The closest point to `perturbed` (row by row) inside the threat model around `clean`:
    /// δ projected onto the ε-ball in scaled units (L∞: clamp each entry; L2: rescale the whole
    /// vector), masked dimensions reset, then the observation clipped to the bounds (which keeps
    /// it in the ball, since the clean observation lies inside the bounds).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func project<S: BLASScalar>(_ perturbed: Matrix<S>, around clean: Matrix<S>) -> Matrix<S> {
        var result = perturbed
        project(&result, around: clean)
        return result
    }

    /// `project` in place.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func project<S: BLASScalar>(_ result: inout Matrix<S>, around clean: Matrix<S>) {
        precondition(result.rows == clean.rows && result.columns == dimension && clean.columns == dimension)
        let d = dimension
        // No allocation per row: δ is rescaled in place, then clipped (this runs every attack step).
        result.storage.withUnsafeMutableBufferPointer { out in
            clean.storage.withUnsafeBufferPointer { c in
                for r in 0..<clean.rows {
                    let row = r * d
                    var factor = 1.0
                    if norm == .l2 {
                        var squared = 0.0
                        for j in 0..<d where isFree(j) {
                            let z = (Double(out[row + j]) - Double(c[row + j])) / scale[j]
                            squared += z * z
                        }
                        let length = squared.squareRoot()
                        if length > epsilon { factor = epsilon / length }
                    }
                    for j in 0..<d {
                        var z = isFree(j) ? (Double(out[row + j]) - Double(c[row + j])) / scale[j] : 0
                        z = norm == .linf ? min(max(z, -epsilon), epsilon) : z * factor
                        let value = Double(c[row + j]) + z * scale[j]
                        out[row + j] = S(min(max(value, Double(lower[j])), Double(upper[j])))
                    }
                }
            }
        }
    }

    /// One step of projected ascent in place: `current ← project(current + ascentStep(g, size))`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func ascend<S: BLASScalar>(_ current: inout Matrix<S>, along g: Matrix<S>, size: Double, around clean: Matrix<S>) {
        addAscentStep(g, size: size, to: &current)
        project(&current, around: clean)
    }

    /// The size of `perturbed − clean` in this threat model's norm and units, per row.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func distance<S: BLASScalar>(_ perturbed: Matrix<S>, from clean: Matrix<S>) -> [Double] {
        (0..<clean.rows).map { r in
            let z = (0..<dimension).map { j in (Double(perturbed[r, j]) - Double(clean[r, j])) / scale[j] }
            switch norm {
            case .linf: return z.map(abs).max() ?? 0
            case .l2: return z.reduce(0) { $0 + $1 * $1 }.squareRoot()
            }
        }
    }

    /// The steepest ascent direction of size `size` for gradient `g`, per row, in observation
    /// units: L∞ `size · u ⊙ sign(g)`, L2 `size · u ⊙ ĝ` with ĝ the unit vector of `u ⊙ g`.
    /// Zero where the gradient is zero (never NaN) and in masked dimensions.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func ascentStep<S: BLASScalar>(_ g: Matrix<S>, size: Double) -> Matrix<S> {
        var step = Matrix<S>(rows: g.rows, columns: g.columns)
        addAscentStep(g, size: size, to: &step)
        return step
    }

    /// `x + ascentStep(g, size)` in place.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func addAscentStep<S: BLASScalar>(_ g: Matrix<S>, size: Double, to x: inout Matrix<S>) {
        precondition(x.rows == g.rows && x.columns == g.columns && g.columns == dimension)
        let d = dimension
        x.storage.withUnsafeMutableBufferPointer { out in
            g.storage.withUnsafeBufferPointer { gradient in
                for r in 0..<g.rows {
                    let row = r * d
                    switch norm {
                    case .linf:
                        for j in 0..<d {
                            let step =
                                isFree(j) && gradient[row + j] != 0 ? S(size * scale[j] * (gradient[row + j] > 0 ? 1 : -1)) : 0
                            out[row + j] = out[row + j] + step
                        }
                    case .l2:
                        var squared = 0.0
                        for j in 0..<d where isFree(j) {
                            let scaled = Double(gradient[row + j]) * scale[j]
                            squared += scaled * scaled
                        }
                        let length = squared.squareRoot()
                        let moves = length > 0 && length.isFinite
                        for j in 0..<d {
                            let step = moves && isFree(j) ? S(size * scale[j] * Double(gradient[row + j]) * scale[j] / length) : 0
                            out[row + j] = out[row + j] + step
                        }
                    }
                }
            }
        }
    }

    /// The box each row of `observations` may move in: radius `ε·u_j` on the free dimensions
    /// (for L2, the L∞ box that contains the ball), intersected with the observation bounds.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func box<S: BLASScalar>(around observations: Matrix<S>) -> (lower: Matrix<S>, upper: Matrix<S>) {
        var lower = observations
        var upper = observations
        let d = observations.columns
        let free = (0..<d).filter(isFree)
        let radius = free.map { S(epsilon * scale[$0]) }
        let (low, high) = (free.map { S(self.lower[$0]) }, free.map { S(self.upper[$0]) })
        observations.storage.withUnsafeBufferPointer { x in
            lower.storage.withUnsafeMutableBufferPointer { l in
                upper.storage.withUnsafeMutableBufferPointer { u in
                    for row in stride(from: 0, to: observations.rows * d, by: d) {
                        for (k, j) in free.enumerated() {
                            l[row + j] = max(x[row + j] - radius[k], low[k])
                            u[row + j] = min(x[row + j] + radius[k], high[k])
                        }
                    }
                }
            }
        }
        return (lower, upper)
    }

    /// A point drawn uniformly from the ball around each row of `clean` (then projected).
    public func randomPoint<S: BLASScalar>(around clean: Matrix<S>, random: RandomStream) -> Matrix<S> {
        var result = clean
        let d = dimension
        for r in 0..<clean.rows {
            var z = [Double](repeating: 0, count: d)
            switch norm {
            case .linf:
                for j in 0..<d { z[j] = random.uniform(-epsilon, epsilon) }
            case .l2:
                // Direction uniform on the sphere of the free dimensions, radius ε·U^(1/k).
                let free = (0..<d).filter(isFree)
                for j in free { z[j] = random.normal() }
                let norm = z.reduce(0) { $0 + $1 * $1 }.squareRoot()
                let radius = epsilon * Double.pow(random.uniform(), 1 / Double(max(free.count, 1)))
                if norm > 0 { for j in free { z[j] *= radius / norm } }
            }
            for j in 0..<d { result[r, j] = S(Double(clean[r, j]) + z[j] * scale[j]) }
        }
        return project(result, around: clean)
    }

    /// `clean + σ·u ⊙ z`, `z ~ N(0, I)`, on the free dimensions (no projection): Gaussian noise
    /// in the threat model's units.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func gaussianNoise<S: BLASScalar>(around clean: Matrix<S>, standardDeviation sigma: Double, random: RandomStream)
        -> Matrix<S>
    {
        addGaussianNoise(to: clean, sigma: sigma, scale: scale, isFree: isFree, random: random)
    }
}

/// `x + σ·u_j·z` with `z ~ N(0, 1)` drawn for each entry of a free column `j`, row by row.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func addGaussianNoise<S: BLASScalar>(
    to x: Matrix<S>, sigma: Double, scale: [Double], isFree: (Int) -> Bool = { _ in true },
    random: RandomStream
) -> Matrix<S> {
    var result = x
    for r in 0..<result.rows {
        for j in 0..<result.columns where isFree(j) { result[r, j] += S(sigma * scale[j] * random.normal()) }
    }
    return result
}

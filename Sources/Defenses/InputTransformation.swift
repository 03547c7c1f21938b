import Agents
import Attacks
import Linalg
import NeuralNet

/// A preprocessing defense: the policy acts on `T(s)` instead of `s`. Attacks differentiate
/// through it with the straight-through gradient `∂T/∂s ≈ I` — exact for additive noise, and
/// BPDA (Athalye et al. 2018) for quantisation and clipping, whose true gradient is zero or
/// undefined and would only mask the gradient.
protocol InputTransformation: PolicyDefense {
    func transform<S: BLASScalar>(_ observations: Matrix<S>, random: RandomStream) -> Matrix<S>
}

extension InputTransformation {
    public func outputs<S: BLASScalar>(_ observations: Matrix<S>, inner: Policy<S>, random: RandomStream) -> Matrix<S> {
        inner.outputs(transform(observations, random: random))
    }

    public func outputsAndInputGradient<S: BLASScalar>(
        _ observations: Matrix<S>, inner: Policy<S>, random: RandomStream,
        lossGradient: (Matrix<S>) -> Matrix<S>
    ) -> (outputs: Matrix<S>, gradient: Matrix<S>) {
        inner.outputsAndInputGradient(transform(observations, random: random), workspace: nil, lossGradient: lossGradient)
    }
}

/// Quantisation of observations to a grid of `step · u_j` per dimension (feature squeezing, Xu
/// et al. 2018): perturbations smaller than half a step that do not cross a grid boundary vanish.
public struct Quantization: InputTransformation {
    public var step: Double
    public var scale: [Double]

    static let stepParameter = AttackParameter.number("step", default: 0.05, in: 1e-12...1e12, "grid step, in units of scale")
    public static let kind = DefenseKind.scaledTransformation(
        type: "quantize", summary: "round observations to a grid (feature squeezing)", parameter: stepParameter
    ) { step, scale throws(DefenseError) in try Quantization(step: step, scale: scale) }

    public init(step: Double, scale: [Double]) throws(DefenseError) {
        guard step > 0, step.isFinite, scale.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw DefenseError("quantize: step and scale must be positive")
        }
        self.step = step
        self.scale = scale
    }

    public var spec: String { "quantize:step=\(step)" }

    /// Rounding to the grid is monotone in each dimension.
    public func transformedBox<S: BLASScalar>(lower: Matrix<S>, upper: Matrix<S>) -> (lower: Matrix<S>, upper: Matrix<S>)? {
        let random = RandomStream(seed: 0)  // unused: the transformation is deterministic
        return (transform(lower, random: random), transform(upper, random: random))
    }
    public var isRandomized: Bool { false }
    public var stored: (description: DefenseDescription, tensors: [String: Safetensors.Tensor]) {
        (DefenseDescription(type: Self.kind.type, parameters: ["step": .number(step), "scale": JSONValue(scale)]), [:])
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func transform<S: BLASScalar>(_ observations: Matrix<S>, random: RandomStream) -> Matrix<S> {
        var result = observations
        for r in 0..<result.rows {
            for j in 0..<result.columns {
                let width = step * scale[j]
                result[r, j] = S((Double(result[r, j]) / width).rounded() * width)
            }
        }
        return result
    }
}

/// Clipping observations to the range seen on clean episodes: an attacker can no longer push a
/// dimension beyond anything the policy met in training.
public struct RangeClipping: InputTransformation {
    public var lower: [Double]
    public var upper: [Double]

    public static let kind = DefenseKind(
        type: "clip", summary: "clip observations to the range of the clean episodes",
        decode: { stored, _, inner throws(DefenseError) in
            let dimension = inner.observationDimension
            guard let lower = stored.numbers("lower"), let upper = stored.numbers("upper"), lower.count == dimension else {
                throw DefenseError("clip needs 'lower' and 'upper', \(dimension) values each")
            }
            return try RangeClipping(lower: lower, upper: upper)
        },
        makeTransformation: { _, context throws(DefenseError) in
            guard let range = context.range else { throw DefenseError("clip needs the clean observation range") }
            return try RangeClipping(lower: range.lower, upper: range.upper)
        })

    public init(lower: [Double], upper: [Double]) throws(DefenseError) {
        guard lower.count == upper.count, zip(lower, upper).allSatisfy({ $0 <= $1 }) else {
            throw DefenseError("clip: lower and upper need one value each per dimension, lower ≤ upper")
        }
        self.lower = lower
        self.upper = upper
    }

    public var spec: String { "clip" }

    /// Clipping is monotone in each dimension.
    public func transformedBox<S: BLASScalar>(lower: Matrix<S>, upper: Matrix<S>) -> (lower: Matrix<S>, upper: Matrix<S>)? {
        let random = RandomStream(seed: 0)  // unused: the transformation is deterministic
        return (transform(lower, random: random), transform(upper, random: random))
    }
    public var isRandomized: Bool { false }
    public var stored: (description: DefenseDescription, tensors: [String: Safetensors.Tensor]) {
        (DefenseDescription(type: Self.kind.type, parameters: ["lower": JSONValue(lower), "upper": JSONValue(upper)]), [:])
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func transform<S: BLASScalar>(_ observations: Matrix<S>, random: RandomStream) -> Matrix<S> {
        var result = observations
        for r in 0..<result.rows {
            for j in 0..<result.columns { result[r, j] = min(max(result[r, j], S(lower[j])), S(upper[j])) }
        }
        return result
    }
}

/// Gaussian noise injection: the policy acts on `s + σ·u ⊙ z`, `z ~ N(0, I)`, a fresh draw on
/// every call — a randomised defense; attacks adapt to it with EOT (`pgd:eot=K`).
public struct NoiseInjection: InputTransformation {
    public var sigma: Double
    public var scale: [Double]

    static let sigmaParameter = AttackParameter.number("sigma", default: 0.1, in: 1e-12...1e12, "noise σ, in units of scale")
    public static let kind = DefenseKind.scaledTransformation(
        type: "noise", summary: "add Gaussian noise to every observation (randomised)", parameter: sigmaParameter
    ) { sigma, scale throws(DefenseError) in try NoiseInjection(sigma: sigma, scale: scale) }

    public init(sigma: Double, scale: [Double]) throws(DefenseError) {
        guard sigma > 0, sigma.isFinite, scale.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw DefenseError("noise: sigma and scale must be positive")
        }
        self.sigma = sigma
        self.scale = scale
    }

    public var spec: String { "noise:sigma=\(sigma)" }
    public var isRandomized: Bool { true }
    public var stored: (description: DefenseDescription, tensors: [String: Safetensors.Tensor]) {
        (DefenseDescription(type: Self.kind.type, parameters: ["sigma": .number(sigma), "scale": JSONValue(scale)]), [:])
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func transform<S: BLASScalar>(_ observations: Matrix<S>, random: RandomStream) -> Matrix<S> {
        addGaussianNoise(to: observations, sigma: sigma, scale: scale, random: random)
    }
}

/// A value read from a transformation spec; a bad value is the defense's error.
func attackSpecValue<T>(_ read: () throws(AttackError) -> T) throws(DefenseError) -> T {
    do { return try read() } catch { throw DefenseError(error.description) }
}

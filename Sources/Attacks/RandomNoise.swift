import Agents
import Linalg

/// Random baselines: a gradient-free attacker that does only this well is no attacker at all,
/// and a white-box attack weaker than these signals gradient masking.

/// A point drawn uniformly from the threat model's ball.
public struct UniformNoise: Attack {
    public static let description = AttackDescription(
        name: "uniform", summary: "a uniformly random point of the ball", family: .random, usableInTraining: true
    ) { _, _ in UniformNoise() }

    public init() {}
    public var spec: String { "uniform" }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        AttackResult(perturbed: threatModel.randomPoint(around: observations, random: random), queries: 0)
    }
}

/// Gaussian noise `N(0, (σ·ε·u)²)` per free dimension, projected onto the ball.
public struct GaussianNoise: Attack {
    /// Standard deviation as a fraction of ε.
    public var sigma: Double

    static let sigmaParameter = AttackParameter.number(
        "sigma", default: 0.5, in: 0...100, "standard deviation as a fraction of ε")
    public static let description = AttackDescription(
        name: "gaussian", summary: "Gaussian noise with standard deviation sigma (in ε units), projected onto the ball",
        family: .random,
        parameters: [sigmaParameter], usableInTraining: true
    ) { spec, _ throws(AttackError) in GaussianNoise(sigma: try spec.double(sigmaParameter)) }

    public init(sigma: Double = 0.5) { self.sigma = sigma }
    public var spec: String { formatSpec("gaussian", ["sigma": sigma]) }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        let noisy = threatModel.gaussianNoise(
            around: observations, standardDeviation: sigma * threatModel.epsilon, random: random)
        return AttackResult(perturbed: threatModel.project(noisy, around: observations), queries: 0)
    }
}

/// A random corner of the L∞ ball: `δ_j = ±ε u_j` with random signs (for L2, the same signs
/// scaled onto the sphere by the projection).
public struct RandomSign: Attack {
    public static let description = AttackDescription(
        name: "sign", summary: "a random corner of the L∞ ball (random signs)", family: .random, usableInTraining: true
    ) { _, _ in RandomSign() }

    public init() {}
    public var spec: String { "sign" }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        var signs = Matrix<S>(rows: observations.rows, columns: observations.columns)
        for i in signs.storage.indices { signs.storage[i] = random.uniform() < 0.5 ? -1 : 1 }
        let step = threatModel.ascentStep(signs, size: threatModel.epsilon)
        return AttackResult(perturbed: threatModel.project(observations + step, around: observations), queries: 0)
    }
}

import Agents
import Linalg

/// Random baselines: a gradient-free attacker that does only this well is no attacker at all,
/// and a white-box attack weaker than these signals gradient masking.

/// A point drawn uniformly from the threat model's ball.
public struct UniformNoise: Attack {
    public init() {}
    init(_ spec: AttackSpec) throws(AttackError) { try spec.requireKnown([]) }
    public var spec: String { "uniform" }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream) -> AttackResult<S> {
        AttackResult(perturbed: threatModel.randomPoint(around: observations, random: random), queries: 0)
    }
}

/// Gaussian noise `N(0, (σ·ε·u)²)` per free dimension, projected onto the ball.
public struct GaussianNoise: Attack {
    /// Standard deviation as a fraction of ε.
    public var sigma: Double

    public init(sigma: Double = 0.5) { self.sigma = sigma }
    init(_ spec: AttackSpec) throws(AttackError) {
        try spec.requireKnown(["sigma"])
        sigma = try spec.double("sigma", default: 0.5, in: 0...100)
    }
    public var spec: String { formatSpec("gaussian", ["sigma": sigma]) }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream) -> AttackResult<S> {
        let noisy = threatModel.gaussianNoise(around: observations, standardDeviation: sigma * threatModel.epsilon, random: random)
        return AttackResult(perturbed: threatModel.project(noisy, around: observations), queries: 0)
    }
}

/// A random corner of the L∞ ball: `δ_j = ±ε u_j` with random signs (for L2, the same signs
/// scaled onto the sphere by the projection).
public struct RandomSign: Attack {
    public init() {}
    init(_ spec: AttackSpec) throws(AttackError) { try spec.requireKnown([]) }
    public var spec: String { "sign" }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream) -> AttackResult<S> {
        var signs = Matrix<S>(rows: observations.rows, columns: observations.columns)
        for i in signs.storage.indices { signs.storage[i] = random.uniform() < 0.5 ? -1 : 1 }
        let step = threatModel.ascentStep(signs, size: threatModel.epsilon)
        return AttackResult(perturbed: threatModel.project(observations + step, around: observations), queries: 0)
    }
}

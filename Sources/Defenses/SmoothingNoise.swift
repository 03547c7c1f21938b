import Agents
import Attacks
import Linalg

/// The randomness of a smoothed policy played for whole episodes: every observation the policy
/// sees is `s + σ·u ⊙ z`, `z ~ N(0, I)` on the threat model's free dimensions, with no
/// projection (the noise is the defense's, not an adversary's, so no ball bounds it). Given to
/// the episode runner in the place of an attack, it plays the policy that CROP's return bound
/// (`SmoothedReturnBound`) is about.
public struct SmoothingNoise: Attack {
    public var sigma: Double

    public init(sigma: Double) { self.sigma = sigma }

    public var spec: String { "smoothing-noise:sigma=\(sigma)" }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        AttackResult(
            perturbed: threatModel.gaussianNoise(around: observations, standardDeviation: sigma, random: random), queries: 0)
    }
}

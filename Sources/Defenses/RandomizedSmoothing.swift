import Agents
import Attacks
import Linalg
import NeuralNet

/// Randomised smoothing of a discrete policy (Cohen et al. 2019, "Certified adversarial
/// robustness via randomized smoothing"; for RL, Wu et al. 2022, CROP): the smoothed policy takes
/// the action the base policy chooses most often on `s + δ`, `δ ~ N(0, σ²u²)` on the free
/// dimensions (`u` the threat model's per-dimension unit).
///
/// `certify` runs Cohen's CERTIFY: `selectionSamples` noisy copies pick the candidate action,
/// `estimationSamples` more estimate its probability `p_A`, and the one-sided Clopper–Pearson
/// lower bound `p̲_A` at level `α` gives the certified L2 radius `σ Φ⁻¹(p̲_A)` (in the threat
/// model's units) — or an abstention when `p̲_A ≤ ½`. With probability at least `1 − α`, no
/// perturbation inside that radius changes the smoothed policy's action.
public struct RandomizedSmoothing: Sendable {
    public var sigma: Double
    public var selectionSamples: Int
    public var estimationSamples: Int
    public var alpha: Double

    public init(sigma: Double, selectionSamples: Int = 100, estimationSamples: Int = 1000, alpha: Double = 0.001) {
        precondition(sigma > 0 && selectionSamples > 0 && estimationSamples > 0 && alpha > 0 && alpha < 1)
        self.sigma = sigma
        self.selectionSamples = selectionSamples
        self.estimationSamples = estimationSamples
        self.alpha = alpha
    }

    public struct Certificate: Equatable, Sendable {
        /// The smoothed policy's action, or nil when it abstains.
        public var action: Int?
        /// Lower confidence bound on the probability of that action under the noise.
        public var probabilityLowerBound: Double
        /// Certified L2 radius in threat-model units (0 when abstaining).
        public var radius: Double
    }

    /// `count` noisy copies of `observation`: row i is `s + σ·u ⊙ z_i` on the free dimensions.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func noisyCopies<S: BLASScalar>(of observation: [S], count: Int, threatModel: ThreatModel, random: RandomStream)
        -> Matrix<S>
    {
        let repeated = Matrix(
            rows: count, columns: observation.count, storage: Array((0..<count).map { _ in observation }.joined()))
        return threatModel.gaussianNoise(around: repeated, standardDeviation: sigma, random: random)
    }

    /// How often the base policy picks each action on `count` noisy copies.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func actionCounts<S: BLASScalar>(
        _ observation: [S], count: Int, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> [Int] {
        let outputs = policy.outputs(noisyCopies(of: observation, count: count, threatModel: threatModel, random: random))
        var counts = [Int](repeating: 0, count: outputs.columns)
        for r in 0..<outputs.rows { counts[argmax(outputs.row(r))] += 1 }
        return counts
    }

    /// The smoothed policy's action by majority over `count` noisy copies (no certificate).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func action<S: BLASScalar>(
        _ observation: [S], count: Int, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> Int {
        argmax(actionCounts(observation, count: count, policy: policy, threatModel: threatModel, random: random))
    }

    /// Cohen et al.'s CERTIFY for one observation.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func certify<S: BLASScalar>(_ observation: [S], policy: Policy<S>, threatModel: ThreatModel, random: RandomStream)
        -> Certificate
    {
        let candidate = action(observation, count: selectionSamples, policy: policy, threatModel: threatModel, random: random)
        let hits = actionCounts(observation, count: estimationSamples, policy: policy, threatModel: threatModel, random: random)[
            candidate]
        // One-sided lower bound at level α = the lower end of the two-sided (1 − 2α) interval.
        let lowerBound = ConfidenceInterval.clopperPearson(successes: hits, trials: estimationSamples, confidence: 1 - 2 * alpha)
            .lower
        guard lowerBound > 0.5 else { return Certificate(action: nil, probabilityLowerBound: lowerBound, radius: 0) }
        return Certificate(
            action: candidate, probabilityLowerBound: lowerBound, radius: sigma * Statistics.normalQuantile(lowerBound))
    }
}

import Agents
import Attacks
import Environments
import Linalg
import NeuralNet

/// What every robust-training method keeps: its settings, the observation bounds its threat
/// model clips to, and the stream its attacks draw from (checkpointed by the learner).
public class RobustTrainingBase {
    public let config: RobustTrainingConfig
    public let bounds: BoxSpace
    public let random: RandomStream

    public init(config: RobustTrainingConfig, bounds: BoxSpace, random: RandomStream) {
        self.config = config
        self.bounds = bounds
        self.random = random
    }

    /// `observations` with a random share `robust_fraction` of the rows replaced by what
    /// `perturb` makes of them.
    func perturbingShare<S: BLASScalar>(of observations: Matrix<S>, _ perturb: (Matrix<S>) -> Matrix<S>) -> Matrix<S> {
        replacing(rows: (0..<observations.rows).filter { _ in random.uniform() < config.fraction }, of: observations, by: perturb)
    }

    /// `observations` with the given rows replaced by what `perturb` makes of them (stacked in
    /// that order).
    func replacing<S: BLASScalar>(rows: [Int], of observations: Matrix<S>, by perturb: (Matrix<S>) -> Matrix<S>) -> Matrix<S> {
        guard !rows.isEmpty else { return observations }
        let perturbed = perturb(Matrix(rows.map { observations.row($0) }))
        var result = observations
        for (m, r) in rows.enumerated() { result.setRow(r, to: perturbed.row(m)) }
        return result
    }

    /// The threat model at a fraction `progress` of training (ε on the config's ramp), in
    /// normalized units scaled by `policy`'s current observation normalisation.
    func threatModel<S: BLASScalar>(atProgress progress: Double, policy: Policy<S>) -> ThreatModel {
        guard config.epsilonUnits == "normalized" else {
            return ThreatModel(epsilon: config.epsilon(atProgress: progress), bounds: bounds)
        }
        guard let scaling = policy.scaling else {
            preconditionFailure("robust_eps_units: normalized needs a learner that normalises (checked with the config)")
        }
        return ThreatModel(
            epsilon: config.epsilon(atProgress: progress), units: .normalized, scale: scaling.std.map { Double($0) },
            bounds: bounds)
    }

    /// The box of network inputs the threat model allows around `observations` (through the
    /// policy's observation scaling), where the interval methods bound the network.
    func networkInputBox<S: BLASScalar>(around observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel)
        -> IntervalBounds<S>
    {
        guard let box = try? IntervalCertificate(threatModel: threatModel).inputBox(around: observations, policy: policy) else {
            preconditionFailure("a learner's policy carries no defenses")
        }
        return box
    }
}

import Agents
import Attacks
import Environments
import Linalg

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

    /// The threat model at a fraction `progress` of training (ε on the config's ramp).
    func threatModel(atProgress progress: Double) -> ThreatModel {
        ThreatModel(epsilon: config.epsilon(atProgress: progress), bounds: bounds)
    }
}

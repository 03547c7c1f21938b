import Agents
import Attacks
import Environments
import Linalg

/// What every robust-training method keeps: its settings, the observation bounds its threat
/// model clips to, and the stream its attacks draw from (checkpointed by the learner).
public class RobustTrainingMethod {
    public let config: RobustTrainingConfig
    public let bounds: BoxSpace
    public let random: RandomStream

    public init(config: RobustTrainingConfig, bounds: BoxSpace, random: RandomStream) {
        self.config = config
        self.bounds = bounds
        self.random = random
    }

    /// The threat model at a fraction `progress` of training (ε on the config's ramp).
    func threatModel(atProgress progress: Double) -> ThreatModel {
        ThreatModel(epsilon: config.epsilon(atProgress: progress), bounds: bounds)
    }
}

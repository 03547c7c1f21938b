import Agents
import Attacks
import Environments
import Linalg

/// Adversarial training (Goodfellow et al. 2015; for deep RL, Pattanaik et al. 2018 and the
/// baselines of SA-DQN/SA-PPO): a fraction of the observations a learner learns from — DQN's
/// minibatch states, PPO's rollout observations, the states TD3/DDPG's actor acts on in its
/// update — replaced by FGSM or PGD perturbations against the current policy, with ε on the
/// config's ramp.
public final class AdversarialTraining: RobustTrainingMethod, RobustTraining {
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, progress: Double) -> Matrix<S> {
        let epsilon = config.epsilon(atProgress: progress)
        guard epsilon > 0, config.fraction > 0 else { return observations }
        let attack: any Attack = config.attack == "fgsm" ? FGSM() : PGD(steps: config.steps)
        return perturbingShare(of: observations) { chosen in
            attack.perturb(chosen, policy: policy, threatModel: threatModel(atProgress: progress), random: random).perturbed
        }
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func regularize<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, progress: Double, parameterGradient: inout [S]) -> [String: Double] {
        ["robust/eps": config.epsilon(atProgress: progress)]
    }
}

import Agents
import Attacks
import Environments
import Linalg

/// Adversarial training (Goodfellow et al. 2015; for deep RL, Pattanaik et al. 2018 and the
/// baselines of SA-DQN/SA-PPO): a fraction of the observations a learner learns from — DQN's
/// minibatch states, PPO's rollout observations, the states TD3/DDPG's actor acts on in its
/// update — replaced by perturbations against the current policy (PGD, FGSM, MAD, or random
/// ones: uniform, Gaussian, random sign), with ε on the config's ramp. With several attacks each
/// attacked observation draws one, so the learner meets gradient attacks and random noise alike.
public final class AdversarialTraining: RobustTrainingMethod, RobustTraining {
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, progress: Double) -> Matrix<S> {
        let epsilon = config.epsilon(atProgress: progress)
        guard epsilon > 0, config.fraction > 0 else { return observations }
        let threatModel = threatModel(atProgress: progress)
        let attacks: [any Attack] = config.attacks.map { name in
            switch name {
            case "fgsm": FGSM()
            case "mad": MAD(steps: config.steps)
            case "uniform": UniformNoise()
            case "gaussian": GaussianNoise()
            case "sign": RandomSign()
            default: PGD(steps: config.steps)
            }
        }
        return perturbingShare(of: observations) { chosen in
            guard attacks.count > 1 else { return attacks[0].perturb(chosen, policy: policy, threatModel: threatModel, random: random).perturbed }
            let choice = (0..<chosen.rows).map { _ in random.integer(below: attacks.count) }
            var result = chosen
            for (index, attack) in attacks.enumerated() {
                let rows = choice.indices.filter { choice[$0] == index }
                guard !rows.isEmpty else { continue }
                let perturbed = attack.perturb(Matrix(rows.map { chosen.row($0) }), policy: policy, threatModel: threatModel, random: random).perturbed
                for (m, r) in rows.enumerated() { result.setRow(r, to: perturbed.row(m)) }
            }
            return result
        }
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func regularize<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, progress: Double, parameterGradient: inout [S]) -> [String: Double] {
        ["robust/eps": config.epsilon(atProgress: progress)]
    }
}

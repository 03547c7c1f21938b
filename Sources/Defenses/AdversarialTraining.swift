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
public final class AdversarialTraining: RobustTrainingBase, RobustTraining {
    /// The method, its `robust_attack` names checked against `attacks`.
    public static func method(attacks: AttackRegistry) -> RobustTrainingMethod {
        RobustTrainingMethod(
            name: "adversarial", summary: "train on attacked observations, Pattanaik et al. 2018",
            learners: ["dqn", "ppo", "td3", "ddpg"], diagnostics: ["robust/eps"],
            check: { config in
                config.attacks.first { attacks.description(named: $0)?.usableInTraining != true }.map { name in
                    (
                        key: "robust_attack",
                        message: "robust_attack '\(name)' is not one of \(attacks.trainingNames.joined(separator: ", "))"
                    )
                }
            },
            make: { config, context throws(TrainingError) in
                try AdversarialTraining(config, bounds: context.bounds, random: context.random, registry: attacks)
            })
    }

    /// The attacks `robust_attack` names, those with a `steps` parameter taking `robust_steps`.
    public let attacks: [any Attack]

    public init(_ config: RobustTrainingConfig, bounds: BoxSpace, random: RandomStream, registry: AttackRegistry = .standard)
        throws(TrainingError)
    {
        var attacks: [any Attack] = []
        for name in config.attacks {
            guard let description = registry.description(named: name), description.usableInTraining else {
                throw TrainingError("robust_attack '\(name)' is not one of \(registry.trainingNames.joined(separator: ", "))")
            }
            let takesSteps = description.parameters.contains { $0.key == "steps" }
            do { attacks.append(try registry.make(takesSteps ? "\(name):steps=\(config.steps)" : name)) } catch {
                throw TrainingError("robust_attack '\(name)': \(error)")
            }
        }
        guard !attacks.isEmpty else { throw TrainingError("robust_attack names no attack") }
        self.attacks = attacks
        super.init(config: config, bounds: bounds, random: random)
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, progress: Double) -> Matrix<S> {
        let epsilon = config.epsilon(atProgress: progress)
        guard epsilon > 0, config.fraction > 0 else { return observations }
        let threatModel = threatModel(atProgress: progress, policy: policy)
        return perturbingShare(of: observations) { chosen in
            guard attacks.count > 1 else {
                return attacks[0].perturb(chosen, policy: policy, threatModel: threatModel, random: random).perturbed
            }
            let choice = (0..<chosen.rows).map { _ in random.integer(below: attacks.count) }
            var result = chosen
            for (index, attack) in attacks.enumerated() {
                result = replacing(rows: choice.indices.filter { choice[$0] == index }, of: result) { rows in
                    attack.perturb(rows, policy: policy, threatModel: threatModel, random: random).perturbed
                }
            }
            return result
        }
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func regularize<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, progress: Double, parameterGradient: inout [S],
        logStdGradient: inout [S]
    ) -> [String: Double] {
        ["robust/eps": config.epsilon(atProgress: progress)]
    }
}

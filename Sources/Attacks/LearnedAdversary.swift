import Agents
import Environments
import Foundation
import Linalg
import NeuralNet

/// A learned adversary as an attack (ATLA, Zhang et al. 2021): a policy trained with PPO on an
/// `AdversaryEnvironment` maps each clean observation to a perturbation direction
/// `a ∈ [−1, 1]^d` (its mode, deterministic), applied as `ε · u ⊙ a` inside the current threat
/// model. `adversary=PATH` names the adversary's policy file (`gauntlet adversary train`).
public struct LearnedAdversary: Attack {
    let trained: TrainedAdversary
    public var path: String { trained.path }
    public var adversary: Policy<Float> { trained.policies.float }
    /// The victim's mean return over the adversary's last 100 training episodes, at its training
    /// ε (recorded in the adversary's policy file).
    public var expectedEffect: ExpectedEffect? { trained.expectedEffect }
    /// The victim environment steps the adversary's training took.
    public var preparation: AttackPreparation? { trained.preparation }

    public init(adversary: Policy<Float>, path: String) {
        trained = TrainedAdversary(policy: adversary, path: path)
    }

    init(trained: TrainedAdversary) { self.trained = trained }

    static let adversaryParameter = AttackParameter(
        "adversary", .policyFile(.adversary), default: nil,
        "the adversary's policy file, from gauntlet adversary train")
    public static let description = AttackDescription(
        name: "learned", summary: "a learned adversary (PPO on the adversary's MDP, ATLA-style)", family: .learned,
        parameters: [adversaryParameter]
    ) { spec, context throws(AttackError) in
        LearnedAdversary(
            trained: try TrainedAdversary.load(
                try spec.text(adversaryParameter), for: "learned", kind: .learned, context: context))
    }

    public var spec: String { formatSpec("learned", ["adversary": path]) }

    public func validate<S: BLASScalar>(for policy: Policy<S>) throws(AttackError) {
        guard adversary.observationDimension == policy.observationDimension,
            adversary.outputDimension == policy.observationDimension
        else {
            throw AttackError(
                "learned: the adversary perturbs \(adversary.outputDimension) observation values, the victim has \(policy.observationDimension)"
            )
        }
    }

    /// Refuses a threat model whose units differ from those the adversary trained in.
    public func prepared<S: BLASScalar>(
        for policy: Policy<S>, environment: String, threatModel: ThreatModel, progress: ((String) -> Void)?
    ) throws(AttackError) -> any Attack {
        try trained.checkUnits(of: threatModel, attack: "learned")
        return self
    }

    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        let directions = trained.policies.in(S.self).outputs(observations)
        return AttackResult(
            perturbed: AdversaryEnvironment.perturb(observations, direction: directions, threatModel: threatModel), queries: 0)
    }

    /// The adversary's Adam step size unless a training asks for another.
    public static let defaultLearningRate = 3e-4

    /// The training config of an adversary against `victim` in `environment` at radius
    /// `epsilon`: PPO with a Gaussian policy over perturbation directions (`kind` `.learned`) or
    /// over PA-AD's action directions (`.paad`). In normalized units (MuJoCo victims) it
    /// normalises its observations and rewards as the victims' PPO does. `learningRate` is the
    /// adversary's Adam step size (the optimal-attack papers scan it per victim and keep the
    /// strongest adversary).
    public static func trainingConfig(
        victim: String, environment: String, epsilon: Double, units: ThreatModel.Units = .raw, steps: Int, seed: UInt64,
        precision: Precision = .f32, kind: AdversaryEnvironment.Kind = .learned, learningRate: Double = defaultLearningRate
    ) throws(ConfigError) -> TrainingConfig {
        let unitsKey = units == .normalized ? ",units=normalized" : ""
        let kindKey = kind == .learned ? "" : ",kind=\(kind.rawValue)"
        let normalization = units == .normalized ? "\nnormalize: true\nnormalize_reward: true" : ""
        let yaml = """
            # A learned observation adversary (\(kind == .learned ? "ATLA-style" : "PA-AD's director")) against \(victim).
            env: adversary:env=\(environment),victim=\(victim),eps=\(epsilon)\(unitsKey)\(precision == .f32 ? "" : ",precision=\(precision)")\(kindKey)
            algorithm: ppo
            seed: \(seed)
            n_timesteps: \(steps)
            n_envs: 8
            n_steps: 128
            batch_size: 256
            n_epochs: 10
            gamma: 0.99
            gae_lambda: 0.95
            learning_rate: \(learningRate)
            log_std_init: -0.5
            net_arch: [64, 64]
            activation: tanh
            checkpoint_interval: \(max(steps / 10, 1000))
            log_interval: \(max(steps / 50, 1024))\(normalization)
            """
        return try TrainingConfig(yaml: yaml, file: "adversary.yaml")
    }
}

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
    public var path: String
    public var adversary: Policy<Float> { adversaries.float }
    /// The adversary in both precisions: an f64 evaluation computes its directions in f64.
    let adversaries: PolicyInEitherPrecision
    /// The victim's mean return over the adversary's last 100 training episodes, at its training
    /// ε (recorded in the adversary's policy file).
    public let expectedEffect: ExpectedEffect?
    /// The units its ε was measured in while it trained (nil: not recorded); its directions mean
    /// the same perturbations only in those units.
    public let trainedUnits: ThreatModel.Units?

    public init(
        adversary: Policy<Float>, path: String, expectedEffect: ExpectedEffect? = nil, trainedUnits: ThreatModel.Units? = nil
    ) {
        adversaries = PolicyInEitherPrecision(adversary)
        self.path = path
        self.expectedEffect = expectedEffect
        self.trainedUnits = trainedUnits
    }

    /// The units of the adversary environment it trained in, from its id (`units=normalized`, else raw).
    static func trainedUnits(of file: PolicyFile) -> ThreatModel.Units? {
        guard let id = file.description.environment, id.hasPrefix("adversary:") else { return nil }
        return id.split(separator: ",").contains("units=normalized") ? .normalized : .raw
    }

    /// What the adversary's training recorded: its ε (from its environment id) and the victim's
    /// return over the last 100 training episodes (the negated adversary return).
    static func expectedEffect(of file: PolicyFile, path: String) -> ExpectedEffect? {
        guard let returnText = file.description.provenance["training_mean_return_last_100"],
            let adversaryReturn = Double(returnText), adversaryReturn.isFinite,
            let id = file.description.environment, id.hasPrefix("adversary:"),
            let epsilonText = id.dropFirst("adversary:".count).split(separator: ",").first(where: { $0.hasPrefix("eps=") }),
            let epsilon = Double(epsilonText.dropFirst("eps=".count))
        else { return nil }
        return ExpectedEffect(
            epsilon: epsilon, attackedReturn: -adversaryReturn,
            source: "the victim's mean return over the last 100 episodes of \(path)'s training")
    }

    static let adversaryParameter = AttackParameter(
        "adversary", .policyFile(.adversary), default: nil,
        "the adversary's policy file, from gauntlet adversary train")
    public static let description = AttackDescription(
        name: "learned", summary: "a learned adversary (PPO on the adversary's MDP, ATLA-style)", family: .learned,
        parameters: [adversaryParameter]
    ) { spec, context throws(AttackError) in
        let path = try spec.text(adversaryParameter)
        let adversary: Policy<Float>
        do throws(PolicyFileError) { adversary = try context.loadPolicy(path) } catch {
            throw AttackError("learned: adversary \(error.description)")
        }
        guard !adversary.head.isDiscrete else {
            throw AttackError(
                "learned: \(path) is a \(adversary.kind.rawValue) policy, not an adversary (train one with gauntlet adversary train)"
            )
        }
        let file = try? PolicyFile.load(contentsOf: URL(fileURLWithPath: path))
        return LearnedAdversary(
            adversary: adversary, path: path, expectedEffect: file.flatMap { expectedEffect(of: $0, path: path) },
            trainedUnits: file.flatMap(trainedUnits(of:)))
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
        if let trainedUnits, trainedUnits != threatModel.units {
            throw AttackError(
                "learned: \(path) was trained with ε in \(trainedUnits.rawValue) units; evaluate it with --eps-units \(trainedUnits.rawValue)"
            )
        }
        return self
    }

    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        let directions = adversaries.in(S.self).outputs(observations)
        return AttackResult(
            perturbed: AdversaryEnvironment.perturb(observations, direction: directions, threatModel: threatModel), queries: 0)
    }

    /// The training config of an adversary against `victim` in `environment` at radius
    /// `epsilon`: PPO with a Gaussian policy over perturbation directions. In normalized units
    /// (MuJoCo victims) it normalises its observations and rewards as the victims' PPO does.
    public static func trainingConfig(
        victim: String, environment: String, epsilon: Double, units: ThreatModel.Units = .raw, steps: Int, seed: UInt64,
        precision: Precision = .f32
    ) throws(ConfigError) -> TrainingConfig {
        let unitsKey = units == .normalized ? ",units=normalized" : ""
        let normalization = units == .normalized ? "\nnormalize: true\nnormalize_reward: true" : ""
        let yaml = """
            # A learned observation adversary (ATLA-style) against \(victim).
            env: adversary:env=\(environment),victim=\(victim),eps=\(epsilon)\(unitsKey)\(precision == .f32 ? "" : ",precision=\(precision)")
            algorithm: ppo
            seed: \(seed)
            n_timesteps: \(steps)
            n_envs: 8
            n_steps: 128
            batch_size: 256
            n_epochs: 10
            gamma: 0.99
            gae_lambda: 0.95
            learning_rate: 3e-4
            log_std_init: -0.5
            net_arch: [64, 64]
            activation: tanh
            checkpoint_interval: \(max(steps / 10, 1000))
            log_interval: \(max(steps / 50, 1024))\(normalization)
            """
        return try TrainingConfig(yaml: yaml, file: "adversary.yaml")
    }
}

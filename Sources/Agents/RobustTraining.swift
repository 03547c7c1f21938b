import Environments
import Linalg
import NeuralNet
import Synchronization

/// Robust training settings, read from a training config's `robust_*` keys:
///
/// | key | meaning | default |
/// |---|---|---|
/// | `robust_method` | `adversarial` (train on attacked observations; DQN, PPO, TD3/DDPG), `sa` (state-adversarial regulariser, Zhang et al. 2020; DQN, PPO, TD3/DDPG), `radial` (worst-case loss from interval bounds, Oikarinen et al. 2021; DQN), `atla` (alternating training with a learned adversary, Zhang et al. 2021; PPO) | — |
/// | `robust_eps` | final ε (L∞, raw observation units) | — |
/// | `robust_eps_start`, `robust_eps_end` | fractions of training between which ε ramps linearly from 0 (SA-DQN's schedule) | 0.1, 0.5 |
/// | `robust_attack` | adversarial training's attack — `pgd`, `fgsm`, `mad`, `uniform`, `gaussian` or `sign` — or a list of them, one drawn at random for each attacked observation | `pgd` |
/// | `robust_steps` | PGD steps | 10 |
/// | `robust_fraction` | share of observations attacked (adversarial training, ATLA) | 0.5 |
/// | `robust_kappa` | regulariser weight κ | 0.1 |
/// | `robust_bound` | how `sa` bounds the worst case for DQN: `pgd` or `ibp` (the convex relaxation) | `pgd` |
/// | `robust_margin` | hinge margin c of SA-DQN | 1.0 |
/// | `robust_victim_updates`, `robust_adversary_updates` | ATLA's alternation: this many PPO updates of the agent against the frozen adversary, then this many of the adversary against the frozen agent | 1, 1 |
/// | `robust_adversary_log_std` | initial log standard deviation of ATLA's adversary (directions in [−1, 1]) | −0.5 |
public struct RobustTrainingConfig: Equatable, Sendable, Codable {
    public var method: String
    public var epsilon: Double
    public var epsilonStart = 0.1
    public var epsilonEnd = 0.5
    /// Adversarial training's attacks (each attacked observation draws one when there are several).
    public var attacks = ["pgd"]
    public var steps = 10
    public var fraction = 0.5
    public var kappa = 0.1
    public var bound = "pgd"
    public var margin = 1.0
    public var victimUpdates = 1
    public var adversaryUpdates = 1
    public var adversaryLogStd = -0.5

    public init(method: String, epsilon: Double) {
        self.method = method
        self.epsilon = epsilon
    }

    static let keys = ["robust_method", "robust_eps", "robust_eps_start", "robust_eps_end", "robust_attack", "robust_steps", "robust_fraction",
                       "robust_kappa", "robust_bound", "robust_margin", "robust_victim_updates", "robust_adversary_updates",
                       "robust_adversary_log_std"]
    static let methods = ["adversarial", "sa", "radial", "atla"]
    /// What `robust_attack` can name: attacks that need nothing but the policy.
    public static let trainingAttacks = ["pgd", "fgsm", "mad", "uniform", "gaussian", "sign"]

    /// The settings in a config, or nil when it has no `robust_method`.
    init?(_ r: ConfigReader, file: String) throws(ConfigError) {
        guard let method = try r.string("robust_method") else {
            if let key = Self.keys.first(where: { r.has($0) }) { throw ConfigError("\(file): '\(key)' needs robust_method (\(Self.methods.joined(separator: ", ")))") }
            return nil
        }
        guard Self.methods.contains(method) else {
            throw ConfigError("\(file): robust_method '\(method)' is not one of \(Self.methods.joined(separator: ", "))")
        }
        guard let epsilon = try r.double("robust_eps", in: 0...1e6) else { throw ConfigError("\(file): robust_method needs robust_eps") }
        self.init(method: method, epsilon: epsilon)
        epsilonStart = try r.double("robust_eps_start", in: 0...1) ?? epsilonStart
        epsilonEnd = try r.double("robust_eps_end", in: 0...1) ?? epsilonEnd
        guard epsilonStart <= epsilonEnd else { throw ConfigError("\(file): robust_eps_start must not exceed robust_eps_end") }
        attacks = try r.strings("robust_attack") ?? attacks
        if let unknown = attacks.first(where: { !Self.trainingAttacks.contains($0) }) {
            throw ConfigError("\(file): robust_attack '\(unknown)' is not one of \(Self.trainingAttacks.joined(separator: ", "))")
        }
        steps = try r.int("robust_steps", in: 1...1000) ?? steps
        fraction = try r.double("robust_fraction", in: 0...1) ?? fraction
        kappa = try r.double("robust_kappa", in: 0...1e6) ?? kappa
        bound = try r.string("robust_bound") ?? bound
        guard ["pgd", "ibp"].contains(bound) else { throw ConfigError("\(file): robust_bound '\(bound)' is not pgd or ibp") }
        margin = try r.double("robust_margin", in: 0...1e6) ?? margin
        victimUpdates = try r.int("robust_victim_updates", in: 1...1_000_000) ?? victimUpdates
        adversaryUpdates = try r.int("robust_adversary_updates", in: 0...1_000_000) ?? adversaryUpdates
        adversaryLogStd = try r.double("robust_adversary_log_std", in: -20...5) ?? adversaryLogStd
    }

    /// ε at a fraction `progress` of training: 0 until `epsilonStart`, then a linear ramp to
    /// `epsilon` at `epsilonEnd`.
    public func epsilon(atProgress progress: Double) -> Double {
        guard progress > epsilonStart else { return 0 }
        guard epsilonEnd > epsilonStart, progress < epsilonEnd else { return epsilon }
        return epsilon * (progress - epsilonStart) / (epsilonEnd - epsilonStart)
    }
}

/// What a robust-training method is made for: the learner's environment and settings, and the
/// stream the method draws from.
public struct RobustTrainingContext {
    /// The id of the environment the learner trains in.
    public var environment: String
    /// Its observation bounds (the threat model clips to them).
    public var bounds: BoxSpace
    public var random: RandomStream
    /// The learner's PPO settings (nil for DQN): ATLA trains its adversary with the same ones.
    public var ppo: PPOConfig?
    /// The learner's seed.
    public var seed: UInt64

    public init(environment: String, bounds: BoxSpace, random: RandomStream, ppo: PPOConfig?, seed: UInt64) {
        self.environment = environment
        self.bounds = bounds
        self.random = random
        self.ppo = ppo
        self.seed = seed
    }
}

/// A robust-training method plugged into a learner (DQN's minibatches, PPO's rollouts and
/// minibatches). The implementations — which need attacks and interval bounds — live in the
/// `Defenses` module and are created through `RobustTrainingFactory`.
public protocol RobustTraining: AnyObject {
    /// The stream its attacks draw from (saved in checkpoints).
    var random: RandomStream { get }
    /// The observations to learn from (DQN: minibatch states; PPO: the observations the agent
    /// acts on in its rollouts): some replaced by attacked ones for adversarial training, the
    /// same ones otherwise.
    func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, progress: Double) -> Matrix<S>
    /// Adds `κ ∂R/∂θ` of a robustness regulariser `R` on the minibatch to `parameterGradient`
    /// (the policy network's parameters) and returns diagnostics; nothing for methods without one.
    func regularize<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, progress: Double, parameterGradient: inout [S]) -> [String: Double]
    /// Runs after each of the learner's updates with the updated policy (ATLA trains its
    /// adversary here) and returns diagnostics.
    func afterUpdate<S: BLASScalar>(policy: Policy<S>, progress: Double) throws(TrainingError) -> [String: Double]
    /// Stores the method's state in the learner's checkpoint.
    func writeCheckpoint(to checkpoint: inout CheckpointWriter)
    /// Restores what `writeCheckpoint` stored.
    func restore(from checkpoint: CheckpointReader) throws(CheckpointError)
    /// Policies the method learned besides the agent (ATLA's adversary), by name, written next
    /// to the trained policy as `NAME.safetensors`; `victim` is the trained policy's path.
    func companionPolicies(victim: String) -> [String: PolicyFile]
}

extension RobustTraining {
    /// Regularisers learn from the observations as they are.
    public func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, progress: Double) -> Matrix<S> { observations }
    public func afterUpdate<S: BLASScalar>(policy: Policy<S>, progress: Double) throws(TrainingError) -> [String: Double] { [:] }
    public func writeCheckpoint(to checkpoint: inout CheckpointWriter) { checkpoint.put("random.robust", random: random) }
    public func restore(from checkpoint: CheckpointReader) throws(CheckpointError) { try checkpoint.restore(random, "random.robust") }
    public func companionPolicies(victim: String) -> [String: PolicyFile] { [:] }
}

/// Creates robust-training methods; `Defenses.register()` installs the maker.
public enum RobustTrainingFactory {
    public typealias Maker = @Sendable (RobustTrainingConfig, RobustTrainingContext) throws(TrainingError) -> any RobustTraining

    private static let maker = Mutex<Maker?>(nil)

    public static func install(_ make: @escaping Maker) { maker.withLock { $0 = make } }

    static func make(_ config: RobustTrainingConfig, context: RobustTrainingContext) throws(TrainingError) -> any RobustTraining {
        guard let make = maker.withLock({ $0 }) else { throw TrainingError("robust training needs the Defenses module: call Defenses.register() first") }
        return try make(config, context)
    }
}

import Environments
import Linalg
import NeuralNet
import Synchronization

/// Robust training settings, read from a training config's `robust_*` keys:
///
/// | key | meaning | default |
/// |---|---|---|
/// | `robust_method` | `adversarial` (train on attacked observations), `sa` (state-adversarial regulariser, Zhang et al. 2020), `radial` (worst-case loss from interval bounds, Oikarinen et al. 2021; DQN) | — |
/// | `robust_eps` | final ε (L∞, raw observation units) | — |
/// | `robust_eps_start`, `robust_eps_end` | fractions of training between which ε ramps linearly from 0 (SA-DQN's schedule) | 0.1, 0.5 |
/// | `robust_attack` | `fgsm` or `pgd` (adversarial training; the inner maximisation of `sa` with `robust_bound: pgd`) | `pgd` |
/// | `robust_steps` | PGD steps | 10 |
/// | `robust_fraction` | share of observations attacked (adversarial training) | 0.5 |
/// | `robust_kappa` | regulariser weight κ | 0.1 |
/// | `robust_bound` | how `sa` bounds the worst case for DQN: `pgd` or `ibp` (the convex relaxation) | `pgd` |
/// | `robust_margin` | hinge margin c of SA-DQN | 1.0 |
public struct RobustTrainingConfig: Equatable, Sendable, Codable {
    public var method: String
    public var epsilon: Double
    public var epsilonStart = 0.1
    public var epsilonEnd = 0.5
    public var attack = "pgd"
    public var steps = 10
    public var fraction = 0.5
    public var kappa = 0.1
    public var bound = "pgd"
    public var margin = 1.0

    public init(method: String, epsilon: Double) {
        self.method = method
        self.epsilon = epsilon
    }

    static let keys = ["robust_method", "robust_eps", "robust_eps_start", "robust_eps_end", "robust_attack", "robust_steps", "robust_fraction",
                       "robust_kappa", "robust_bound", "robust_margin"]

    /// The settings in a config, or nil when it has no `robust_method`.
    init?(_ r: ConfigReader, file: String) throws(ConfigError) {
        guard let method = try r.string("robust_method") else {
            if let key = Self.keys.first(where: { r.has($0) }) { throw ConfigError("\(file): '\(key)' needs robust_method (adversarial, sa or radial)") }
            return nil
        }
        guard ["adversarial", "sa", "radial"].contains(method) else {
            throw ConfigError("\(file): robust_method '\(method)' is not one of adversarial, sa, radial")
        }
        guard let epsilon = try r.double("robust_eps", in: 0...1e6) else { throw ConfigError("\(file): robust_method needs robust_eps") }
        self.init(method: method, epsilon: epsilon)
        epsilonStart = try r.double("robust_eps_start", in: 0...1) ?? epsilonStart
        epsilonEnd = try r.double("robust_eps_end", in: 0...1) ?? epsilonEnd
        guard epsilonStart <= epsilonEnd else { throw ConfigError("\(file): robust_eps_start must not exceed robust_eps_end") }
        attack = try r.string("robust_attack") ?? attack
        guard ["fgsm", "pgd"].contains(attack) else { throw ConfigError("\(file): robust_attack '\(attack)' is not fgsm or pgd") }
        steps = try r.int("robust_steps", in: 1...1000) ?? steps
        fraction = try r.double("robust_fraction", in: 0...1) ?? fraction
        kappa = try r.double("robust_kappa", in: 0...1e6) ?? kappa
        bound = try r.string("robust_bound") ?? bound
        guard ["pgd", "ibp"].contains(bound) else { throw ConfigError("\(file): robust_bound '\(bound)' is not pgd or ibp") }
        margin = try r.double("robust_margin", in: 0...1e6) ?? margin
    }

    /// ε at a fraction `progress` of training: 0 until `epsilonStart`, then a linear ramp to
    /// `epsilon` at `epsilonEnd`.
    public func epsilon(atProgress progress: Double) -> Double {
        guard progress > epsilonStart else { return 0 }
        guard epsilonEnd > epsilonStart, progress < epsilonEnd else { return epsilon }
        return epsilon * (progress - epsilonStart) / (epsilonEnd - epsilonStart)
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
}

extension RobustTraining {
    /// Regularisers learn from the observations as they are.
    public func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, progress: Double) -> Matrix<S> { observations }
}

/// Creates robust-training methods; `Defenses.register()` installs the maker.
public enum RobustTrainingFactory {
    public typealias Maker = @Sendable (RobustTrainingConfig, BoxSpace, RandomStream) throws(TrainingError) -> any RobustTraining

    private static let maker = Mutex<Maker?>(nil)

    public static func install(_ make: @escaping Maker) { maker.withLock { $0 = make } }

    static func make(_ config: RobustTrainingConfig, bounds: BoxSpace, random: RandomStream) throws(TrainingError) -> any RobustTraining {
        guard let make = maker.withLock({ $0 }) else { throw TrainingError("robust training needs the Defenses module: call Defenses.register() first") }
        return try make(config, bounds, random)
    }
}

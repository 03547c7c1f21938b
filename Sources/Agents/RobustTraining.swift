import Environments
import Linalg
import NeuralNet

/// Robust training settings, read from a training config's `robust_*` keys: the keys several
/// methods share are declared in `hyperparameters`, each method's own keys beside the method as
/// `RobustTrainingOption`s (read with `config[option]`); `gauntlet train --help` lists both with
/// their defaults. ε ramps linearly from 0 between two fractions of training, SA-DQN's schedule.
public struct RobustTrainingConfig: Equatable, Sendable, Codable {
    public var method: String
    public var epsilon: Double
    /// What ε is measured in: `raw` observation units, or `normalized` — the learner's own
    /// running observation normalisation (SA-PPO's and ATLA's ε on MuJoCo; needs `normalize`).
    public var epsilonUnits = "raw"
    public var epsilonStart = 0.1
    public var epsilonEnd = 0.5
    /// Adversarial training's attacks (each attacked observation draws one when there are several).
    public var attacks = ["pgd"]
    public var steps = 10
    public var fraction = 0.5
    public var kappa = 0.1
    public var bound = "pgd"
    /// The method's own settings that differ from their defaults, by key (read and set them
    /// with `config[option]`).
    public var options: [String: JSONValue] = [:]

    public init(method: String, epsilon: Double) {
        self.method = method
        self.epsilon = epsilon
    }

    /// The `robust_*` keys every method reads (each method declares its own besides).
    public static let hyperparameters: [Hyperparameter<RobustTrainingConfig>] = [
        Hyperparameter(
            key: "robust_method", summary: "the method (see the methods below)", accepted: "a method's name", read: { _, _ in },
            value: { .string($0.method) }),
        .double("robust_eps", \.epsilon, in: 0...1e6, "final ε (L∞, in robust_eps_units); required"),
        .string(
            "robust_eps_units", \.epsilonUnits, options: ["raw", "normalized"],
            "ε in raw observation units, or in the learner's observation normalisation (needs normalize: true)"),
        .double("robust_eps_start", \.epsilonStart, in: 0...1, "share of training after which ε ramps up from 0"),
        .double("robust_eps_end", \.epsilonEnd, in: 0...1, "share of training at which ε reaches robust_eps"),
        Hyperparameter(
            key: "robust_attack", summary: "adversarial training's attacks (each attacked observation draws one)",
            accepted: "an attack name or a list of them",
            read: { r, config throws(ConfigError) in config.attacks = try r.strings("robust_attack") ?? config.attacks },
            value: { .array($0.attacks.map { .string($0) }) }),
        .int("robust_steps", \.steps, in: 1...1000, "steps of the attacks that take them (PGD, MAD)"),
        .double("robust_fraction", \.fraction, in: 0...1, "share of observations attacked (adversarial training, ATLA)"),
        .double("robust_kappa", \.kappa, in: 0...1e6, "regulariser weight κ"),
        .string(
            "robust_bound", \.bound, options: ["pgd", "ibp"],
            "how the SA regulariser finds its worst case: PGD, or interval bounds (SA-DQN's and SA-PPO's convex relaxation)"),
    ]

    /// Every `robust_*` key: the shared ones and each of `methods`' own.
    static func keys(methods: [RobustTrainingMethod]) -> [String] {
        hyperparameters.map(\.key) + methods.flatMap { $0.options.map(\.key) }
    }

    /// The settings in a config, or nil when it has no `robust_method`. `methods` are the
    /// methods the config may name; `algorithm` must be one of the chosen method's learners.
    init?(_ r: ConfigReader, algorithm: String, methods: [RobustTrainingMethod]) throws(ConfigError) {
        let file = r.file
        let names = methods.map(\.name).joined(separator: ", ")
        guard let method = try r.string("robust_method") else {
            if let key = Self.keys(methods: methods).first(where: { r.has($0) }) {
                throw r.error(at: key, "'\(key)' needs robust_method (\(names))")
            }
            return nil
        }
        guard let description = methods.first(where: { $0.name == method }) else {
            throw r.error(at: "robust_method", "robust_method '\(method)' is not one of \(names)")
        }
        guard description.learners.contains(algorithm) else {
            let alternatives = methods.filter { $0.learners.contains(algorithm) }.map(\.name)
            throw r.error(
                at: "robust_method",
                "robust_method \(method) (\(description.summary)) is implemented for \(description.learners.joined(separator: ", ")); \(algorithm) takes \(alternatives.isEmpty ? "none" : alternatives.joined(separator: ", "))"
            )
        }
        guard let epsilon = try r.double("robust_eps", in: 0...1e6) else {
            throw ConfigError("\(file): robust_method needs robust_eps")
        }
        self.init(method: method, epsilon: epsilon)
        try Self.hyperparameters.read(r, into: &self)
        try description.options.read(r, into: &self)
        let own = Set(description.options.map(\.key))
        for other in methods where other.name != method {
            if let key = other.options.map(\.key).first(where: { r.has($0) && !own.contains($0) }) {
                throw r.error(at: key, "'\(key)' is a setting of robust_method \(other.name); this config's is \(method)")
            }
        }
        guard epsilonStart <= epsilonEnd else { throw ConfigError("\(file): robust_eps_start must not exceed robust_eps_end") }
        if epsilonUnits == "normalized", try r.bool("normalize") != true {
            throw r.error(
                at: "robust_eps_units",
                "robust_eps_units: normalized measures ε by the observation normalisation: set normalize: true")
        }
        if let problem = description.check(self) { throw r.error(at: problem.key, problem.message) }
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
    /// What made the learner's environment (ATLA makes its adversary's copies with it).
    public var environments: EnvironmentRegistry
    /// The learner's precision (ATLA's adversary learns in it too).
    public var precision: Precision

    public init(
        environment: String, bounds: BoxSpace, random: RandomStream, ppo: PPOConfig?, seed: UInt64,
        environments: EnvironmentRegistry = .builtIn, precision: Precision = .f32
    ) {
        self.precision = precision
        self.environment = environment
        self.bounds = bounds
        self.random = random
        self.ppo = ppo
        self.seed = seed
        self.environments = environments
    }
}

/// A robust-training method plugged into a learner (DQN's minibatches, PPO's rollouts and
/// minibatches). The implementations — which need attacks and interval bounds — live in the
/// `Defenses` module and reach learners through `TrainingComponents`.
public protocol RobustTraining: AnyObject {
    /// The stream its attacks draw from (saved in checkpoints).
    var random: RandomStream { get }
    /// The observations to learn from (DQN: minibatch states; PPO: the observations the agent
    /// acts on in its rollouts): some replaced by attacked ones for adversarial training, the
    /// same ones otherwise.
    func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, progress: Double) -> Matrix<S>
    /// Adds `κ ∂R/∂θ` of a robustness regulariser `R` on the minibatch to `parameterGradient`
    /// (the policy network's parameters) and to `logStdGradient` (a Gaussian policy's
    /// state-independent log σ, when the learner trains it; empty otherwise), and returns
    /// diagnostics; nothing for methods without one.
    func regularize<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, progress: Double, parameterGradient: inout [S], logStdGradient: inout [S]
    ) -> [String: Double]
    /// Runs after each of the learner's updates with the updated policy (ATLA trains its
    /// adversary here) and returns diagnostics.
    func afterUpdate<S: BLASScalar>(policy: Policy<S>, progress: Double) throws(TrainingError) -> [String: Double]
    /// Whether the method learns from PPO's rollouts and reweighs its advantages (`learn(from:)`
    /// and `advantages`): PPO gathers transitions and minibatch actions only for those that do.
    var learnsFromRollouts: Bool { get }
    /// Learns from the transitions of the rollout PPO just collected, before PPO's update (WocaR
    /// trains its worst-case critic here), and returns diagnostics.
    func learn<S: BLASScalar>(from transitions: Transitions<S>, policy: Policy<S>, progress: Double) throws(TrainingError)
        -> [String: Double]
    /// The advantages PPO's clipped surrogate weighs a minibatch's actions with, given the
    /// (normalised) advantages of GAE: WocaR adds its worst-case value of each action.
    func advantages<S: BLASScalar>(
        _ advantages: [S], observations: Matrix<S>, actions: Matrix<S>, policy: Policy<S>, progress: Double
    ) -> [S]
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
    public func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, progress: Double) -> Matrix<S> {
        observations
    }
    public func afterUpdate<S: BLASScalar>(policy: Policy<S>, progress: Double) throws(TrainingError) -> [String: Double] { [:] }
    public var learnsFromRollouts: Bool { false }
    public func learn<S: BLASScalar>(from transitions: Transitions<S>, policy: Policy<S>, progress: Double)
        throws(TrainingError) -> [String: Double]
    { [:] }
    public func advantages<S: BLASScalar>(
        _ advantages: [S], observations: Matrix<S>, actions: Matrix<S>, policy: Policy<S>, progress: Double
    ) -> [S] { advantages }
    public func writeCheckpoint(to checkpoint: inout CheckpointWriter) { checkpoint.put("random.robust", random: random) }
    public func restore(from checkpoint: CheckpointReader) throws(CheckpointError) {
        try checkpoint.restore(random, "random.robust")
    }
    public func companionPolicies(victim: String) -> [String: PolicyFile] { [:] }
}

/// Transitions `(s, a, r, s′)` of a PPO rollout, row by row: raw observations, the actions as
/// sampled (before clipping to the action bounds), the rewards PPO learns from (scaled when
/// `normalize_reward`; at a time limit the value of the final observation is folded in, so
/// that step counts as `terminal`), and whether the episode ended with the step (then `s′` is
/// not its successor and must not be bootstrapped from).
public struct Transitions<S: BLASScalar> {
    public var observations: Matrix<S>
    public var actions: Matrix<S>
    public var rewards: [S]
    public var nextObservations: Matrix<S>
    public var terminal: [Bool]

    public init(observations: Matrix<S>, actions: Matrix<S>, rewards: [S], nextObservations: Matrix<S>, terminal: [Bool]) {
        self.observations = observations
        self.actions = actions
        self.rewards = rewards
        self.nextObservations = nextObservations
        self.terminal = terminal
    }
}

/// One robust-training method's own setting, declared once beside the method: its key, default,
/// accepted values and meaning (`hyperparameter`, which configs, help and records read). The
/// config holds it only when it differs from the default; `config[option]` reads it either way.
public struct RobustTrainingOption<Value: Sendable>: Sendable {
    public let hyperparameter: Hyperparameter<RobustTrainingConfig>
    let path: WritableKeyPath<RobustTrainingConfig, Value> & Sendable

    public var key: String { hyperparameter.key }

    /// A number in `range`.
    public static func number(_ key: String, default value: Double, in range: ClosedRange<Double>, _ summary: String)
        -> Self where Value == Double
    {
        let path = \RobustTrainingConfig.[number: key, default: value]
        return Self(hyperparameter: .double(key, path, in: range, summary), path: path)
    }

    /// A number in `range` that may be unset (nil: the method does what `summary` says).
    public static func optionalNumber(_ key: String, in range: ClosedRange<Double>, _ summary: String) -> Self
    where Value == Double? {
        let path = \RobustTrainingConfig.[optionalNumber: key]
        return Self(hyperparameter: .optionalDouble(key, path, in: range, summary), path: path)
    }

    /// An integer in `range`.
    public static func integer(_ key: String, default value: Int, in range: ClosedRange<Int>, _ summary: String) -> Self
    where Value == Int {
        let path = \RobustTrainingConfig.[integer: key, default: value]
        return Self(hyperparameter: .int(key, path, in: range, summary), path: path)
    }

    /// A switch.
    public static func flag(_ key: String, default value: Bool, _ summary: String) -> Self where Value == Bool {
        let path = \RobustTrainingConfig.[flag: key, default: value]
        return Self(hyperparameter: .bool(key, path, summary), path: path)
    }
}

extension RobustTrainingConfig {
    /// A method's setting (its default unless the config sets it).
    public subscript<Value>(option: RobustTrainingOption<Value>) -> Value {
        get { self[keyPath: option.path] }
        set { self[keyPath: option.path] = newValue }
    }

    // The storage of options by key, with the default left out so equal settings compare equal.
    subscript(number key: String, default value: Double) -> Double {
        get { options[key]?.number ?? value }
        set { options[key] = newValue == value ? nil : .number(newValue) }
    }

    subscript(optionalNumber key: String) -> Double? {
        get { options[key]?.number }
        set { options[key] = newValue.map { .number($0) } }
    }

    subscript(integer key: String, default value: Int) -> Int {
        get { options[key]?.number.map { Int($0) } ?? value }
        set { options[key] = newValue == value ? nil : .number(Double(newValue)) }
    }

    subscript(flag key: String, default value: Bool) -> Bool {
        get { if case .bool(let flag)? = options[key] { flag } else { value } }
        set { options[key] = newValue == value ? nil : .bool(newValue) }
    }
}

/// A robust-training method as configs and learners see it, declared next to its
/// implementation (the `Defenses` module) and handed to training by whoever assembles the
/// standard set (`Toolkit.standard` in the Evaluation module).
public struct RobustTrainingMethod: Sendable {
    /// The `robust_method` value.
    public var name: String
    public var summary: String
    /// The algorithms that take it (`dqn`, `ppo`, `td3`, `ddpg`).
    public var learners: [String]
    /// Diagnostics it reports after each update, logged as columns of progress.csv.
    public var diagnostics: [String]
    /// Its own `robust_*` keys besides the shared ones (`RobustTrainingConfig.hyperparameters`),
    /// recorded in a run's settings only when the config names this method.
    public var options: [Hyperparameter<RobustTrainingConfig>]
    /// A check of a parsed config beyond the keys' types and ranges: the key at fault and why.
    public var check: @Sendable (RobustTrainingConfig) -> (key: String, message: String)?
    /// The method for one learner.
    public var make: @Sendable (RobustTrainingConfig, RobustTrainingContext) throws(TrainingError) -> any RobustTraining

    public init(
        name: String, summary: String, learners: [String], diagnostics: [String] = [],
        options: [Hyperparameter<RobustTrainingConfig>] = [],
        check: @escaping @Sendable (RobustTrainingConfig) -> (key: String, message: String)? = { _ in nil },
        make: @escaping @Sendable (RobustTrainingConfig, RobustTrainingContext) throws(TrainingError) -> any RobustTraining
    ) {
        self.name = name
        self.summary = summary
        self.learners = learners
        self.diagnostics = diagnostics
        self.options = options.map { $0.recorded { $0.method == name } }
        self.check = check
        self.make = make
    }
}

/// What training is assembled from: the environments learners can make and the robust-training
/// methods configs can name. `Toolkit.standard.training` (Evaluation module) holds Gauntlet's.
public struct TrainingComponents: Sendable {
    public var environments: EnvironmentRegistry
    public var robustMethods: [RobustTrainingMethod]

    public init(environments: EnvironmentRegistry = .builtIn, robustMethods: [RobustTrainingMethod] = []) {
        self.environments = environments
        self.robustMethods = robustMethods
    }

    public func robustMethod(named name: String) -> RobustTrainingMethod? { robustMethods.first { $0.name == name } }

    /// The method a learner's config asks for, made for a learner on environment `id` (its
    /// copies in `environment`, its streams from `root`, its precision `Scalar`); nil without
    /// robust training.
    func makeRobustTraining<Scalar: BLASScalar>(
        _ config: RobustTrainingConfig?, environment id: String, copies environment: VectorEnvironment, root: RandomStream,
        ppo: PPOConfig?, seed: UInt64, precision _: Scalar.Type
    ) throws(TrainingError) -> (any RobustTraining)? {
        guard let config else { return nil }
        guard let method = robustMethod(named: config.method) else {
            throw TrainingError(
                "robust_method '\(config.method)' is not among the methods given (\(robustMethods.map(\.name).joined(separator: ", ")))"
            )
        }
        let context = RobustTrainingContext(
            environment: id, bounds: environment.environments[0].base.observationSpace, random: root.child("robust"), ppo: ppo,
            seed: seed, environments: environments, precision: Precision(of: Scalar.self))
        return try method.make(config, context)
    }
}

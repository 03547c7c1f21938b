import Foundation
import Linalg

/// A training run described in YAML, in the style of rl-zoo's hyperparameter files (the same
/// key names where rl-zoo has one):
///
///     env: CartPole-v1
///     algorithm: dqn          # dqn, ppo, td3 or ddpg
///     seed: 0
///     n_timesteps: 50000
///     net_arch: [256, 256]    # PPO also takes SB3's {pi: [64], vf: [64, 64]}
///     activation: relu
///     learning_rate: 2.3e-3   # or lin_2.3e-3 where the algorithm takes a schedule
///     …                       # the algorithm's hyperparameters (see DQNConfig, PPOConfig, TD3Config)
///     checkpoint_interval: 10000   # environment steps between checkpoints
///     log_interval: 1000           # environment steps between rows of progress.csv
///
/// Unknown keys and values of the wrong type are errors naming the file, line, column and key.
public struct TrainingConfig: Equatable, Sendable {
    public enum Algorithm: Equatable, Sendable {
        case dqn(DQNConfig)
        case ppo(PPOConfig)
        case td3(TD3Config)

        public var name: String {
            switch self {
            case .dqn: "dqn"
            case .ppo: "ppo"
            case .td3(let c): c.twinCritics ? "td3" : "ddpg"
            }
        }

        /// The robust-training settings, if any.
        public var robust: RobustTrainingConfig? {
            switch self {
            case .dqn(let c): c.robust
            case .ppo(let c): c.robust
            case .td3(let c): c.robust
            }
        }

        public var totalSteps: Int {
            switch self {
            case .dqn(let c): c.totalSteps
            case .ppo(let c): c.totalSteps
            case .td3(let c): c.totalSteps
            }
        }
    }

    public var environment: String
    public var algorithm: Algorithm
    public var seed: UInt64
    public var checkpointInterval: Int
    public var logInterval: Int
    public var robust: RobustTrainingConfig? { algorithm.robust }
    /// The YAML text the config was read from (kept with runs for provenance).
    public var text: String
    /// Every key of the config with its value, as JSON (stored in the trained policy's file).
    public var settings: [String: JSONValue]

    static let commonKeys = [
        "env", "algorithm", "seed", "n_timesteps", "net_arch", "activation", "checkpoint_interval", "log_interval",
    ]

    /// Parses a config; `file` names it in errors. `robustMethods` are the methods
    /// `robust_method` may name (`Toolkit.standard.training.robustMethods` has Gauntlet's).
    public init(yaml text: String, file: String, robustMethods: [RobustTrainingMethod] = []) throws(ConfigError) {
        let reader = try ConfigReader(yaml: text, file: file)
        environment = try reader.requiredString("env")
        let name = try reader.requiredString("algorithm")
        seed = UInt64(try reader.int("seed", in: 0...Int(Int32.max)) ?? 0)
        checkpointInterval = try reader.int("checkpoint_interval", in: 1...Int.max) ?? 10_000
        logInterval = try reader.int("log_interval", in: 1...Int.max) ?? 1_000
        self.text = text
        settings = reader.json
        switch name {
        case "dqn":
            try reader.requireKnown(Self.commonKeys + DQNConfig.keys + RobustTrainingConfig.keys)
            var config = try DQNConfig(reader)
            config.robust = try RobustTrainingConfig(reader, algorithm: name, methods: robustMethods)
            algorithm = .dqn(config)
        case "ppo":
            try reader.requireKnown(Self.commonKeys + PPOConfig.keys + RobustTrainingConfig.keys)
            var config = try PPOConfig(reader)
            config.robust = try RobustTrainingConfig(reader, algorithm: name, methods: robustMethods)
            algorithm = .ppo(config)
        case "td3", "ddpg":
            try reader.requireKnown(Self.commonKeys + TD3Config.keys + RobustTrainingConfig.keys)
            var config = try TD3Config(reader, ddpg: name == "ddpg")
            config.robust = try RobustTrainingConfig(reader, algorithm: name, methods: robustMethods)
            algorithm = .td3(config)
        default:
            throw ConfigError("\(file): unknown algorithm '\(name)' (expected dqn, ppo, td3 or ddpg)")
        }
    }

    /// Reads and parses a config file.
    public init(contentsOf url: URL, robustMethods: [RobustTrainingMethod] = []) throws(ConfigError) {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ConfigError("\(url.path): cannot read the config file")
        }
        guard data.count < 1_000_000 else {
            throw ConfigError("\(url.path): a config of \(data.count) bytes is not a training config")
        }
        try self.init(yaml: String(decoding: data, as: UTF8.self), file: url.path, robustMethods: robustMethods)
    }

    /// A short stable hash of the config text (FNV-1a, hex), recorded in policy provenance.
    public var hash: String { FNV1a.hex(text) }
}

/// The hyperparameters every algorithm has, read from the same keys.
protocol SharedHyperparameters {
    var totalSteps: Int { get set }
    var hidden: [Int] { get set }
    var activation: String { get set }
    var environments: Int { get set }
    /// Reads `net_arch`.
    mutating func readNetworkArchitecture(_ r: ConfigReader) throws(ConfigError)
}

extension SharedHyperparameters {
    mutating func readShared(_ r: ConfigReader) throws(ConfigError) {
        totalSteps = try r.int("n_timesteps", in: 1...1_000_000_000) ?? totalSteps
        try readNetworkArchitecture(r)
        activation = try r.string("activation") ?? activation
        environments = try r.int("n_envs", in: 1...1024) ?? environments
    }
}

extension DQNConfig: SharedHyperparameters {}
extension TD3Config: SharedHyperparameters {}

extension SharedHyperparameters {
    mutating func readNetworkArchitecture(_ r: ConfigReader) throws(ConfigError) {
        hidden = try r.intList("net_arch") ?? hidden
    }
}

extension PPOConfig: SharedHyperparameters {
    /// `net_arch` as a list for actor and critic alike, or SB3's `{pi: [...], vf: [...]}`.
    mutating func readNetworkArchitecture(_ r: ConfigReader) throws(ConfigError) {
        guard let parts = try r.intLists("net_arch", parts: ["pi", "vf"]) else { return }
        hidden = parts["pi"]!
        criticHidden = parts["vf"]! == hidden ? nil : parts["vf"]!
    }
}

extension DQNConfig {
    static let keys = [
        "n_envs", "learning_rate", "buffer_size", "learning_starts", "batch_size", "tau", "gamma", "train_freq", "gradient_steps",
        "target_update_interval", "exploration_fraction", "exploration_initial_eps", "exploration_final_eps", "max_grad_norm",
        "double_dqn",
    ]

    init(_ r: ConfigReader) throws(ConfigError) {
        self.init()
        try readShared(r)
        learningRate = try r.double("learning_rate", in: 0...10) ?? learningRate
        bufferSize = try r.int("buffer_size", in: 1...100_000_000) ?? bufferSize
        learningStarts = try r.int("learning_starts", in: 0...Int.max) ?? learningStarts
        batchSize = try r.int("batch_size", in: 1...1_000_000) ?? batchSize
        tau = try r.double("tau", in: 0...1) ?? tau
        gamma = try r.double("gamma", in: 0...1) ?? gamma
        trainFrequency = try r.int("train_freq", in: 1...1_000_000) ?? trainFrequency
        gradientSteps = try r.int("gradient_steps", in: -1...1_000_000) ?? gradientSteps
        targetUpdateInterval = try r.int("target_update_interval", in: 1...Int.max) ?? targetUpdateInterval
        explorationFraction = try r.double("exploration_fraction", in: 1e-9...1) ?? explorationFraction
        explorationInitialEpsilon = try r.double("exploration_initial_eps", in: 0...1) ?? explorationInitialEpsilon
        explorationFinalEpsilon = try r.double("exploration_final_eps", in: 0...1) ?? explorationFinalEpsilon
        maxGradNorm = try r.double("max_grad_norm", in: 0...1e9) ?? maxGradNorm
        doubleDQN = try r.bool("double_dqn") ?? doubleDQN
    }
}

import Foundation
import Linalg
import NeuralNet

/// A training run described in YAML, in the style of rl-zoo's hyperparameter files (the same
/// key names where rl-zoo has one):
///
///     env: CartPole-v1
///     algorithm: dqn          # dqn, ppo, td3, ddpg or sac
///     seed: 0
///     n_timesteps: 50000
///     net_arch: [256, 256]    # PPO also takes SB3's {pi: [64], vf: [64, 64]}
///     activation: relu
///     learning_rate: 2.3e-3   # or lin_2.3e-3 where the algorithm takes a schedule
///     …                       # the algorithm's hyperparameters (see DQNConfig, PPOConfig, TD3Config, SACConfig)
///     checkpoint_interval: 10000   # environment steps between checkpoints
///     log_interval: 1000           # environment steps between rows of progress.csv
///
/// Unknown keys and values of the wrong type are errors naming the file, line, column and key.
public struct TrainingConfig: Equatable, Sendable {
    public enum Algorithm: Equatable, Sendable {
        case dqn(DQNConfig)
        case ppo(PPOConfig)
        case td3(TD3Config)
        case sac(SACConfig)

        public var name: String {
            switch self {
            case .dqn: "dqn"
            case .ppo: "ppo"
            case .td3(let c): c.twinCritics ? "td3" : "ddpg"
            case .sac: "sac"
            }
        }

        /// The robust-training settings, if any.
        public var robust: RobustTrainingConfig? {
            switch self {
            case .dqn(let c): c.robust
            case .ppo(let c): c.robust
            case .td3(let c): c.robust
            case .sac(let c): c.robust
            }
        }

        public var totalSteps: Int {
            switch self {
            case .dqn(let c): c.totalSteps
            case .ppo(let c): c.totalSteps
            case .td3(let c): c.totalSteps
            case .sac(let c): c.totalSteps
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
    /// Every key of the config with its value, defaults included, as JSON (stored in the
    /// trained policy's file): the keys the YAML gives as it gives them, every other declared
    /// key with the value the run uses; the `robust_*` keys only with a `robust_method`.
    public var settings: [String: JSONValue]

    /// The run's own keys (the algorithm's hyperparameters are declared with its config).
    static let runKeys = ["env", "algorithm", "seed", "checkpoint_interval", "log_interval"]

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
        settings = [:]
        // Without the methods a method's own keys cannot be told from typos: say what is missing first.
        if robustMethods.isEmpty, let method = try reader.string("robust_method") {
            throw reader.error(
                at: "robust_method",
                "robust_method '\(method)' needs the robust-training methods passed as robustMethods (Toolkit.standard in the Evaluation module has Gauntlet's)"
            )
        }
        switch name {
        case "dqn":
            try reader.requireKnown(
                Self.runKeys + DQNConfig.hyperparameters.map(\.key) + RobustTrainingConfig.keys(methods: robustMethods))
            var config = try DQNConfig(reader)
            config.robust = try RobustTrainingConfig(reader, algorithm: name, methods: robustMethods)
            algorithm = .dqn(config)
        case "ppo":
            try reader.requireKnown(
                Self.runKeys + PPOConfig.hyperparameters.map(\.key) + RobustTrainingConfig.keys(methods: robustMethods))
            var config = try PPOConfig(reader)
            config.robust = try RobustTrainingConfig(reader, algorithm: name, methods: robustMethods)
            algorithm = .ppo(config)
        case "td3", "ddpg":
            try reader.requireKnown(
                Self.runKeys + TD3Config.hyperparameters.map(\.key) + RobustTrainingConfig.keys(methods: robustMethods))
            var config = try TD3Config(reader, ddpg: name == "ddpg")
            config.robust = try RobustTrainingConfig(reader, algorithm: name, methods: robustMethods)
            algorithm = .td3(config)
        case "sac":
            try reader.requireKnown(
                Self.runKeys + SACConfig.hyperparameters.map(\.key) + RobustTrainingConfig.keys(methods: robustMethods))
            var config = try SACConfig(reader)
            config.robust = try RobustTrainingConfig(reader, algorithm: name, methods: robustMethods)
            algorithm = .sac(config)
        default:
            throw ConfigError("\(file): unknown algorithm '\(name)' (expected dqn, ppo, td3, ddpg or sac)")
        }
        var all: [String: JSONValue] = [
            "env": .string(environment), "algorithm": .string(name), "seed": .number(Double(seed)),
            "checkpoint_interval": .number(Double(checkpointInterval)), "log_interval": .number(Double(logInterval)),
        ]
        func record<Config>(_ parameters: [Hyperparameter<Config>], of config: Config) {
            for parameter in parameters { if let value = parameter.value(config) { all[parameter.key] = value } }
        }
        switch algorithm {
        case .dqn(let config): record(DQNConfig.hyperparameters, of: config)
        case .ppo(let config): record(PPOConfig.hyperparameters, of: config)
        case .td3(let config): record(TD3Config.hyperparameters, of: config)
        case .sac(let config): record(SACConfig.hyperparameters, of: config)
        }
        if let robust = algorithm.robust {
            record(RobustTrainingConfig.hyperparameters, of: robust)
            record(robustMethods.first { $0.name == robust.method }?.options ?? [], of: robust)
        }
        settings = all.merging(reader.json) { _, given in given }
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

    /// Every key a config may hold, per algorithm, with its default, accepted values and meaning
    /// (`gauntlet train --help`), then the robust-training keys and `methods`.
    public static func help(methods: [RobustTrainingMethod]) -> String {
        let robustDefaults = RobustTrainingConfig(method: "", epsilon: 0)
        return """
            Every config: env (an environment id), algorithm (dqn, ppo, td3, ddpg or sac), seed = 0, \
            checkpoint_interval = 10000 and log_interval = 1000 (environment steps).

            dqn:
            \(DQNConfig.hyperparameters.help(defaults: DQNConfig()))

            ppo:
            \(PPOConfig.hyperparameters.help(defaults: PPOConfig()))

            td3 (ddpg takes the same keys; its defaults differ where DDPG's do):
            \(TD3Config.hyperparameters.help(defaults: TD3Config()))

            sac:
            \(SACConfig.hyperparameters.help(defaults: SACConfig()))

            robust training, with robust_method one of:
            \(methods.map { "  \($0.name): \($0.summary) (\($0.learners.joined(separator: ", ")))" }.joined(separator: "\n"))
            keys of every method:
            \(RobustTrainingConfig.hyperparameters.filter { $0.key != "robust_method" }.help(defaults: robustDefaults))
            \(methods.filter { !$0.options.isEmpty }.map { "keys of \($0.name):\n" + $0.options.help(defaults: robustDefaults) }.joined(separator: "\n"))
            """
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
    /// `net_arch` as JSON.
    var networkArchitecture: JSONValue { get }
}

extension SharedHyperparameters {
    static var sharedHyperparameters: [Hyperparameter<Self>] {
        [
            .int("n_timesteps", \.totalSteps, in: 1...1_000_000_000, "environment steps of training"),
            Hyperparameter(
                key: "net_arch", summary: "widths of the hidden layers", accepted: "a list of widths",
                read: { r, config throws(ConfigError) in try config.readNetworkArchitecture(r) },
                value: { $0.networkArchitecture }),
            Hyperparameter(
                key: "activation", summary: "activation between the layers",
                accepted: "relu, tanh, leaky_relu[:slope] or identity",
                read: { r, config throws(ConfigError) in
                    guard let name = try r.string("activation") else { return }
                    guard Activation(name: name) != nil else {
                        throw r.error(
                            at: "activation", "'activation' must be relu, tanh, leaky_relu[:slope] or identity, got '\(name)'")
                    }
                    config.activation = name
                }, value: { .string($0.activation) }),
            .int("n_envs", \.environments, in: 1...1024, "vectorised environment copies"),
        ]
    }

    mutating func readNetworkArchitecture(_ r: ConfigReader) throws(ConfigError) {
        hidden = try r.intList("net_arch") ?? hidden
    }

    var networkArchitecture: JSONValue { .array(hidden.map { .number(Double($0)) }) }
}

extension DQNConfig: SharedHyperparameters {}
extension TD3Config: SharedHyperparameters {}

extension PPOConfig: SharedHyperparameters {
    /// `net_arch` as a list for actor and critic alike, or SB3's `{pi: [...], vf: [...]}`.
    mutating func readNetworkArchitecture(_ r: ConfigReader) throws(ConfigError) {
        guard let parts = try r.intLists("net_arch", parts: ["pi", "vf"]) else { return }
        hidden = parts["pi"]!
        criticHidden = parts["vf"]! == hidden ? nil : parts["vf"]!
    }

    var networkArchitecture: JSONValue {
        func widths(_ sizes: [Int]) -> JSONValue { .array(sizes.map { .number(Double($0)) }) }
        guard let criticHidden else { return widths(hidden) }
        return .object(["pi": widths(hidden), "vf": widths(criticHidden)])
    }
}

extension DQNConfig {
    /// DQN's hyperparameters, with SB3's meanings.
    public static let hyperparameters: [Hyperparameter<DQNConfig>] =
        sharedHyperparameters + [
            Hyperparameter(
                key: "features", summary: "a convolutional front end before net_arch, for image observations",
                accepted: FeatureExtractor.allCases.map(\.rawValue).joined(separator: " or "),
                read: { r, config throws(ConfigError) in
                    guard let name = try r.string("features") else { return }
                    guard let features = FeatureExtractor(rawValue: name) else {
                        throw r.error(
                            at: "features",
                            "'features' must be \(FeatureExtractor.allCases.map(\.rawValue).joined(separator: " or ")), got '\(name)'"
                        )
                    }
                    config.features = features
                }, value: { $0.features.map { .string($0.rawValue) } }),
            .double("learning_rate", \.learningRate, in: 0...10, "the optimiser's step size"),
            .string(
                "optimizer", \.optimizer, options: ["adam", "rmsprop", "centered_rmsprop"],
                "PyTorch's Adam (SB3's DQN) or RMSprop, plain or centred (the MinAtar paper's DQN)"
            ).recorded(when: { $0.optimizer != "adam" }),
            .double("rmsprop_alpha", \.rmspropAlpha, in: 0...1, "RMSProp's smoothing constant α").recorded(when: {
                $0.optimizer != "adam"
            }),
            .double("rmsprop_momentum", \.rmspropMomentum, in: 0...1, "RMSProp's momentum (0: none)").recorded(when: {
                $0.optimizer != "adam"
            }),
            .double("optimizer_eps", \.optimizerEpsilon, in: 0...1, "ε in the optimiser's denominator").recorded(when: {
                $0.optimizer != "adam" || $0.optimizerEpsilon != DQNConfig().optimizerEpsilon
            }),
            .int("buffer_size", \.bufferSize, in: 1...100_000_000, "replay buffer capacity"),
            .int("learning_starts", \.learningStarts, in: 0...Int.max, "environment steps of random actions before learning"),
            .int("batch_size", \.batchSize, in: 1...1_000_000, "minibatch size"),
            .double("tau", \.tau, in: 0...1, "Polyak coefficient of the target update (1: copy)"),
            .double("gamma", \.gamma, in: 0...1, "discount factor"),
            .int("train_freq", \.trainFrequency, in: 1...1_000_000, "environment steps between training phases"),
            .int(
                "gradient_steps", \.gradientSteps, in: -1...1_000_000, "gradient steps per phase (−1: as many as steps collected)"
            ),
            .int("target_update_interval", \.targetUpdateInterval, in: 1...Int.max, "environment steps between target updates"),
            .double("exploration_fraction", \.explorationFraction, in: 1e-9...1, "share of training over which ε-greedy decays"),
            .double("exploration_initial_eps", \.explorationInitialEpsilon, in: 0...1, "initial ε of ε-greedy"),
            .double("exploration_final_eps", \.explorationFinalEpsilon, in: 0...1, "final ε of ε-greedy"),
            .double("max_grad_norm", \.maxGradNorm, in: 0...1e9, "gradient clipping by global norm (0: none)"),
            .bool("double_dqn", \.doubleDQN, "Double DQN targets (van Hasselt et al. 2016)"),
            .optionalString(
                "init_policy", \.initialPolicy, accepted: "a policy file's path",
                "start from this DQN policy's Q-network (same modules) instead of random weights"),
        ]

    init(_ r: ConfigReader) throws(ConfigError) {
        self.init()
        try Self.hyperparameters.read(r, into: &self)
    }
}

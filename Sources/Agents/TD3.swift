import Environments
import Linalg
import NeuralNet

/// Twin Delayed DDPG (Fujimoto et al. 2018, "Addressing function approximation error in
/// actor-critic methods") for continuous actions, following Stable-Baselines3's `TD3`: twin
/// critics with the smaller target value, target policy smoothing (clipped Gaussian noise on the
/// target action), and actor and target updates every `policyDelay` critic updates. DDPG
/// (Lillicrap et al. 2016) is the configuration with one critic, no delay and no smoothing —
/// the base of SA-DDPG. Actions live in [−1, 1] inside the learner (a tanh actor) and are mapped
/// onto the environment's bounds.
public struct TD3Config: Equatable, Sendable, Codable {
    public enum Noise: Equatable, Sendable, Codable {
        case none
        /// Independent Gaussian noise with this standard deviation, in the [−1, 1] action scale.
        case normal(Double)
        /// Ornstein–Uhlenbeck noise with this σ (θ = 0.15, dt = 0.01, reset every episode), as SB3.
        case ornsteinUhlenbeck(Double)
    }

    public var totalSteps = 1_000_000
    public var environments = 1
    public var hidden = [400, 300]
    public var activation = "relu"
    public var learningRate = 1e-3
    public var bufferSize = 1_000_000
    public var learningStarts = 100
    public var batchSize = 256
    public var tau = 0.005
    public var gamma = 0.99
    /// Steps (or, with `trainPerEpisode`, episodes) between training phases.
    public var trainFrequency = 1
    public var trainPerEpisode = false
    /// Gradient steps per phase; −1 takes as many as environment steps were collected.
    public var gradientSteps = 1
    public var policyDelay = 2
    public var targetPolicyNoise = 0.2
    public var targetNoiseClip = 0.5
    public var twinCritics = true
    public var actionNoise = Noise.none
    /// Robust training of the actor, or nil: `sa` adds SA-DDPG's regulariser (the largest
    /// squared change of the action inside the ε-ball, found by PGD); `adversarial` trains the
    /// actor to maximise Q(s, π(s̃)) with a share of the states s̃ attacked (`robust_attack`).
    public var robust: RobustTrainingConfig?

    public init() {}

    /// DDPG's settings: one critic, no policy delay, no target smoothing.
    public mutating func makeDDPG() {
        twinCritics = false
        policyDelay = 1
        targetPolicyNoise = 0
        targetNoiseClip = 0
    }
}

public final class TD3<Scalar: BLASScalar>: Learner {
    public let config: TD3Config
    public let environment: VectorEnvironment
    public private(set) var actor: Sequential<Scalar>
    public private(set) var actorTarget: Sequential<Scalar>
    public private(set) var critics: [Sequential<Scalar>]
    public private(set) var criticTargets: [Sequential<Scalar>]
    var actorAdam: Adam<Scalar>
    var criticAdams: [Adam<Scalar>]
    var buffer: ReplayBuffer
    let explorationRandom: RandomStream
    let minibatchRandom: RandomStream
    /// Ornstein–Uhlenbeck state per copy and action dimension.
    var noiseState: [[Double]]
    public private(set) var steps = 0
    public private(set) var updates = 0
    public private(set) var diagnostics: [String: Double] = [:]
    public var totalSteps: Int { config.totalSteps }
    let box: BoxSpace
    /// The robust-training method, when configured.
    let robust: (any RobustTraining)?

    public init(config: TD3Config, environment id: String, seed: UInt64, components: TrainingComponents = TrainingComponents())
        throws(TrainingError)
    {
        guard config.batchSize > 0, config.bufferSize > 0, config.trainFrequency > 0, config.policyDelay > 0,
            config.environments > 0, config.totalSteps > 0
        else { throw TrainingError("TD3: sizes, frequencies and step counts must be positive") }
        let (environment, box, activation) = try continuousControlSetUp(
            "TD3/DDPG", environment: id, copies: config.environments, activation: config.activation,
            registry: components.environments)
        self.environment = environment
        self.config = config
        self.box = box
        let root = RandomStream(seed: seed)
        let d = environment.observationDimension
        let k = box.dimension
        do {
            actor = try Sequential.mlp(
                sizes: [d] + config.hidden + [k], activation: activation, outputActivation: .tanh, random: root.child("actor"))
            critics = try (0..<(config.twinCritics ? 2 : 1)).map { i throws(NetworkError) in
                try Sequential.mlp(
                    sizes: [d + k] + config.hidden + [1], activation: activation, random: root.child("critic").child(i))
            }
        } catch { throw TrainingError(error.description) }
        actorTarget = actor
        criticTargets = critics
        actorAdam = Adam(parameterCount: actor.parameterCount, learningRate: config.learningRate)
        criticAdams = critics.map { Adam(parameterCount: $0.parameterCount, learningRate: config.learningRate) }
        buffer = ReplayBuffer(
            capacity: min(config.bufferSize, config.totalSteps + config.environments), observationDimension: d, actionDimension: k
        )
        explorationRandom = root.child("exploration")
        minibatchRandom = root.child("minibatch")
        noiseState = Array(repeating: Array(repeating: 0, count: k), count: config.environments)
        robust = try components.makeRobustTraining(
            config.robust, environment: id, copies: environment, root: root, ppo: nil, seed: seed, precision: Scalar.self)
        environment.reset(seed: seed)
    }

    public func policy() -> Policy<Scalar> {
        Policy(network: actor, kind: .deterministic, actionSpace: .box(box), critic: critics[0], criticTakesAction: true)
    }

    // MARK: - Collection

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func advance() throws(TrainingError) {
        let n = config.environments
        let k = box.dimension
        var collected = 0
        var episodes = 0
        while steps < config.totalSteps
            && (config.trainPerEpisode ? episodes < config.trainFrequency : collected < config.trainFrequency)
        {
            let observations = environment.observations
            var scaled: [[Double]]
            if steps < config.learningStarts {
                scaled = (0..<n).map { _ in (0..<k).map { _ in explorationRandom.uniform(-1, 1) } }
            } else {
                let outputs = actor(observations.converted(to: Scalar.self))
                scaled = (0..<n).map { i in
                    (0..<k).map { j in
                        var value = Double(outputs[i, j])
                        switch config.actionNoise {
                        case .none: break
                        case .normal(let sigma): value += sigma * explorationRandom.normal()
                        case .ornsteinUhlenbeck(let sigma):
                            let theta = 0.15
                            let dt = 1e-2
                            noiseState[i][j] +=
                                theta * (0 - noiseState[i][j]) * dt + sigma * dt.squareRoot() * explorationRandom.normal()
                            value += noiseState[i][j]
                        }
                        return min(max(value, -1), 1)
                    }
                }
            }
            try environment.stepForTraining(scaled.map { .continuous(box.unsquash($0).map(Float.init)) })
            buffer.add(step: environment, from: observations, actions: scaled.map { $0.map(Float.init) })
            for i in 0..<n {
                if environment.terminated[i] || environment.truncated[i] {
                    episodes += 1
                    noiseState[i] = Array(repeating: 0, count: k)
                }
            }
            steps += n
            collected += 1
        }
        if steps > config.learningStarts {
            let gradientSteps = config.gradientSteps >= 0 ? config.gradientSteps : collected
            var criticLoss = 0.0
            var actorLoss = 0.0
            var actorUpdates = 0
            for _ in 0..<gradientSteps {
                let losses = try gradientStep()
                criticLoss += losses.critic
                if let a = losses.actor {
                    actorLoss += a
                    actorUpdates += 1
                }
            }
            if gradientSteps > 0 { diagnostics["losses/critic_loss"] = criticLoss / Double(gradientSteps) }
            if actorUpdates > 0 { diagnostics["losses/actor_loss"] = actorLoss / Double(actorUpdates) }
        }
    }

    // MARK: - Updates

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func gradientStep() throws(TrainingError) -> (critic: Double, actor: Double?) {
        updates += 1
        let batch: ReplayBuffer.Batch<Scalar> = buffer.sample(config.batchSize, random: minibatchRandom)
        let b = config.batchSize
        let k = box.dimension

        // Target: r + γ (1 − terminated) min_i Q_i′(s′, clip(π′(s′) + clip(ε, −c, c), −1, 1)).
        var nextActions = actorTarget(batch.nextObservations)
        for i in 0..<nextActions.storage.count {
            let noise = min(
                max(config.targetPolicyNoise * minibatchRandom.normal(), -config.targetNoiseClip), config.targetNoiseClip)
            nextActions.storage[i] = min(max(nextActions.storage[i] + Scalar(noise), -1), 1)
        }
        let nextInput = batch.nextObservations.appendingColumns(nextActions)
        let nextQ = criticTargets.map { $0(nextInput) }
        var targets = Matrix<Scalar>(rows: b, columns: 1)
        for r in 0..<b {
            let smallest = nextQ.map { $0[r, 0] }.min()!
            targets[r, 0] = batch.rewards[r] + (1 - batch.terminated[r]) * Scalar(config.gamma) * smallest
        }

        // Critics: Σ_i MSE(Q_i(s, a), target).
        let input = batch.observations.appendingColumns(batch.actions)
        var criticLoss = 0.0
        for i in critics.indices {
            let workspace = Workspace(for: critics[i], batch: b)
            let q = critics[i].forward(input, workspace: workspace)
            let loss = Loss.meanSquaredError(q, targets)
            criticLoss += Double(loss.value)
            var gradient = [Scalar](repeating: 0, count: critics[i].parameterCount)
            critics[i].backward(
                outputGradient: loss.gradient, workspace: workspace, parameterGradient: &gradient, request: .parameters)
            criticAdams[i].update(&critics[i].parameters, gradient: gradient)
            try checkFinite(critics[i].parameters, "critic parameters", step: steps)
        }
        guard updates % config.policyDelay == 0 else { return (criticLoss, nil) }

        // Actor: −mean Q₁(s, π(s̃)), through the critic's input gradient to the action; s̃ = s
        // unless adversarial training replaces some states by attacked observations of them, so
        // the actor learns the action that is best for the true state from what it is shown.
        let progress = Double(steps) / Double(config.totalSteps)
        let actorInputs = robust?.perturb(batch.observations, policy: policy(), progress: progress) ?? batch.observations
        let actorWorkspace = Workspace(for: actor, batch: b)
        let actions = actor.forward(actorInputs, workspace: actorWorkspace)
        let criticInput = batch.observations.appendingColumns(actions)
        let criticWorkspace = Workspace(for: critics[0], batch: b)
        let q = critics[0].forward(criticInput, workspace: criticWorkspace)
        var none: [Scalar] = []
        let dInput = critics[0].backward(
            outputGradient: Matrix(rows: b, columns: 1, repeating: -1 / Scalar(b)), workspace: criticWorkspace,
            parameterGradient: &none, request: .input)!
        var dActions = Matrix<Scalar>(rows: b, columns: k)
        let d = environment.observationDimension
        for r in 0..<b { for j in 0..<k { dActions[r, j] = dInput[r, d + j] } }
        var actorGradient = [Scalar](repeating: 0, count: actor.parameterCount)
        actor.backward(
            outputGradient: dActions, workspace: actorWorkspace, parameterGradient: &actorGradient, request: .parameters)
        if let robust {
            var noLogStd: [Scalar] = []
            for (key, value) in robust.regularize(
                batch.observations, policy: policy(), progress: progress, parameterGradient: &actorGradient,
                logStdGradient: &noLogStd)
            {
                diagnostics[key] = value
            }
        }
        actorAdam.update(&actor.parameters, gradient: actorGradient)
        try checkFinite(actor.parameters, "actor parameters", step: steps)
        for i in critics.indices { polyakUpdate(&criticTargets[i].parameters, toward: critics[i].parameters, tau: config.tau) }
        polyakUpdate(&actorTarget.parameters, toward: actor.parameters, tau: config.tau)
        return (criticLoss, -Double(q.storage.reduce(0, +)) / Double(b))
    }

    // MARK: - Checkpoints

    struct State: Codable {
        var steps: Int
        var updates: Int
        var noiseState: [[Double]]
        var environment: VectorEnvironment.Snapshot
    }

    public func writeCheckpoint(to checkpoint: inout CheckpointWriter) {
        checkpoint.put("actor", scalars: actor.parameters)
        checkpoint.put("actor_target", scalars: actorTarget.parameters)
        for i in critics.indices {
            checkpoint.put("critic\(i)", scalars: critics[i].parameters)
            checkpoint.put("critic\(i)_target", scalars: criticTargets[i].parameters)
            checkpoint.put("adam.critic\(i)", adam: criticAdams[i])
        }
        checkpoint.put("adam.actor", adam: actorAdam)
        buffer.write(to: &checkpoint, prefix: "buffer")
        checkpoint.put("random.exploration", random: explorationRandom)
        checkpoint.put("random.minibatch", random: minibatchRandom)
        robust?.writeCheckpoint(to: &checkpoint)
        checkpoint.putJSON(
            "td3", State(steps: steps, updates: updates, noiseState: noiseState, environment: environment.snapshot))
    }

    public convenience init(
        config: TD3Config, environment id: String, seed: UInt64, components: TrainingComponents = TrainingComponents(),
        resuming checkpoint: CheckpointReader
    ) throws(TrainingError) {
        try self.init(config: config, environment: id, seed: seed, components: components)
        try restoring {
            actor.parameters = try checkpoint.scalars("actor", count: actor.parameterCount)
            actorTarget.parameters = try checkpoint.scalars("actor_target", count: actor.parameterCount)
            for i in critics.indices {
                critics[i].parameters = try checkpoint.scalars("critic\(i)", count: critics[i].parameterCount)
                criticTargets[i].parameters = try checkpoint.scalars("critic\(i)_target", count: critics[i].parameterCount)
                try checkpoint.restore(&criticAdams[i], "adam.critic\(i)")
            }
            try checkpoint.restore(&actorAdam, "adam.actor")
            try buffer.read(from: checkpoint, prefix: "buffer")
            try checkpoint.restore(explorationRandom, "random.exploration")
            try checkpoint.restore(minibatchRandom, "random.minibatch")
            try robust?.restore(from: checkpoint)
            let state = try checkpoint.json("td3", as: State.self)
            (steps, updates, noiseState) = (state.steps, state.updates, state.noiseState)
            try environment.restore(state.environment)
        }
    }
}

extension TD3Config {
    /// TD3's (and DDPG's) hyperparameters, with SB3's meanings.
    public static let hyperparameters: [Hyperparameter<TD3Config>] =
        sharedHyperparameters + [
            .double("learning_rate", \.learningRate, in: 0...10, "Adam step size of actor and critics"),
            .int("buffer_size", \.bufferSize, in: 1...100_000_000, "replay buffer capacity"),
            .int("learning_starts", \.learningStarts, in: 0...Int.max, "environment steps of random actions before learning"),
            .int("batch_size", \.batchSize, in: 1...1_000_000, "minibatch size"),
            .double("tau", \.tau, in: 0...1, "Polyak coefficient of the target updates"),
            .double("gamma", \.gamma, in: 0...1, "discount factor"),
            Hyperparameter(
                key: "train_freq", summary: "environment steps between training phases, or episode",
                accepted: "integer in 1...1000000 or episode",
                read: { r, config throws(ConfigError) in
                    if r.has("train_freq"), let unit = try? r.string("train_freq"), unit == "episode" {
                        (config.trainFrequency, config.trainPerEpisode) = (1, true)
                    } else {
                        config.trainFrequency = try r.int("train_freq", in: 1...1_000_000) ?? config.trainFrequency
                    }
                },
                value: { $0.trainPerEpisode && $0.trainFrequency == 1 ? .string("episode") : .number(Double($0.trainFrequency)) }),
            .int(
                "gradient_steps", \.gradientSteps, in: -1...1_000_000, "gradient steps per phase (−1: as many as steps collected)"
            ),
            .int("policy_delay", \.policyDelay, in: 1...1_000, "critic updates per actor update"),
            .double("target_policy_noise", \.targetPolicyNoise, in: 0...10, "noise on the target action (TD3's smoothing)"),
            .double("target_noise_clip", \.targetNoiseClip, in: 0...10, "clip of the target action noise"),
            Hyperparameter(
                key: "noise_type", summary: "exploration noise (noise_std alone means normal)",
                accepted: "normal or ornstein-uhlenbeck",
                read: { r, config throws(ConfigError) in
                    let sigma = try r.double("noise_std", in: 0...10)
                    switch try r.string("noise_type") {
                    case nil: config.actionNoise = sigma.map { .normal($0) } ?? .none
                    case "normal": config.actionNoise = .normal(sigma ?? 0.1)
                    case "ornstein-uhlenbeck": config.actionNoise = .ornsteinUhlenbeck(sigma ?? 0.5)
                    case let other?:
                        throw r.error(at: "noise_type", "'noise_type' must be normal or ornstein-uhlenbeck, got '\(other)'")
                    }
                },
                value: { config in
                    switch config.actionNoise {
                    case .none: nil
                    case .normal: .string("normal")
                    case .ornsteinUhlenbeck: .string("ornstein-uhlenbeck")
                    }
                }),
            Hyperparameter(
                key: "noise_std", summary: "standard deviation of the exploration noise (read with noise_type)",
                accepted: "number in [0, 10]",
                read: { _, _ in },
                value: { config in
                    switch config.actionNoise {
                    case .none: nil
                    case .normal(let sigma), .ornsteinUhlenbeck(let sigma): .number(sigma)
                    }
                }),
        ]

    init(_ r: ConfigReader, ddpg: Bool) throws(ConfigError) {
        self.init()
        if ddpg { makeDDPG() }
        try Self.hyperparameters.read(r, into: &self)
    }
}

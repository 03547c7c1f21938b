import Environments
import Foundation
import Linalg
import NeuralNet

/// Deep Q-learning (Mnih et al. 2015, "Human-level control through deep reinforcement
/// learning"), with Double DQN as an option (van Hasselt et al. 2016). The loop, its defaults
/// and its bookkeeping follow Stable-Baselines3's `DQN`, so rl-zoo hyperparameters mean the same
/// here: ε-greedy exploration on a linear schedule, uniform random actions before
/// `learningStarts`, `gradientSteps` updates after every `trainFrequency` steps, a Huber loss,
/// gradient clipping by global norm, Adam, and a target network refreshed every
/// `targetUpdateInterval` steps (Polyak with τ, a copy at τ = 1). MinAtar's DQN (Young & Tian
/// 2019) is the same loop with centred RMSProp and no clipping.
public struct DQNConfig: Equatable, Sendable, Codable {
    public var totalSteps = 50_000
    /// Vectorised environment copies.
    public var environments = 1
    public var hidden = [64, 64]
    public var activation = "relu"
    /// A convolutional front end before the hidden layers, for image observations.
    public var features: FeatureExtractor?
    public var learningRate = 1e-4
    /// `adam` (SB3's), `rmsprop`, or `centered_rmsprop` (the MinAtar paper's), as PyTorch's optimisers.
    public var optimizer = "adam"
    /// RMSProp's smoothing constant α.
    public var rmspropAlpha = 0.99
    /// RMSProp's momentum (0: none).
    public var rmspropMomentum = 0.0
    /// The optimiser's ε, added to the square root in the update's denominator.
    public var optimizerEpsilon = 1e-8
    public var bufferSize = 1_000_000
    /// Environment steps of uniformly random actions before learning starts.
    public var learningStarts = 100
    public var batchSize = 32
    /// Polyak coefficient of the target update (1: hard copy).
    public var tau = 1.0
    public var gamma = 0.99
    /// Environment steps between training phases.
    public var trainFrequency = 4
    /// Gradient steps per training phase; −1 takes as many as environment steps were collected.
    public var gradientSteps = 1
    /// Environment steps between target updates.
    public var targetUpdateInterval = 10_000
    /// Fraction of training over which ε falls from its initial to its final value.
    public var explorationFraction = 0.1
    public var explorationInitialEpsilon = 1.0
    public var explorationFinalEpsilon = 0.05
    /// The largest global gradient norm; 0: no clipping.
    public var maxGradNorm = 10.0
    public var doubleDQN = false
    /// A policy file whose Q-network the run starts from (online and target) instead of a
    /// random initialisation — how RADIAL-DQN and its successors fine-tune a natural DQN. Its
    /// network must have exactly this config's modules; the path is relative to the working
    /// directory and read when the run starts (a resumed run takes its weights from the checkpoint).
    public var initialPolicy: String?
    /// Robust training (adversarial training, SA-DQN, RADIAL), if any.
    public var robust: RobustTrainingConfig?

    public init() {}
}

public final class DQN<Scalar: BLASScalar>: Learner {
    public let config: DQNConfig
    public let environment: VectorEnvironment
    public private(set) var online: Sequential<Scalar>
    public private(set) var target: Sequential<Scalar>
    /// The optimiser the config names (exactly one is set).
    var adam: Adam<Scalar>?
    var rmsprop: RMSProp<Scalar>?
    var buffer: ReplayBuffer
    /// ε-greedy and warm-up actions.
    let explorationRandom: RandomStream
    /// Minibatch indices.
    let minibatchRandom: RandomStream
    public private(set) var steps = 0
    public private(set) var updates = 0
    public private(set) var diagnostics: [String: Double] = [:]
    public var totalSteps: Int { config.totalSteps }
    private var exploration: Schedule {
        .linear(
            start: config.explorationInitialEpsilon, end: config.explorationFinalEpsilon, fraction: config.explorationFraction)
    }
    private let onlineWorkspace: Workspace<Scalar>
    private let targetWorkspace: Workspace<Scalar>
    private let actingWorkspace: Workspace<Scalar>
    /// The robust-training method, when configured.
    let robust: (any RobustTraining)?

    /// A fresh learner on environment `id`; `seed` derives every random stream and the
    /// environment seeds (copy i resets with seed + i). `components` make the environment and
    /// the robust-training method the config names.
    public convenience init(
        config: DQNConfig, environment id: String, seed: UInt64, components: TrainingComponents = TrainingComponents()
    ) throws(TrainingError) {
        try self.init(config: config, environment: id, seed: seed, components: components, readingInitialPolicy: true)
    }

    private init(
        config: DQNConfig, environment id: String, seed: UInt64, components: TrainingComponents, readingInitialPolicy: Bool
    ) throws(TrainingError) {
        guard config.batchSize > 0, config.bufferSize > 0, config.trainFrequency > 0, config.gradientSteps >= -1,
            config.environments > 0, config.totalSteps > 0, config.targetUpdateInterval > 0
        else { throw TrainingError("DQN: sizes, frequencies and step counts must be positive") }
        do {
            environment = try VectorEnvironment(
                id: id, count: config.environments, autoresetMode: .sameStep, registry: components.environments)
        } catch {
            throw TrainingError(error.description)
        }
        guard let actionCount = environment.environments[0].base.actionSpace.actionCount else {
            throw TrainingError(
                "DQN needs a discrete action space; \(id) has \(environment.environments[0].base.actionSpace.description)")
        }
        guard let activation = Activation(name: config.activation) else {
            throw TrainingError("unknown activation '\(config.activation)'")
        }
        self.config = config
        let root = RandomStream(seed: seed)
        do {
            online = try Sequential(
                modules: try Sequential.modules(
                    features: config.features, inputs: environment.observationDimension, hidden: config.hidden,
                    outputs: actionCount, activation: activation),
                random: root.child("network"))
        } catch { throw TrainingError(error.description) }
        if readingInitialPolicy, let path = config.initialPolicy {
            online.parameters = try initialPolicy(at: path, kind: .greedyQ, environment: id, network: online).network
                .converted(to: Scalar.self).parameters
        }
        target = online
        switch config.optimizer {
        case "adam":
            adam = Adam(
                parameterCount: online.parameterCount, learningRate: config.learningRate, epsilon: config.optimizerEpsilon)
        case "rmsprop", "centered_rmsprop":
            rmsprop = RMSProp(
                parameterCount: online.parameterCount, learningRate: config.learningRate, alpha: config.rmspropAlpha,
                epsilon: config.optimizerEpsilon, centered: config.optimizer == "centered_rmsprop",
                momentum: config.rmspropMomentum)
        default: throw TrainingError("DQN: unknown optimizer '\(config.optimizer)' (adam, rmsprop or centered_rmsprop)")
        }
        buffer = ReplayBuffer(
            capacity: min(config.bufferSize, config.totalSteps + config.environments),
            observationDimension: environment.observationDimension, actionDimension: 1)
        explorationRandom = root.child("exploration")
        minibatchRandom = root.child("minibatch")
        onlineWorkspace = Workspace(for: online, batch: config.batchSize)
        targetWorkspace = Workspace(for: online, batch: config.batchSize)
        actingWorkspace = Workspace(for: online, batch: config.environments)
        robust = try components.makeRobustTraining(
            config.robust, environment: id, copies: environment, root: root, ppo: nil, seed: seed, precision: Scalar.self)
        environment.reset(seed: seed)
    }

    public func policy() -> Policy<Scalar> {
        Policy(network: online, kind: .greedyQ, actionSpace: environment.environments[0].base.actionSpace)
    }

    // MARK: - Collection and training

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func advance() throws(TrainingError) {
        let actionCount = online.outputDimensions
        for _ in 0..<config.trainFrequency where steps < config.totalSteps {
            let epsilon = exploration.value(atProgress: Double(steps) / Double(config.totalSteps))
            let observations = environment.observations
            var actions: [Action]
            if steps < config.learningStarts {
                actions = (0..<config.environments).map { _ in .discrete(explorationRandom.integer(below: actionCount)) }
            } else {
                let q = online.forward(observations.converted(to: Scalar.self), workspace: actingWorkspace)
                actions = (0..<config.environments).map { i in
                    explorationRandom.uniform() < epsilon
                        ? .discrete(explorationRandom.integer(below: actionCount)) : .discrete(argmax(q.row(i)))
                }
            }
            try environment.stepForTraining(actions)
            buffer.add(
                step: environment, from: observations,
                actions: actions.map { action in
                    guard case .discrete(let a) = action else { preconditionFailure("DQN takes discrete actions") }
                    return [Float(a)]
                })
            steps += config.environments
            if (steps / config.environments) % max(config.targetUpdateInterval / config.environments, 1) == 0 {
                polyakUpdate(&target.parameters, toward: online.parameters, tau: config.tau)
            }
        }
        if steps > config.learningStarts {
            let gradientSteps = config.gradientSteps >= 0 ? config.gradientSteps : config.trainFrequency * config.environments
            var totalLoss = 0.0
            for _ in 0..<gradientSteps { totalLoss += try gradientStep() }
            if gradientSteps > 0 { diagnostics["losses/td_loss"] = totalLoss / Double(gradientSteps) }
        }
        diagnostics["rollout/exploration_rate"] = exploration.value(atProgress: Double(steps) / Double(config.totalSteps))
    }

    /// One minibatch update of `Huber(Q(s, a), r + γ (1 − terminated) max_a′ Q_target(s′, a′))`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func gradientStep() throws(TrainingError) -> Double {
        let batch: ReplayBuffer.Batch<Scalar> = buffer.sample(config.batchSize, random: minibatchRandom)
        let nextQ = target.forward(batch.nextObservations, workspace: targetWorkspace)
        var nextValues = [Scalar](repeating: 0, count: config.batchSize)
        if config.doubleDQN {
            let nextOnline = online.forward(batch.nextObservations, workspace: onlineWorkspace)
            for b in 0..<config.batchSize { nextValues[b] = nextQ[b, argmax(nextOnline.row(b))] }
        } else {
            for b in 0..<config.batchSize { nextValues[b] = nextQ.row(b).max()! }
        }
        let progress = Double(steps) / Double(config.totalSteps)
        let states = robust?.perturb(batch.observations, policy: policy(), progress: progress) ?? batch.observations
        let q = online.forward(states, workspace: onlineWorkspace)
        var chosen = Matrix<Scalar>(rows: config.batchSize, columns: 1)
        var targets = Matrix<Scalar>(rows: config.batchSize, columns: 1)
        for b in 0..<config.batchSize {
            chosen[b, 0] = q[b, Int(batch.actions[b, 0])]
            targets[b, 0] = batch.rewards[b] + (1 - batch.terminated[b]) * Scalar(config.gamma) * nextValues[b]
        }
        let loss = Loss.huber(chosen, targets)
        var outputGradient = Matrix<Scalar>(rows: config.batchSize, columns: q.columns)
        for b in 0..<config.batchSize { outputGradient[b, Int(batch.actions[b, 0])] = loss.gradient[b, 0] }
        var gradient = [Scalar](repeating: 0, count: online.parameterCount)
        online.backward(
            outputGradient: outputGradient, workspace: onlineWorkspace, parameterGradient: &gradient, request: .parameters)
        try checkFinite([loss.value], "DQN loss", step: steps)
        if let robust {
            var noLogStd: [Scalar] = []
            for (key, value) in robust.regularize(
                batch.observations, policy: policy(), progress: progress, parameterGradient: &gradient,
                logStdGradient: &noLogStd)
            {
                diagnostics[key] = value
            }
        }
        if config.maxGradNorm > 0 { clipGradientNorm(&gradient, maximumNorm: config.maxGradNorm) }
        if rmsprop != nil {
            rmsprop!.update(&online.parameters, gradient: gradient)
        } else {
            adam!.update(&online.parameters, gradient: gradient)
        }
        try checkFinite(online.parameters, "DQN parameters", step: steps)
        updates += 1
        return Double(loss.value)
    }

    // MARK: - Checkpoints

    struct State: Codable {
        var steps: Int
        var updates: Int
        var environment: VectorEnvironment.Snapshot
    }

    public func writeCheckpoint(to checkpoint: inout CheckpointWriter) {
        checkpoint.put("online", scalars: online.parameters)
        checkpoint.put("target", scalars: target.parameters)
        if let adam { checkpoint.put("adam", adam: adam) }
        if let rmsprop { checkpoint.put("rmsprop", rmsprop: rmsprop) }
        buffer.write(to: &checkpoint, prefix: "buffer")
        checkpoint.put("random.exploration", random: explorationRandom)
        checkpoint.put("random.minibatch", random: minibatchRandom)
        robust?.writeCheckpoint(to: &checkpoint)
        checkpoint.putJSON("dqn", State(steps: steps, updates: updates, environment: environment.snapshot))
    }

    /// A learner continuing from a checkpoint written by `writeCheckpoint`.
    public convenience init(
        config: DQNConfig, environment id: String, seed: UInt64, components: TrainingComponents = TrainingComponents(),
        resuming checkpoint: CheckpointReader
    ) throws(TrainingError) {
        try self.init(config: config, environment: id, seed: seed, components: components, readingInitialPolicy: false)
        try restoring {
            online.parameters = try checkpoint.scalars("online", count: online.parameterCount)
            target.parameters = try checkpoint.scalars("target", count: target.parameterCount)
            if adam != nil { try checkpoint.restore(&adam!, "adam") }
            if rmsprop != nil { try checkpoint.restore(&rmsprop!, "rmsprop") }
            try buffer.read(from: checkpoint, prefix: "buffer")
            try checkpoint.restore(explorationRandom, "random.exploration")
            try checkpoint.restore(minibatchRandom, "random.minibatch")
            try robust?.restore(from: checkpoint)
            let state = try checkpoint.json("dqn", as: State.self)
            (steps, updates) = (state.steps, state.updates)
            try environment.restore(state.environment)
        }
    }
}

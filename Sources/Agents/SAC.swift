import Environments
import Foundation
import Linalg
import NeuralNet

/// Soft Actor-Critic (Haarnoja et al. 2018, "Soft actor-critic algorithms and applications") for
/// continuous actions, following Stable-Baselines3's `SAC`: a tanh-squashed Gaussian actor whose
/// last layer gives the mean μ and log standard deviation log σ (clamped to [−20, 2]) of
/// `u ~ N(μ, σ²)`, the action `a = tanh(u)` in [−1, 1] (mapped onto the environment's bounds);
/// twin critics with Polyak-averaged targets; the entropy temperature α learned to keep the
/// policy's entropy near `−dim(a)`.
///
/// Per gradient step, on a minibatch (SB3's order):
/// 1. `a ~ π(·|s)` with `log π(a|s) = Σ_j [log N(u_j; μ_j, σ_j) − log(1 − a_j² + 10⁻⁶)]`;
/// 2. temperature: `L(log α) = −mean(log α · (log π(a|s) + H̄))`, one Adam step (α before it is
///    the α of this step);
/// 3. critics: `y = r + γ(1 − done)(min_i Q̄_i(s′, a′) − α log π(a′|s′))`, `a′ ~ π(·|s′)`;
///    `L = ½ Σ_i mean (Q_i(s, a_buffer) − y)²`;
/// 4. actor: `L = mean(α log π(a|s) − min_i Q_i(s, a))` through the reparameterised `a`;
/// 5. targets: `Q̄ ← τ Q + (1 − τ) Q̄` every `targetUpdateInterval` gradient steps.
public struct SACConfig: Equatable, Sendable, Codable {
    public var totalSteps = 1_000_000
    public var environments = 1
    public var hidden = [256, 256]
    public var activation = "relu"
    public var learningRate = 3e-4
    public var bufferSize = 1_000_000
    public var learningStarts = 100
    public var batchSize = 256
    public var tau = 0.005
    public var gamma = 0.99
    /// Environment steps between training phases.
    public var trainFrequency = 1
    /// Gradient steps per phase; −1 takes as many as environment steps were collected.
    public var gradientSteps = 1
    /// The initial temperature α; learned unless `learnTemperature` is false (SB3's `ent_coef`:
    /// `auto` is a learned α from 1, `auto_0.1` from 0.1, a number a fixed α).
    public var initialTemperature = 1.0
    public var learnTemperature = true
    /// The entropy the temperature aims at (nil: `−dim(a)`, SB3's `auto`).
    public var targetEntropy: Double? = nil
    public var targetUpdateInterval = 1
    /// Robust training is not implemented for SAC; the config reader refuses `robust_method`.
    public var robust: RobustTrainingConfig?

    public init() {}
}

public final class SAC<Scalar: BLASScalar>: Learner {
    public let config: SACConfig
    public let environment: VectorEnvironment
    /// The trunk and a last layer of `2·dim(a)` outputs: μ, then log σ before clamping.
    public private(set) var actor: Sequential<Scalar>
    public private(set) var critics: [Sequential<Scalar>]
    public private(set) var criticTargets: [Sequential<Scalar>]
    public private(set) var logTemperature: [Scalar]
    var actorAdam: Adam<Scalar>
    var criticAdams: [Adam<Scalar>]
    var temperatureAdam: Adam<Scalar>
    var buffer: ReplayBuffer
    let explorationRandom: RandomStream
    let minibatchRandom: RandomStream
    public private(set) var steps = 0
    public private(set) var updates = 0
    public private(set) var diagnostics: [String: Double] = [:]
    public var totalSteps: Int { config.totalSteps }
    let box: BoxSpace
    let targetEntropy: Double
    /// Reused by every gradient step (allocating them was 7% of a step): the actor at s and at
    /// s′, each critic (at the buffer's actions, then at the policy's), each target critic, and
    /// the actor acting on the copies' observations.
    let actorWorkspace: Workspace<Scalar>
    let nextActorWorkspace: Workspace<Scalar>
    let criticWorkspaces: [Workspace<Scalar>]
    let targetWorkspaces: [Workspace<Scalar>]
    let actingWorkspace: Workspace<Scalar>
    static var logStdRange: ClosedRange<Scalar> { -20...2 }
    /// SB3's ε in `log(1 − tanh(u)² + ε)`.
    static var squashEpsilon: Scalar { 1e-6 }

    public init(config: SACConfig, environment id: String, seed: UInt64, components: TrainingComponents = TrainingComponents())
        throws(TrainingError)
    {
        guard config.batchSize > 0, config.bufferSize > 0, config.trainFrequency > 0, config.targetUpdateInterval > 0,
            config.environments > 0, config.totalSteps > 0, config.initialTemperature > 0
        else { throw TrainingError("SAC: sizes, frequencies, step counts and the temperature must be positive") }
        let (environment, box, activation) = try continuousControlSetUp(
            "SAC", environment: id, copies: config.environments, activation: config.activation,
            registry: components.environments)
        self.environment = environment
        self.config = config
        self.box = box
        let root = RandomStream(seed: seed)
        let d = environment.observationDimension
        let k = box.dimension
        do {
            actor = try Sequential.mlp(sizes: [d] + config.hidden + [2 * k], activation: activation, random: root.child("actor"))
            critics = try (0..<2).map { i throws(NetworkError) in
                try Sequential.mlp(
                    sizes: [d + k] + config.hidden + [1], activation: activation, random: root.child("critic").child(i))
            }
        } catch { throw TrainingError(error.description) }
        criticTargets = critics
        actorWorkspace = Workspace(for: actor, batch: config.batchSize)
        nextActorWorkspace = Workspace(for: actor, batch: config.batchSize)
        criticWorkspaces = critics.map { Workspace(for: $0, batch: config.batchSize) }
        targetWorkspaces = critics.map { Workspace(for: $0, batch: config.batchSize) }
        actingWorkspace = Workspace(for: actor, batch: config.environments)
        logTemperature = [Scalar(Foundation.log(config.initialTemperature))]
        actorAdam = Adam(parameterCount: actor.parameterCount, learningRate: config.learningRate)
        criticAdams = critics.map { Adam(parameterCount: $0.parameterCount, learningRate: config.learningRate) }
        temperatureAdam = Adam(parameterCount: 1, learningRate: config.learningRate)
        targetEntropy = config.targetEntropy ?? -Double(k)
        buffer = ReplayBuffer(
            capacity: min(config.bufferSize, config.totalSteps + config.environments), observationDimension: d, actionDimension: k
        )
        explorationRandom = root.child("exploration")
        minibatchRandom = root.child("minibatch")
        environment.reset(seed: seed)
    }

    /// The deterministic policy `tanh(μ(s))` (SAC's mode), with the first critic.
    public func policy() -> Policy<Scalar> {
        let k = box.dimension
        var modules = actor.modules
        let last = actor.linearLayers.count - 1
        guard case .linear(let inputs, _) = modules[actor.linearLayers[last].moduleIndex] else { preconditionFailure() }
        modules[actor.linearLayers[last].moduleIndex] = .linear(inputs: inputs, outputs: k)
        modules.append(.activation(.tanh))
        let weight = actor.weight(last)
        var parameters = Array(actor.parameters[..<actor.linearLayers[last].weightOffset])
        parameters += weight.storage[..<(k * inputs)]
        parameters += actor.bias(last)[..<k]
        let mean = try! Sequential<Scalar>(modules: modules, parameters: parameters)
        return Policy(network: mean, kind: .deterministic, actionSpace: .box(box), critic: critics[0], criticTakesAction: true)
    }

    // MARK: - The squashed Gaussian

    /// A reparameterised sample for each row of actor outputs: the action `tanh(u)`, its
    /// log-probability, and the noise `ξ` with `u = μ + σξ` (what the gradient needs).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sample(_ outputs: Matrix<Scalar>, random: RandomStream) -> (
        actions: Matrix<Scalar>, logProbability: [Scalar], noise: Matrix<Scalar>
    ) {
        let k = box.dimension
        let halfLogTwoPi = Scalar.log(2 * Scalar.pi) / 2
        var actions = Matrix<Scalar>(rows: outputs.rows, columns: k)
        var noise = Matrix<Scalar>(rows: outputs.rows, columns: k)
        var logProbability = [Scalar](repeating: 0, count: outputs.rows)
        for r in 0..<outputs.rows {
            for j in 0..<k {
                let logStd = min(max(outputs[r, k + j], Self.logStdRange.lowerBound), Self.logStdRange.upperBound)
                let xi = Scalar(random.normal())
                let a = Scalar.tanh(outputs[r, j] + Scalar.exp(logStd) * xi)
                noise[r, j] = xi
                actions[r, j] = a
                logProbability[r] += -xi * xi / 2 - logStd - halfLogTwoPi - Scalar.log(1 - a * a + Self.squashEpsilon)
            }
        }
        return (actions, logProbability, noise)
    }

    /// `∂L/∂outputs` of a per-row loss `ℓ_r = α log π(a_r|s_r) + c_r(a_r)` through the sample,
    /// given `∂c/∂a` (`actionGradient`), for the mean over `rows`: with `u = μ + σξ`,
    /// `∂ℓ/∂u_j = α·2a_j(1 − a_j²)/(1 − a_j² + 10⁻⁶) + (∂c/∂a_j)(1 − a_j²)`, `∂ℓ/∂μ_j = ∂ℓ/∂u_j`,
    /// `∂ℓ/∂log σ_j = ∂ℓ/∂u_j·σ_j ξ_j − α` inside the clamp, 0 outside.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func outputGradient(
        outputs: Matrix<Scalar>, actions: Matrix<Scalar>, noise: Matrix<Scalar>, temperature: Scalar,
        actionGradient: Matrix<Scalar>
    ) -> Matrix<Scalar> {
        let k = box.dimension
        let n = Scalar(outputs.rows)
        var gradient = Matrix<Scalar>(rows: outputs.rows, columns: 2 * k)
        for r in 0..<outputs.rows {
            for j in 0..<k {
                let a = actions[r, j]
                let oneMinus = 1 - a * a
                let dU = temperature * 2 * a * oneMinus / (oneMinus + Self.squashEpsilon) + actionGradient[r, j] * oneMinus
                gradient[r, j] = dU / n
                let rawLogStd = outputs[r, k + j]
                if Self.logStdRange.contains(rawLogStd) {
                    gradient[r, k + j] = (dU * Scalar.exp(rawLogStd) * noise[r, j] - temperature) / n
                }
            }
        }
        return gradient
    }

    // MARK: - Collection

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func advance() throws(TrainingError) {
        let n = config.environments
        let k = box.dimension
        var collected = 0
        while steps < config.totalSteps && collected < config.trainFrequency {
            let observations = environment.observations
            let scaled: [[Double]]
            if steps < config.learningStarts {
                scaled = (0..<n).map { _ in (0..<k).map { _ in explorationRandom.uniform(-1, 1) } }
            } else {
                let outputs = actor.forward(observations.converted(to: Scalar.self), workspace: actingWorkspace)
                let actions = sample(outputs, random: explorationRandom).actions
                scaled = (0..<n).map { i in actions.row(i).map { Double($0) } }
            }
            try environment.stepForTraining(scaled.map { .continuous(box.unsquash($0).map(Float.init)) })
            buffer.add(step: environment, from: observations, actions: scaled.map { $0.map(Float.init) })
            steps += n
            collected += 1
        }
        guard steps > config.learningStarts else { return }
        let gradientSteps = config.gradientSteps >= 0 ? config.gradientSteps : collected
        var sums: [String: Double] = [:]
        for _ in 0..<gradientSteps {
            for (key, value) in try gradientStep() { sums[key, default: 0] += value }
        }
        if gradientSteps > 0 { diagnostics = sums.mapValues { $0 / Double(gradientSteps) } }
    }

    // MARK: - Updates

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func gradientStep() throws(TrainingError) -> [String: Double] {
        updates += 1
        let batch: ReplayBuffer.Batch<Scalar> = buffer.sample(config.batchSize, random: minibatchRandom)
        let b = config.batchSize
        let d = environment.observationDimension
        let k = box.dimension

        // 1. a ~ π(·|s), reparameterised.
        let outputs = actor.forward(batch.observations, workspace: actorWorkspace)
        let drawn = sample(outputs, random: minibatchRandom)

        // 2. The temperature, with α of this step taken before its update.
        let temperature = Scalar.exp(logTemperature[0])
        let meanLogProbability = drawn.logProbability.reduce(0, +) / Scalar(b)
        var statistics: [String: Double] = ["train/ent_coef": Double(temperature)]
        if config.learnTemperature {
            statistics["losses/ent_coef_loss"] = -Double(logTemperature[0]) * (Double(meanLogProbability) + targetEntropy)
            temperatureAdam.update(&logTemperature, gradient: [-(meanLogProbability + Scalar(targetEntropy))])
        }

        // 3. Critics against the soft target.
        let next = sample(actor.forward(batch.nextObservations, workspace: nextActorWorkspace), random: minibatchRandom)
        let nextInput = batch.nextObservations.appendingColumns(next.actions)
        let nextQ = criticTargets.indices.map { criticTargets[$0].forward(nextInput, workspace: targetWorkspaces[$0]) }
        var targets = Matrix<Scalar>(rows: b, columns: 1)
        for r in 0..<b {
            let soft = min(nextQ[0][r, 0], nextQ[1][r, 0]) - temperature * next.logProbability[r]
            targets[r, 0] = batch.rewards[r] + (1 - batch.terminated[r]) * Scalar(config.gamma) * soft
        }
        let input = batch.observations.appendingColumns(batch.actions)
        var criticLoss = 0.0
        for i in critics.indices {
            let workspace = criticWorkspaces[i]
            let loss = Loss.meanSquaredError(critics[i].forward(input, workspace: workspace), targets)
            criticLoss += Double(loss.value) / 2
            var gradient = [Scalar](repeating: 0, count: critics[i].parameterCount)
            critics[i].backward(
                outputGradient: loss.gradient.map { $0 / 2 }, workspace: workspace, parameterGradient: &gradient,
                request: .parameters)
            criticAdams[i].update(&critics[i].parameters, gradient: gradient)
            try checkFinite(critics[i].parameters, "critic parameters", step: steps)
        }
        statistics["losses/critic_loss"] = criticLoss

        // 4. Actor through the updated critics' smaller value at its own actions.
        let piInput = batch.observations.appendingColumns(drawn.actions)
        let workspaces = criticWorkspaces
        let q = critics.indices.map { critics[$0].forward(piInput, workspace: workspaces[$0]) }
        var actionGradient = Matrix<Scalar>(rows: b, columns: k)
        var actorLoss = 0.0
        var none: [Scalar] = []
        for i in critics.indices {
            // −min_i Q_i: the gradient flows through the smaller critic of each row.
            var selected = Matrix<Scalar>(rows: b, columns: 1)
            for r in 0..<b where (i == 0 ? q[0][r, 0] <= q[1][r, 0] : q[1][r, 0] < q[0][r, 0]) { selected[r, 0] = -1 }
            let dInput = critics[i].backward(
                outputGradient: selected, workspace: workspaces[i], parameterGradient: &none, request: .input)!
            for r in 0..<b where selected[r, 0] != 0 { for j in 0..<k { actionGradient[r, j] = dInput[r, d + j] } }
        }
        for r in 0..<b { actorLoss += Double(temperature * drawn.logProbability[r] - min(q[0][r, 0], q[1][r, 0])) / Double(b) }
        let dOutputs = outputGradient(
            outputs: outputs, actions: drawn.actions, noise: drawn.noise, temperature: temperature, actionGradient: actionGradient
        )
        var actorGradient = [Scalar](repeating: 0, count: actor.parameterCount)
        actor.backward(
            outputGradient: dOutputs, workspace: actorWorkspace, parameterGradient: &actorGradient, request: .parameters)
        actorAdam.update(&actor.parameters, gradient: actorGradient)
        try checkFinite(actor.parameters, "actor parameters", step: steps)
        statistics["losses/actor_loss"] = actorLoss

        // 5. Targets.
        if updates % config.targetUpdateInterval == 0 {
            for i in critics.indices {
                polyakUpdate(&criticTargets[i].parameters, toward: critics[i].parameters, tau: config.tau)
            }
        }
        return statistics
    }

    // MARK: - Checkpoints

    struct State: Codable {
        var steps: Int
        var updates: Int
        var environment: VectorEnvironment.Snapshot
    }

    public func writeCheckpoint(to checkpoint: inout CheckpointWriter) {
        checkpoint.put("actor", scalars: actor.parameters)
        for i in critics.indices {
            checkpoint.put("critic\(i)", scalars: critics[i].parameters)
            checkpoint.put("critic\(i)_target", scalars: criticTargets[i].parameters)
            checkpoint.put("adam.critic\(i)", adam: criticAdams[i])
        }
        checkpoint.put("log_ent_coef", scalars: logTemperature)
        checkpoint.put("adam.actor", adam: actorAdam)
        checkpoint.put("adam.log_ent_coef", adam: temperatureAdam)
        buffer.write(to: &checkpoint, prefix: "buffer")
        checkpoint.put("random.exploration", random: explorationRandom)
        checkpoint.put("random.minibatch", random: minibatchRandom)
        checkpoint.putJSON("sac", State(steps: steps, updates: updates, environment: environment.snapshot))
    }

    public convenience init(
        config: SACConfig, environment id: String, seed: UInt64, components: TrainingComponents = TrainingComponents(),
        resuming checkpoint: CheckpointReader
    ) throws(TrainingError) {
        try self.init(config: config, environment: id, seed: seed, components: components)
        try restoring {
            actor.parameters = try checkpoint.scalars("actor", count: actor.parameterCount)
            for i in critics.indices {
                critics[i].parameters = try checkpoint.scalars("critic\(i)", count: critics[i].parameterCount)
                criticTargets[i].parameters = try checkpoint.scalars("critic\(i)_target", count: critics[i].parameterCount)
                try checkpoint.restore(&criticAdams[i], "adam.critic\(i)")
            }
            logTemperature = try checkpoint.scalars("log_ent_coef", count: 1)
            try checkpoint.restore(&actorAdam, "adam.actor")
            try checkpoint.restore(&temperatureAdam, "adam.log_ent_coef")
            try buffer.read(from: checkpoint, prefix: "buffer")
            try checkpoint.restore(explorationRandom, "random.exploration")
            try checkpoint.restore(minibatchRandom, "random.minibatch")
            let state = try checkpoint.json("sac", as: State.self)
            (steps, updates) = (state.steps, state.updates)
            try environment.restore(state.environment)
        }
    }
}

extension SACConfig: SharedHyperparameters {
    /// SAC's hyperparameters, with SB3's meanings.
    public static let hyperparameters: [Hyperparameter<SACConfig>] =
        sharedHyperparameters + [
            .double("learning_rate", \.learningRate, in: 0...10, "Adam step size of actor, critics and temperature"),
            .int("buffer_size", \.bufferSize, in: 1...100_000_000, "replay buffer capacity"),
            .int("learning_starts", \.learningStarts, in: 0...Int.max, "environment steps of random actions before learning"),
            .int("batch_size", \.batchSize, in: 1...1_000_000, "minibatch size"),
            .double("tau", \.tau, in: 0...1, "Polyak coefficient of the target updates"),
            .double("gamma", \.gamma, in: 0...1, "discount factor"),
            .int("train_freq", \.trainFrequency, in: 1...1_000_000, "environment steps between training phases"),
            .int(
                "gradient_steps", \.gradientSteps, in: -1...1_000_000, "gradient steps per phase (−1: as many as steps collected)"
            ),
            Hyperparameter(
                key: "ent_coef",
                summary: "entropy temperature α: auto (learned from 1), auto_X (learned from X) or a fixed number",
                accepted: "auto, auto_<number> or a number > 0",
                read: { r, config throws(ConfigError) in
                    guard r.has("ent_coef") else { return }
                    if let fixed = try? r.double("ent_coef", in: 1e-12...1e6) {
                        (config.initialTemperature, config.learnTemperature) = (fixed, false)
                        return
                    }
                    let text = try r.string("ent_coef") ?? "auto"
                    guard text == "auto" || text.hasPrefix("auto_"),
                        let initial = text == "auto" ? 1.0 : Double(text.dropFirst(5)), initial > 0
                    else {
                        throw r.error(
                            at: "ent_coef", "'ent_coef' must be auto, auto_<number> or a positive number, got '\(text)'")
                    }
                    (config.initialTemperature, config.learnTemperature) = (initial, true)
                },
                value: { config in
                    guard config.learnTemperature else { return .number(config.initialTemperature) }
                    return .string(config.initialTemperature == 1 ? "auto" : "auto_\(config.initialTemperature)")
                }),
            .optionalDouble("target_entropy", \.targetEntropy, in: -1e6...1e6, "the entropy α aims at (unset: −dim(action))"),
            .int("target_update_interval", \.targetUpdateInterval, in: 1...1_000_000, "gradient steps between target updates"),
        ]

    init(_ r: ConfigReader) throws(ConfigError) {
        self.init()
        try Self.hyperparameters.read(r, into: &self)
    }
}

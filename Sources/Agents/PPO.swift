import Environments
import Linalg
import NeuralNet

/// Proximal Policy Optimization (Schulman et al. 2017, "Proximal policy optimization
/// algorithms"), following Stable-Baselines3's `PPO` so rl-zoo hyperparameters carry over:
/// vectorised rollouts of `nSteps` per copy, generalised advantage estimation (Schulman et al.
/// 2016), the clipped surrogate, a value loss, an entropy bonus, per-minibatch advantage
/// normalisation, `nEpochs` passes of shuffled minibatches, gradient clipping by global norm,
/// linear learning-rate and clip schedules, and bootstrapping from the value of the final
/// observation when a time limit cuts an episode. Separate actor and critic MLPs with
/// orthogonal initialisation (√2 hidden, 0.01 policy head, 1 value head) and Adam with ε = 1e-5,
/// as SB3's `MlpPolicy`.
public struct PPOConfig: Equatable, Sendable, Codable {
    public var totalSteps = 1_000_000
    public var environments = 1
    /// Hidden layer sizes of the actor, and of the critic unless `criticHidden` says otherwise.
    public var hidden = [64, 64]
    /// The critic's hidden layer sizes when they differ from the actor's (nil: the same).
    public var criticHidden: [Int]? = nil
    public var activation = "tanh"
    public var learningRate = Schedule.constant(3e-4)
    /// The critic's Adam step size when it differs from the actor's (nil: `learningRate`), as
    /// SA-PPO and ATLA train their separate value networks (`val_lr`).
    public var valueLearningRate: Schedule? = nil
    public var nSteps = 2048
    public var batchSize = 64
    public var nEpochs = 10
    public var gamma = 0.99
    public var gaeLambda = 0.95
    public var clipRange = Schedule.constant(0.2)
    /// Clipping of the value update around the old values (nil: none, SB3's default).
    public var clipRangeValue: Double? = nil
    public var normalizeAdvantage = true
    public var entropyCoefficient = 0.0
    public var valueCoefficient = 0.5
    public var maxGradNorm = 0.5
    /// Initial log standard deviation of Gaussian policies.
    public var logStdInit = 0.0
    /// SB3's `ortho_init`: orthogonal initialisation (gain √2, 0.01 on the policy head, 1 on the
    /// value head); false keeps PyTorch's default initialisation (rl-zoo's MuJoCo settings).
    public var orthogonalInitialization = true
    /// Running observation normalisation (SB3's `VecNormalize(norm_obs=True, norm_reward=False)`).
    public var normalizeObservations = false
    /// Reward scaling by the running std of the discounted return (SB3's `norm_reward=True`;
    /// rl-zoo's `normalize: true` is both this and `normalizeObservations`).
    public var normalizeRewards = false
    /// Robust training (adversarial training of the rollouts, SA-PPO), if any.
    public var robust: RobustTrainingConfig?
    /// A PPO policy file (for this environment, with this config's actor) whose actor, log σ,
    /// critic (when the file keeps one, which must have this config's modules) and observation
    /// scaling the run starts from instead of a random initialisation — a trained agent
    /// fine-tuned, robustly for instance, as RADIAL fine-tunes DQNs. The scaling stays fixed for
    /// the whole run: the file records no count of observations behind it, and a fixed scaling
    /// keeps a normalised ε meaning one thing throughout. Reward scaling and the optimisers start
    /// afresh. The path is read when the run starts (a resumed run takes all from its checkpoint).
    public var initialPolicy: String?

    public init() {}
}

public final class PPO<Scalar: BLASScalar>: Learner {
    public let config: PPOConfig
    public let environment: VectorEnvironment
    public private(set) var actor: Sequential<Scalar>
    public private(set) var critic: Sequential<Scalar>
    public private(set) var logStd: [Scalar]
    var actorAdam: Adam<Scalar>
    var criticAdam: Adam<Scalar>
    var logStdAdam: Adam<Scalar>
    public private(set) var normalizer: ObservationNormalizer?
    public private(set) var rewardScaler: RewardScaler?
    let actionRandom: RandomStream
    let minibatchRandom: RandomStream
    public private(set) var steps = 0
    public private(set) var updates = 0
    public private(set) var diagnostics: [String: Double] = [:]
    public var totalSteps: Int { config.totalSteps }
    let kind: PolicyKind
    let actionDimension: Int
    /// Whether each copy's current observation starts an episode (SB3's `_last_episode_starts`).
    var episodeStarts: [Bool]

    // Rollout storage, [nSteps · environments] rows, allocated once.
    var bufferObservations: Matrix<Scalar>
    var bufferActions: Matrix<Scalar>
    var bufferRewards: [Scalar]
    var bufferStarts: [Scalar]
    var bufferValues: [Scalar]
    var bufferLogProbs: [Scalar]
    var advantages: [Scalar]
    var returns: [Scalar]
    /// Forward/backward buffers, reused by rollouts and updates.
    let actorWorkspace: Workspace<Scalar>
    let criticWorkspace: Workspace<Scalar>
    /// The robust-training method, when configured.
    let robust: (any RobustTraining)?

    public convenience init(
        config: PPOConfig, environment id: String, seed: UInt64, components: TrainingComponents = TrainingComponents()
    ) throws(TrainingError) {
        try self.init(
            config: config, environment: Self.environment(id, config: config, components: components), id: id, seed: seed,
            components: components, readingInitialPolicy: true)
    }

    /// PPO in a vector environment built by the caller (`config.environments` copies, same-step
    /// autoreset); `id` names the environment.
    public convenience init(
        config: PPOConfig, environment: VectorEnvironment, id: String, seed: UInt64,
        components: TrainingComponents = TrainingComponents()
    ) throws(TrainingError) {
        try self.init(
            config: config, environment: environment, id: id, seed: seed, components: components, readingInitialPolicy: true)
    }

    private static func environment(_ id: String, config: PPOConfig, components: TrainingComponents) throws(TrainingError)
        -> VectorEnvironment
    {
        guard config.environments > 0 else { throw TrainingError("PPO: n_envs must be positive") }
        do {
            return try VectorEnvironment(
                id: id, count: config.environments, autoresetMode: .sameStep, registry: components.environments)
        } catch {
            throw TrainingError(error.description)
        }
    }

    private init(
        config: PPOConfig, environment: VectorEnvironment, id: String, seed: UInt64, components: TrainingComponents,
        readingInitialPolicy: Bool
    ) throws(TrainingError) {
        guard config.nSteps > 0, config.batchSize > 0, config.nEpochs > 0, config.environments > 0, config.totalSteps > 0 else {
            throw TrainingError("PPO: n_steps, batch_size, n_epochs, n_envs and n_timesteps must be positive")
        }
        guard environment.environments.count == config.environments else {
            throw TrainingError(
                "PPO: n_envs is \(config.environments) but the vector environment has \(environment.environments.count) copies")
        }
        self.environment = environment
        guard let activation = Activation(name: config.activation) else {
            throw TrainingError("unknown activation '\(config.activation)'")
        }
        self.config = config
        let space = environment.environments[0].base.actionSpace
        (kind, actionDimension) =
            switch space {
            case .discrete(let n): (.categorical, n)
            case .box(let box): (.gaussian, box.dimension)
            }
        let root = RandomStream(seed: seed)
        let d = environment.observationDimension
        do {
            let orthogonal = config.orthogonalInitialization
            actor = try Sequential.mlp(
                sizes: [d] + config.hidden + [actionDimension], activation: activation,
                initialization: orthogonal ? .orthogonal(gain: 2.0.squareRoot(), outputGain: 0.01) : .pytorchDefault,
                random: root.child("actor"))
            critic = try Sequential.mlp(
                sizes: [d] + (config.criticHidden ?? config.hidden) + [1], activation: activation,
                initialization: orthogonal ? .orthogonal(gain: 2.0.squareRoot(), outputGain: 1) : .pytorchDefault,
                random: root.child("critic"))
        } catch { throw TrainingError(error.description) }
        logStd = kind == .gaussian ? Array(repeating: Scalar(config.logStdInit), count: actionDimension) : []
        let lr = config.learningRate.value(atProgress: 0)
        actorAdam = Adam(parameterCount: actor.parameterCount, learningRate: lr, epsilon: 1e-5)
        criticAdam = Adam(
            parameterCount: critic.parameterCount, learningRate: config.valueLearningRate?.value(atProgress: 0) ?? lr,
            epsilon: 1e-5)
        logStdAdam = Adam(parameterCount: logStd.count, learningRate: lr, epsilon: 1e-5)
        normalizer = config.normalizeObservations ? ObservationNormalizer(dimension: d) : nil
        rewardScaler = config.normalizeRewards ? RewardScaler(copies: config.environments, gamma: config.gamma) : nil
        actionRandom = root.child("actions")
        minibatchRandom = root.child("minibatch")
        let size = config.nSteps * config.environments
        bufferObservations = Matrix(rows: size, columns: d)
        bufferActions = Matrix(rows: size, columns: kind == .categorical ? 1 : actionDimension)
        bufferRewards = Array(repeating: 0, count: size)
        bufferStarts = Array(repeating: 0, count: size)
        bufferValues = Array(repeating: 0, count: size)
        bufferLogProbs = Array(repeating: 0, count: size)
        advantages = Array(repeating: 0, count: size)
        returns = Array(repeating: 0, count: size)
        episodeStarts = Array(repeating: true, count: config.environments)
        actorWorkspace = Workspace(for: actor, batch: max(config.batchSize, config.environments))
        criticWorkspace = Workspace(for: critic, batch: max(config.batchSize, config.environments))
        robust = try components.makeRobustTraining(
            config.robust, environment: id, copies: environment, root: root, ppo: config, seed: seed, precision: Scalar.self)
        if readingInitialPolicy, let path = config.initialPolicy { try start(fromPolicyAt: path, environment: id) }
        environment.reset(seed: seed)
        normalizer?.update(environment.observations)
    }

    /// Takes the actor, log σ, critic and (frozen) observation scaling of `init_policy`.
    private func start(fromPolicyAt path: String, environment id: String) throws(TrainingError) {
        let start = try initialPolicy(at: path, kind: kind, environment: id, network: actor)
        actor.parameters = start.network.converted(to: Scalar.self).parameters
        logStd = start.logStd.map { Scalar($0) }
        if let stored = start.critic {
            try requireModules(of: stored, equalTo: critic, "init_policy \(path): its critic")
            critic.parameters = stored.converted(to: Scalar.self).parameters
        }
        switch (config.normalizeObservations, start.scaling) {
        case (true, let scaling?): normalizer = ObservationNormalizer(frozenAt: scaling)
        case (false, nil): break
        case (true, nil):
            throw TrainingError(
                "init_policy \(path): the policy does not scale its observations, but this config does (normalize)")
        case (false, _?):
            throw TrainingError("init_policy \(path): the policy scales its observations, but this config does not (normalize)")
        }
    }

    public func policy() -> Policy<Scalar> {
        var frozen = normalizer
        frozen?.frozen = true
        return Policy(
            network: actor, kind: kind, actionSpace: environment.environments[0].base.actionSpace, logStd: logStd,
            scaling: frozen.map { ObservationScaling($0) }, critic: critic)
    }

    public func companionPolicies(victim: String) -> [String: PolicyFile] { robust?.companionPolicies(victim: victim) ?? [:] }

    /// The network input for raw observations: normalised when enabled.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func networkInput(_ observations: Matrix<Float>) -> Matrix<Scalar> {
        guard let normalizer else { return observations.converted(to: Scalar.self) }
        return normalizer.normalize(observations).converted(to: Scalar.self)
    }

    // MARK: - Rollout

    public func advance() throws(TrainingError) {
        try collectRollout()
        try update()
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func collectRollout() throws(TrainingError) {
        let n = config.environments
        let d = environment.observationDimension
        let gamma = Scalar(config.gamma)
        for t in 0..<config.nSteps {
            var seen = environment.observations
            if let robust {  // adversarial training: the agent acts on (and learns from) attacked observations
                seen = robust.perturb(
                    seen.converted(to: Scalar.self), policy: policy(), progress: Double(steps) / Double(config.totalSteps)
                )
                .converted(to: Float.self)
            }
            let observations = networkInput(seen)
            let outputs = actor.forward(observations, workspace: actorWorkspace)
            let values = critic.forward(observations, workspace: criticWorkspace)
            var actions: [Action] = []
            for i in 0..<n {
                let row = t * n + i
                bufferObservations.storage.replaceSubrange(
                    (row * d)..<((row + 1) * d), with: observations.storage[(i * d)..<((i + 1) * d)])
                bufferValues[row] = values[i, 0]
                bufferStarts[row] = episodeStarts[i] ? 1 : 0
                switch kind {
                case .categorical:
                    let logits = outputs.row(i)
                    let logProbabilities = logSoftmax(Matrix(row: logits)).storage
                    let a = actionRandom.categorical(logProbabilities.map { Scalar.exp($0) })
                    bufferActions[row, 0] = Scalar(a)
                    bufferLogProbs[row] = logProbabilities[a]
                    actions.append(.discrete(a))
                default:
                    var sample = [Scalar](repeating: 0, count: actionDimension)
                    for j in 0..<actionDimension {
                        sample[j] = outputs[i, j] + Scalar.exp(logStd[j]) * Scalar(actionRandom.normal())
                        bufferActions[row, j] = sample[j]
                    }
                    bufferLogProbs[row] =
                        Loss.gaussianLogProbability(
                            mean: Matrix(row: outputs.row(i)), logStd: logStd, actions: Matrix(row: sample)
                        ).values[0]
                    actions.append(.continuous(policyClip(sample)))
                }
            }
            try environment.stepForTraining(actions)
            steps += n
            let done = (0..<n).map { environment.terminated[$0] || environment.truncated[$0] }
            let rewards = rewardScaler?.scale(environment.rewards, done: done) ?? environment.rewards
            for i in 0..<n {
                var reward = Scalar(rewards[i])
                // A time limit is not a terminal state: bootstrap from the final observation's value.
                if environment.truncated[i] && !environment.terminated[i], let final = environment.finalObservations[i] {
                    reward += gamma * critic.forward(networkInput(Matrix(row: final)), workspace: criticWorkspace)[0, 0]
                }
                bufferRewards[t * n + i] = reward
                episodeStarts[i] = done[i]
            }
            normalizer?.update(environment.observations)
            try checkFinite(bufferValues, "PPO value estimates", step: steps)
        }
        computeAdvantages(lastValues: critic.forward(networkInput(environment.observations), workspace: criticWorkspace).storage)
    }

    /// Continuous actions clipped to the bounds before they reach the environment (the buffer
    /// keeps the unclipped sample, whose log-probability the update needs).
    private func policyClip(_ action: [Scalar]) -> [Float] {
        guard case .box(let box) = environment.environments[0].base.actionSpace else { return action.map { Float($0) } }
        return box.clip(action.map { Double($0) })
    }

    /// Generalised advantage estimation, backwards through the rollout:
    /// `δ_t = r_t + γ V(s_{t+1}) (1 − start_{t+1}) − V(s_t)`, `A_t = δ_t + γλ (1 − start_{t+1}) A_{t+1}`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func computeAdvantages(lastValues: [Scalar]) {
        let n = config.environments
        let gamma = Scalar(config.gamma)
        let lambda = Scalar(config.gaeLambda)
        for i in 0..<n {
            var lastGaeLam: Scalar = 0
            for t in stride(from: config.nSteps - 1, through: 0, by: -1) {
                let nextNonTerminal: Scalar
                let nextValue: Scalar
                if t == config.nSteps - 1 {
                    nextNonTerminal = episodeStarts[i] ? 0 : 1
                    nextValue = lastValues[i]
                } else {
                    nextNonTerminal = 1 - bufferStarts[(t + 1) * n + i]
                    nextValue = bufferValues[(t + 1) * n + i]
                }
                let row = t * n + i
                let delta = bufferRewards[row] + gamma * nextValue * nextNonTerminal - bufferValues[row]
                lastGaeLam = delta + gamma * lambda * nextNonTerminal * lastGaeLam
                advantages[row] = lastGaeLam
                returns[row] = lastGaeLam + bufferValues[row]
            }
        }
    }

    // MARK: - Update

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func update() throws(TrainingError) {
        let progress = Double(steps) / Double(config.totalSteps)
        let learningRate = config.learningRate.value(atProgress: progress)
        let clip = Scalar(config.clipRange.value(atProgress: progress))
        actorAdam.learningRate = learningRate
        criticAdam.learningRate = config.valueLearningRate?.value(atProgress: progress) ?? learningRate
        logStdAdam.learningRate = learningRate
        let size = config.nSteps * config.environments
        let d = environment.observationDimension
        var sums: [String: Double] = [:]
        var minibatches = 0
        var robustDiagnostics: [String: Double] = [:]
        if let robust, robust.learnsFromRollouts {
            let current = policy()
            robustDiagnostics = try robust.learn(from: transitions(scaling: current.scaling), policy: current, progress: progress)
        }
        for _ in 0..<config.nEpochs {
            let order = minibatchRandom.permutation(size)
            for start in stride(from: 0, to: size, by: config.batchSize) {
                let indices = Array(order[start..<min(start + config.batchSize, size)])
                let m = indices.count
                var observations = Matrix<Scalar>(rows: m, columns: d)
                var mbAdvantages = [Scalar](repeating: 0, count: m)
                observations.storage.withUnsafeMutableBufferPointer { target in
                    bufferObservations.storage.withUnsafeBufferPointer { source in
                        for (k, i) in indices.enumerated() {
                            (target.baseAddress! + k * d).update(from: source.baseAddress! + i * d, count: d)
                        }
                    }
                }
                for (k, i) in indices.enumerated() { mbAdvantages[k] = advantages[i] }
                if config.normalizeAdvantage && m > 1 {
                    let mean = mbAdvantages.reduce(0, +) / Scalar(m)
                    let std = (mbAdvantages.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Scalar(m - 1)).squareRoot()
                    for k in 0..<m { mbAdvantages[k] = (mbAdvantages[k] - mean) / (std + 1e-8) }
                }
                if let robust, robust.learnsFromRollouts {
                    let current = policy()
                    mbAdvantages = robust.advantages(
                        mbAdvantages, observations: rawObservations(observations, scaling: current.scaling),
                        actions: Matrix(indices.map { bufferActions.row($0) }), policy: current, progress: progress)
                }
                let stats = try minibatchStep(indices: indices, observations: observations, advantages: mbAdvantages, clip: clip)
                for (key, value) in stats { sums[key, default: 0] += value }
                minibatches += 1
            }
        }
        diagnostics = sums.mapValues { $0 / Double(max(minibatches, 1)) }.merging(robustDiagnostics) { $1 }
        diagnostics["train/learning_rate"] = learningRate
        diagnostics["train/clip_range"] = Double(clip)
        if kind == .gaussian {
            diagnostics["train/std"] = Double(logStd.map { Scalar.exp($0) }.reduce(0, +)) / Double(logStd.count)
        }
        if let robust {
            diagnostics.merge(try robust.afterUpdate(policy: policy(), progress: Double(steps) / Double(config.totalSteps))) {
                $1
            }
        }
    }

    /// One gradient step on a minibatch of the clipped surrogate, value and entropy losses.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func minibatchStep(indices: [Int], observations: Matrix<Scalar>, advantages a: [Scalar], clip: Scalar)
        throws(TrainingError) -> [String: Double]
    {
        let m = indices.count
        let mScalar = Scalar(m)
        let outputs = actor.forward(observations, workspace: actorWorkspace)
        let values = critic.forward(observations, workspace: criticWorkspace)

        // log π(a|s), its gradient with respect to the outputs, entropy and its gradient.
        var logProbs = [Scalar](repeating: 0, count: m)
        var dLogProb = Matrix<Scalar>(rows: m, columns: outputs.columns)  // ∂ log π / ∂ outputs, per row
        var dEntropy = Matrix<Scalar>(rows: m, columns: outputs.columns)  // ∂ H / ∂ outputs, per row
        var entropy: Scalar = 0
        var dLogStdLogProb = Matrix<Scalar>(rows: m, columns: logStd.count)
        switch kind {
        case .categorical:
            let logP = logSoftmax(outputs)
            for k in 0..<m {
                let action = Int(bufferActions[indices[k], 0])
                logProbs[k] = logP[k, action]
                var h: Scalar = 0
                for j in 0..<outputs.columns { h -= Scalar.exp(logP[k, j]) * logP[k, j] }
                entropy += h
                for j in 0..<outputs.columns {
                    let p = Scalar.exp(logP[k, j])
                    dLogProb[k, j] = (j == action ? 1 : 0) - p
                    dEntropy[k, j] = -p * (logP[k, j] + h)
                }
            }
        default:
            var taken = Matrix<Scalar>(rows: m, columns: actionDimension)
            for k in 0..<m { for j in 0..<actionDimension { taken[k, j] = bufferActions[indices[k], j] } }
            (logProbs, dLogProb, dLogStdLogProb) = Loss.gaussianLogProbability(mean: outputs, logStd: logStd, actions: taken)
            let halfLogTwoPi = Scalar.log(2 * Scalar.pi) / 2
            entropy = mScalar * logStd.reduce(0) { $0 + 0.5 + halfLogTwoPi + $1 }
        }

        // Clipped surrogate: L = −mean(min(r A, clip(r, 1 − ε, 1 + ε) A)), r = exp(log π − log π_old).
        var policyLoss: Scalar = 0
        var approxKL: Scalar = 0
        var clipped: Scalar = 0
        var dLossdLogProb = [Scalar](repeating: 0, count: m)
        for k in 0..<m {
            let logRatio = logProbs[k] - bufferLogProbs[indices[k]]
            let ratio = Scalar.exp(logRatio)
            let unclippedTerm = ratio * a[k]
            let clippedTerm = min(max(ratio, 1 - clip), 1 + clip) * a[k]
            policyLoss -= min(unclippedTerm, clippedTerm)
            // The gradient flows through r unless the clipped term is the smaller one and clipping is active.
            let ratioClipped = ratio < 1 - clip || ratio > 1 + clip
            if unclippedTerm <= clippedTerm || !ratioClipped { dLossdLogProb[k] = -a[k] * ratio / mScalar }
            approxKL += (ratio - 1) - logRatio
            if ratioClipped { clipped += 1 }
        }
        policyLoss /= mScalar

        // Value loss: mean((R − V)²), optionally around clipped values.
        var valueLoss: Scalar = 0
        var dValues = Matrix<Scalar>(rows: m, columns: 1)
        for k in 0..<m {
            let i = indices[k]
            var v = values[k, 0]
            var passes: Scalar = 1
            if let clipValue = config.clipRangeValue {
                let old = bufferValues[i]
                let c = Scalar(clipValue)
                let clippedValue = old + min(max(v - old, -c), c)
                if clippedValue != v { passes = 0 }
                v = clippedValue
            }
            let error = v - returns[i]
            valueLoss += error * error
            dValues[k, 0] = passes * Scalar(config.valueCoefficient) * 2 * error / mScalar
        }
        valueLoss /= mScalar

        // Total loss = policy + ent_coef · (−mean H) + vf_coef · value; gradients to the outputs.
        let entropyCoefficient = Scalar(config.entropyCoefficient)
        var dOutputs = Matrix<Scalar>(rows: m, columns: outputs.columns)
        for k in 0..<m {
            for j in 0..<outputs.columns {
                dOutputs[k, j] = dLossdLogProb[k] * dLogProb[k, j] - entropyCoefficient * dEntropy[k, j] / mScalar
            }
        }
        var dLogStd = [Scalar](repeating: 0, count: logStd.count)
        for j in 0..<logStd.count {
            for k in 0..<m { dLogStd[j] += dLossdLogProb[k] * dLogStdLogProb[k, j] }
            dLogStd[j] -= entropyCoefficient  // ∂(−mean H)/∂ log σ_j = −1
        }
        var actorGradient = [Scalar](repeating: 0, count: actor.parameterCount)
        var criticGradient = [Scalar](repeating: 0, count: critic.parameterCount)
        actor.backward(
            outputGradient: dOutputs, workspace: actorWorkspace, parameterGradient: &actorGradient, request: .parameters)
        critic.backward(
            outputGradient: dValues, workspace: criticWorkspace, parameterGradient: &criticGradient, request: .parameters)
        var robustDiagnostics: [String: Double] = [:]
        if let robust {
            let current = policy()
            robustDiagnostics = robust.regularize(
                rawObservations(observations, scaling: current.scaling), policy: current,
                progress: Double(steps) / Double(config.totalSteps), parameterGradient: &actorGradient,
                logStdGradient: &dLogStd)
        }

        // Clip the global norm over all parameters together, as SB3 does (0: measured, not clipped).
        var all = actorGradient + criticGradient + dLogStd
        let norm = clipGradientNorm(&all, maximumNorm: config.maxGradNorm > 0 ? config.maxGradNorm : .infinity)
        try checkFinite([Scalar(norm)], "PPO gradient norm", step: steps)
        actorAdam.update(&actor.parameters, gradient: Array(all[0..<actor.parameterCount]))
        criticAdam.update(
            &critic.parameters, gradient: Array(all[actor.parameterCount..<(actor.parameterCount + critic.parameterCount)]))
        if !logStd.isEmpty { logStdAdam.update(&logStd, gradient: Array(all[(actor.parameterCount + critic.parameterCount)...])) }
        try checkFinite(actor.parameters, "PPO actor parameters", step: steps)
        updates += 1
        return robustDiagnostics.merging([
            "losses/policy_gradient_loss": Double(policyLoss), "losses/value_loss": Double(valueLoss),
            "losses/entropy_loss": -Double(entropy / mScalar), "losses/approx_kl": Double(approxKL / mScalar),
            "losses/clip_fraction": Double(clipped / mScalar),
        ]) { $1 }
    }

    /// The rollout's transitions that have their successor in the buffer (all steps but the
    /// last of each copy), in raw observations.
    private func transitions(scaling: ObservationScaling<Scalar>?) -> Transitions<Scalar> {
        let n = config.environments
        let rows = Array(0..<((config.nSteps - 1) * n))
        return Transitions(
            observations: rawObservations(Matrix(rows.map { bufferObservations.row($0) }), scaling: scaling),
            actions: Matrix(rows.map { bufferActions.row($0) }), rewards: rows.map { bufferRewards[$0] },
            nextObservations: rawObservations(Matrix(rows.map { bufferObservations.row($0 + n) }), scaling: scaling),
            terminal: rows.map { bufferStarts[$0 + n] == 1 })
    }

    /// Raw observations from network inputs (`z · std + mean` when normalised; clipped values
    /// map to the clipping boundary).
    private func rawObservations(_ inputs: Matrix<Scalar>, scaling: ObservationScaling<Scalar>?) -> Matrix<Scalar> {
        guard let scaling else { return inputs }
        var raw = inputs
        for r in 0..<raw.rows {
            for j in 0..<raw.columns { raw[r, j] = raw[r, j] * scaling.std[j] + scaling.mean[j] }
        }
        return raw
    }

    // MARK: - Checkpoints

    struct State: Codable {
        var steps: Int
        var updates: Int
        var episodeStarts: [Bool]
        var normalizer: ObservationNormalizer?
        var rewardScaler: RewardScaler?
        var environment: VectorEnvironment.Snapshot
    }

    public func writeCheckpoint(to checkpoint: inout CheckpointWriter) {
        checkpoint.put("actor", scalars: actor.parameters)
        checkpoint.put("critic", scalars: critic.parameters)
        checkpoint.put("log_std", scalars: logStd)
        checkpoint.put("adam.actor", adam: actorAdam)
        checkpoint.put("adam.critic", adam: criticAdam)
        checkpoint.put("adam.log_std", adam: logStdAdam)
        checkpoint.put("random.actions", random: actionRandom)
        checkpoint.put("random.minibatch", random: minibatchRandom)
        robust?.writeCheckpoint(to: &checkpoint)
        checkpoint.putJSON(
            "ppo",
            State(
                steps: steps, updates: updates, episodeStarts: episodeStarts, normalizer: normalizer,
                rewardScaler: rewardScaler, environment: environment.snapshot))
    }

    public convenience init(
        config: PPOConfig, environment id: String, seed: UInt64, components: TrainingComponents = TrainingComponents(),
        resuming checkpoint: CheckpointReader
    ) throws(TrainingError) {
        try self.init(
            config: config, environment: Self.environment(id, config: config, components: components), id: id, seed: seed,
            components: components, readingInitialPolicy: false)
        try restore(from: checkpoint)
    }

    /// Continues from a checkpoint written by `writeCheckpoint` (a learner made with the same
    /// config, environment and seed).
    public func restore(from checkpoint: CheckpointReader) throws(TrainingError) {
        try restoring {
            actor.parameters = try checkpoint.scalars("actor", count: actor.parameterCount)
            critic.parameters = try checkpoint.scalars("critic", count: critic.parameterCount)
            logStd = try checkpoint.scalars("log_std", count: logStd.count)
            try checkpoint.restore(&actorAdam, "adam.actor")
            try checkpoint.restore(&criticAdam, "adam.critic")
            try checkpoint.restore(&logStdAdam, "adam.log_std")
            try checkpoint.restore(actionRandom, "random.actions")
            try checkpoint.restore(minibatchRandom, "random.minibatch")
            try robust?.restore(from: checkpoint)
            let state = try checkpoint.json("ppo", as: State.self)
            (steps, updates, episodeStarts, normalizer) = (state.steps, state.updates, state.episodeStarts, state.normalizer)
            rewardScaler = state.rewardScaler
            try environment.restore(state.environment)
        }
    }
}

extension PPOConfig {
    /// PPO's hyperparameters, with SB3's meanings.
    public static let hyperparameters: [Hyperparameter<PPOConfig>] =
        sharedHyperparameters + [
            .schedule("learning_rate", \.learningRate, in: 0...10, "Adam step size"),
            .optionalSchedule(
                "value_learning_rate", \.valueLearningRate, in: 0...10, "the critic's Adam step size (unset: learning_rate)"),
            .int("n_steps", \.nSteps, in: 1...1_000_000, "rollout steps per copy and update"),
            .int("batch_size", \.batchSize, in: 1...10_000_000, "minibatch size"),
            .int("n_epochs", \.nEpochs, in: 1...10_000, "passes over each rollout"),
            .double("gamma", \.gamma, in: 0...1, "discount factor"),
            .double("gae_lambda", \.gaeLambda, in: 0...1, "GAE λ"),
            .schedule("clip_range", \.clipRange, in: 0...10, "policy ratio clipping"),
            .optionalDouble("clip_range_vf", \.clipRangeValue, in: 0...1e6, "value clipping (unset: none)"),
            .bool("normalize_advantage", \.normalizeAdvantage, "normalise advantages per minibatch"),
            .double("ent_coef", \.entropyCoefficient, in: 0...100, "entropy bonus weight"),
            .double("vf_coef", \.valueCoefficient, in: 0...100, "value loss weight"),
            .double("max_grad_norm", \.maxGradNorm, in: 0...1e9, "gradient clipping by global norm (0: none)"),
            .double("log_std_init", \.logStdInit, in: -20...5, "initial log standard deviation of a Gaussian policy"),
            .bool("ortho_init", \.orthogonalInitialization, "orthogonal initialisation (false: PyTorch's default)"),
            .bool("normalize", \.normalizeObservations, "normalise observations by running statistics"),
            .bool(
                "normalize_reward", \.normalizeRewards,
                "scale rewards by the running std of the discounted return (rl-zoo's normalize: true sets both)"),
            .optionalString(
                "init_policy", \.initialPolicy, accepted: "a policy file's path",
                "start from this PPO policy's actor, log σ, critic and observation scaling instead of random weights"),
        ]

    init(_ r: ConfigReader) throws(ConfigError) {
        self.init()
        try Self.hyperparameters.read(r, into: &self)
    }
}

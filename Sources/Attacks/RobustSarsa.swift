import Agents
import Environments
import Foundation
import Linalg
import NeuralNet

/// Robust Sarsa (Zhang et al. 2020, "Robust deep reinforcement learning against adversarial
/// perturbations on state observations" — SA-PPO's strongest attack on PPO agents): learn the
/// action value `Q(s, a)` of the fixed victim from its own rollouts, kept smooth in the action by a
/// penalty on interval bounds, then run PGD on the observation to minimise `Q(s, π(s + δ))` — the
/// value, at the true state, of the action the fooled victim takes. `rs+mad` maximises
/// `(1 − r)·(−Q) + r·KL(π(s) ‖ π(s + δ))` instead, MAD's divergence mixed in with ratio `r`.
///
/// Learning one value function (a 64-64 tanh MLP on the victim's network input and its outputs,
/// the Gaussian mean or the action), over `sarsa_iterations` rounds of `sarsa_rollout` (2048) victim steps, each
/// followed by `sarsa_epochs` (10) passes of 32 minibatches:
///
/// | term | definition |
/// |---|---|
/// | TD target | `y = r/σ + γ (1 − terminated) Q(s′, π(s′))`, `σ` the std of the first round's discounted returns |
/// | loss | `Huber(Q(s, a) − y) + reg · mean(max(Q̄ − Q, Q − Q̲)²)` |
/// | bounds | `[Q̲, Q̄]` by interval bound propagation over actions `a ± sarsa_eps·ramp` (state fixed) |
/// | ramp | 0 for the first third of the rounds, linear over the second, 1 after |
/// | Adam | `sarsa_lr` for two thirds of the rounds, then linearly to 0 |
///
/// `sarsa_eps` and `reg` take lists (`0.02|0.1`): one value function per pair, and the attack
/// keeps the pair (and for `rs+mad` then the ratio) whose attack leaves the victim the lowest mean
/// return over `calibration` episodes at the evaluation's ε. Three choices differ from SA-PPO's
/// code on purpose: each TD target uses the transition's own successor (SA-PPO pairs neighbours of
/// a shuffled minibatch); the bounds cover the action only, with IBP alone (no CROWN mix); the
/// calibration episodes' seeds are not the evaluation's, so the pick does not flatter the attack.
/// Value functions are cached per victim, environment, settings and precision, in
/// `$GAUNTLET_CACHE/robust-sarsa` (default `~/.cache/gauntlet`).
public struct RobustSarsa: Attack {
    /// How one value function is learned.
    public struct ValueLearning: Hashable, Sendable, Codable {
        public var actionEpsilon: Double
        public var regularizer: Double
        public var iterations: Int
        /// Victim steps per round.
        public var rolloutSteps: Int
        /// Passes over each round's steps.
        public var epochs: Int
        public var learningRate: Double
        public var gamma: Double
        public var seed: UInt64

        public init(
            actionEpsilon: Double, regularizer: Double, iterations: Int = 30, rolloutSteps: Int = 2048, epochs: Int = 10,
            learningRate: Double = 1e-3, gamma: Double = 0.99, seed: UInt64 = 0
        ) {
            self.actionEpsilon = actionEpsilon
            self.regularizer = regularizer
            self.iterations = iterations
            self.rolloutSteps = rolloutSteps
            self.epochs = epochs
            self.learningRate = learningRate
            self.gamma = gamma
            self.seed = seed
        }

        public static let minibatches = 32
        public static let hidden = [64, 64]
    }

    public var actionEpsilons: [Double]
    public var regularizers: [Double]
    /// MAD's share of the objective, tried in turn after the value function is chosen (`[0]`: `rs`).
    public var madRatios: [Double]
    /// How each value function is learned; its radius and penalty weight are replaced by each
    /// grid pair's, its seed also seeds the calibration episodes.
    public var learning: ValueLearning
    public var calibrationEpisodes: Int
    public var ascent: RandomStartAscent
    /// Where learned value functions are kept (nil: `$GAUNTLET_CACHE/robust-sarsa`, default
    /// `~/.cache/gauntlet/robust-sarsa`).
    public var cacheDirectory: URL?
    /// After `prepared`: the value function (a `Sequential` in the victim's precision), how it was
    /// learned and the MAD ratio kept.
    public private(set) var chosen: Chosen?

    /// The value function and ratio an attack evaluation uses.
    public struct Chosen: Sendable {
        public let value: any Sendable
        public let learning: ValueLearning
        public let madRatio: Double
        /// The calibration episodes' mean return of every candidate tried, by its label.
        public let calibration: [(candidate: String, meanReturn: Double)]
        /// Victim steps spent learning the value functions and calibrating.
        public let environmentSteps: Int
    }

    public var preparation: AttackPreparation? {
        guard let chosen else { return nil }
        var choice = "Q from sarsa_eps=\(chosen.learning.actionEpsilon), reg=\(chosen.learning.regularizer)"
        if madRatios != [0] { choice += ", mad_ratio=\(chosen.madRatio)" }
        if !chosen.calibration.isEmpty {
            let tried = chosen.calibration.map { String(format: "%@ %.1f", $0.candidate, $0.meanReturn) }
            choice += " (calibration mean returns: \(tried.joined(separator: "; ")))"
        }
        return AttackPreparation(environmentSteps: chosen.environmentSteps, choice: choice)
    }

    public init(
        actionEpsilons: [Double] = [0.02, 0.1, 0.3], regularizers: [Double] = [0.1, 1, 10], madRatios: [Double] = [0],
        learning: ValueLearning = ValueLearning(actionEpsilon: 0.02, regularizer: 0.1), calibrationEpisodes: Int = 5,
        ascent: RandomStartAscent = RandomStartAscent()
    ) {
        self.actionEpsilons = actionEpsilons
        self.regularizers = regularizers
        self.madRatios = madRatios
        self.learning = learning
        self.calibrationEpisodes = calibrationEpisodes
        self.ascent = ascent
    }

    /// The attack with a given value function, skipping learning and calibration.
    public func using<S: BLASScalar>(value: Sequential<S>, learning: ValueLearning, madRatio: Double) -> RobustSarsa {
        var copy = self
        copy.chosen = Chosen(value: value, learning: learning, madRatio: madRatio, calibration: [], environmentSteps: 0)
        return copy
    }

    static let actionEpsilonParameter = AttackParameter(
        "sarsa_eps", .text, default: "0.02|0.1|0.3", "action-ball radii of the value functions' penalty (| separates a grid)")
    static let regularizerParameter = AttackParameter(
        "reg", .text, default: "0.1|1|10", "weights of the value functions' bound penalty (| separates a grid)")
    static let madRatioParameter = AttackParameter(
        "mad_ratio", .text, default: "0.0001|0.001|0.01|0.1", "MAD's share of the objective (| separates a grid)")
    static let iterationsParameter = AttackParameter.integer(
        "sarsa_iterations", default: 30, in: 3...100_000, "rounds of victim steps the value function learns from")
    static let rolloutParameter = AttackParameter.integer(
        "sarsa_rollout", default: 2048, in: 64...10_000_000, "victim steps per round")
    static let epochsParameter = AttackParameter.integer("sarsa_epochs", default: 10, in: 1...10_000, "passes over each round")
    static let learningRateParameter = AttackParameter.number(
        "sarsa_lr", default: 1e-3, in: 1e-8...1, "the value function's Adam step size")
    static let gammaParameter = AttackParameter.number("gamma", default: 0.99, in: 0...0.9999, "the value function's discount")
    static let seedParameter = AttackParameter.integer(
        "seed", default: 0, in: 0...Int.max, "seed of the value learning and calibration")
    static let calibrationParameter = AttackParameter.integer(
        "calibration", default: 5, in: 1...10_000, "episodes per candidate when a grid is given")
    static let sharedParameters =
        [
            actionEpsilonParameter, regularizerParameter, iterationsParameter, rolloutParameter, epochsParameter,
            learningRateParameter, gammaParameter, seedParameter,
            calibrationParameter,
        ] + RandomStartAscent.parameters

    public static let description = AttackDescription(
        name: "rs", summary: "Robust Sarsa: PGD minimising a learned, action-smooth Q(s, π(s+δ)) (SA-PPO)",
        family: .whiteBox, ascent: .iterative(onOneStepObjective: false), parameters: sharedParameters,
        cheapSettings: [
            "sarsa_iterations": "3", "sarsa_rollout": "256", "calibration": "1", "steps": "3", "sarsa_eps": "0.1", "reg": "1",
        ]
    ) { spec, _ throws(AttackError) in try RobustSarsa(spec, madRatios: [0]) }

    public static let withMAD = AttackDescription(
        name: "rs+mad", summary: "Robust Sarsa's objective mixed with MAD's divergence (SA-PPO's RS+MAD)",
        family: .whiteBox, ascent: .iterative(onOneStepObjective: false), parameters: sharedParameters + [madRatioParameter],
        cheapSettings: [
            "sarsa_iterations": "3", "sarsa_rollout": "256", "calibration": "1", "steps": "3", "sarsa_eps": "0.1", "reg": "1",
            "mad_ratio": "0.1",
        ]
    ) { spec, _ throws(AttackError) in try RobustSarsa(spec, madRatios: try list(spec, madRatioParameter, in: 0...1)) }

    init(_ spec: AttackSpec, madRatios: [Double]) throws(AttackError) {
        self.init(
            actionEpsilons: try Self.list(spec, Self.actionEpsilonParameter, in: 0...1e6),
            regularizers: try Self.list(spec, Self.regularizerParameter, in: 0...1e6), madRatios: madRatios,
            learning: ValueLearning(
                actionEpsilon: 0, regularizer: 0, iterations: try spec.int(Self.iterationsParameter),
                rolloutSteps: try spec.int(Self.rolloutParameter), epochs: try spec.int(Self.epochsParameter),
                learningRate: try spec.double(Self.learningRateParameter), gamma: try spec.double(Self.gammaParameter),
                seed: UInt64(try spec.int(Self.seedParameter))),
            calibrationEpisodes: try spec.int(Self.calibrationParameter), ascent: try RandomStartAscent(spec))
    }

    /// A `|`-separated list of numbers in `range`.
    static func list(_ spec: AttackSpec, _ parameter: AttackParameter, in range: ClosedRange<Double>) throws(AttackError)
        -> [Double]
    {
        let text = try spec.text(parameter)
        var values: [Double] = []
        for item in text.split(separator: "|", omittingEmptySubsequences: false) {
            guard let value = Double(item), value.isFinite, range.contains(value) else {
                throw AttackError(
                    "\(spec.name): '\(parameter.key)' must be numbers in [\(range.lowerBound), \(range.upperBound)] separated by |, got '\(text)'"
                )
            }
            values.append(value)
        }
        return values
    }

    public var spec: String {
        func joined(_ values: [Double]) -> String { values.map { "\($0)" }.joined(separator: "|") }
        var parameters: [String: CustomStringConvertible] = ascent.parameters.merging([
            "sarsa_eps": joined(actionEpsilons), "reg": joined(regularizers), "sarsa_iterations": learning.iterations,
            "sarsa_rollout": learning.rolloutSteps, "sarsa_epochs": learning.epochs, "sarsa_lr": learning.learningRate,
            "gamma": learning.gamma, "seed": learning.seed, "calibration": calibrationEpisodes,
        ]) { $1 }
        if madRatios != [0] { parameters["mad_ratio"] = joined(madRatios) }
        return formatSpec(madRatios == [0] ? "rs" : "rs+mad", parameters)
    }

    public func validate<S: BLASScalar>(for policy: Policy<S>) throws(AttackError) {
        guard !policy.head.isDiscrete else {
            throw AttackError(
                "\(madRatios == [0] ? "rs" : "rs+mad"): Robust Sarsa attacks continuous-action policies; this one has discrete actions"
            )
        }
    }

    /// Learns (or loads from the cache) a value function per grid pair and keeps the strongest
    /// attack on calibration episodes of `environment` at `threatModel`'s radius.
    public func prepared<S: BLASScalar>(
        for policy: Policy<S>, environment: String, threatModel: ThreatModel, progress: ((String) -> Void)?
    ) throws(AttackError) -> any Attack {
        if chosen != nil || threatModel.epsilon == 0 { return self }
        try validate(for: policy)
        var candidates: [(label: String, learning: ValueLearning, value: Sequential<S>)] = []
        for actionEpsilon in actionEpsilons {
            for regularizer in regularizers {
                var learning = self.learning
                (learning.actionEpsilon, learning.regularizer) = (actionEpsilon, regularizer)
                progress?("learning Q(s, a) with sarsa_eps=\(actionEpsilon), reg=\(regularizer)")
                let value = try Self.valueFunction(of: policy, in: environment, learning: learning, cache: cacheDirectory)
                candidates.append(("sarsa_eps=\(actionEpsilon),reg=\(regularizer)", learning, value))
            }
        }
        var calibration: [(candidate: String, meanReturn: Double)] = []
        var environmentSteps = candidates.count * learning.iterations * learning.rolloutSteps
        func calibrated(_ attack: RobustSarsa, _ label: String) throws(AttackError) -> Double {
            let (meanReturn, steps) = try attack.calibrationReturn(
                policy: policy, environment: environment, threatModel: threatModel)
            environmentSteps += steps
            calibration.append((label, meanReturn))
            progress?("calibration \(label): mean return \(meanReturn)")
            return meanReturn
        }
        let single = candidates.count == 1 && madRatios.count == 1
        var best = using(value: candidates[0].value, learning: candidates[0].learning, madRatio: madRatios[0])
        if !single {
            // The value function first, by the pure RS objective unless only one ratio is asked
            // for; then the ratio with that value function (SA-PPO's order for RS+MAD).
            let firstRatio = madRatios.count == 1 ? madRatios[0] : 0
            var bestReturn = Double.infinity
            for candidate in candidates {
                let attack = using(value: candidate.value, learning: candidate.learning, madRatio: firstRatio)
                let meanReturn = candidates.count == 1 ? -Double.infinity : try calibrated(attack, candidate.label)
                if meanReturn < bestReturn { (best, bestReturn) = (attack, meanReturn) }
            }
            if madRatios.count > 1 {
                bestReturn = .infinity
                let value = best.chosen!.value as! Sequential<S>
                let learning = best.chosen!.learning
                for ratio in madRatios {
                    let attack = using(value: value, learning: learning, madRatio: ratio)
                    let meanReturn = try calibrated(attack, "mad_ratio=\(ratio)")
                    if meanReturn < bestReturn { (best, bestReturn) = (attack, meanReturn) }
                }
            }
        }
        best.chosen = Chosen(
            value: best.chosen!.value, learning: best.chosen!.learning, madRatio: best.chosen!.madRatio, calibration: calibration,
            environmentSteps: environmentSteps)
        return best
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        guard threatModel.epsilon > 0 else { return AttackResult(perturbed: observations, queries: 0) }
        guard let chosen, let value = chosen.value as? Sequential<S> else {
            preconditionFailure("rs: prepare the attack for its victim first (EpisodeRunner does)")
        }
        let ratio = S(chosen.madRatio)
        let k = policy.outputDimension
        let d = value.inputDimensions - k
        let clean = policy.outputs(observations)
        let weights = policy.head.divergenceWeights.map { $0.map { S($0) } } ?? Array(repeating: 1, count: k)
        // Q's input: the clean network input, then the outputs at the perturbed point.
        var input = Matrix<S>(rows: observations.rows, columns: d + k)
        let states = policy.scaled(observations)
        for r in 0..<observations.rows { for j in 0..<d { input[r, j] = states[r, j] } }
        let workspace = policy.workspace(batch: observations.rows, unpackedProducts: true)
        let valueWorkspace = Workspace(for: value, batch: observations.rows)
        var none: [S] = []
        var ones = Matrix<S>(rows: observations.rows, columns: 1)
        for r in 0..<observations.rows { ones[r, 0] = 1 }
        /// The objective per row at outputs `z` and, when `gradient` is given, `∂/∂z` into it.
        func objective(_ z: UnsafePointer<S>, gradient: UnsafeMutablePointer<S>?) -> [S] {
            for r in 0..<observations.rows { for j in 0..<k { input[r, d + j] = z[r * k + j] } }
            let q = value.forward(input, workspace: valueWorkspace)
            var values = [S](repeating: 0, count: observations.rows)
            for r in 0..<observations.rows {
                var divergence: S = 0
                for j in 0..<k {
                    let difference = z[r * k + j] - clean[r, j]
                    divergence += weights[j] * difference * difference / 2
                }
                values[r] = (1 - ratio) * -q[r, 0] + ratio * divergence
            }
            guard let gradient else { return values }
            let inputGradient = value.backward(
                outputGradient: ones, workspace: valueWorkspace, parameterGradient: &none, request: .input)!
            for r in 0..<observations.rows {
                for j in 0..<k {
                    gradient[r * k + j] =
                        (1 - ratio) * -inputGradient[r, d + j] + ratio * weights[j] * (z[r * k + j] - clean[r, j])
                }
            }
            return values
        }
        var best = observations
        var bestValues = [S](repeating: -.infinity, count: observations.rows)
        var gradient = Matrix<S>(rows: observations.rows, columns: observations.columns)
        let stepSize = ascent.alphaRatio * threatModel.epsilon
        for _ in 0..<ascent.restarts {
            var current = threatModel.randomPoint(around: observations, random: random)
            for _ in 0..<ascent.steps {
                policy.inputGradient(current, workspace: workspace, into: &gradient) { z, dz in _ = objective(z, gradient: dz) }
                threatModel.ascend(&current, along: gradient, size: stepSize, around: observations)
            }
            let values = policy.outputs(current).storage.withUnsafeBufferPointer { objective($0.baseAddress!, gradient: nil) }
            for r in 0..<observations.rows where values[r] > bestValues[r] {
                bestValues[r] = values[r]
                best.setRow(r, to: current.row(r))
            }
        }
        return AttackResult(perturbed: best, queries: 1 + ascent.restarts * (ascent.steps + 1))
    }

    // MARK: - Calibration

    /// The victim's mean return under this attack over `calibrationEpisodes` episodes whose
    /// seeds are drawn from the attack's own stream (not the evaluation's seeds), and the steps
    /// they took.
    func calibrationReturn<S: BLASScalar>(policy: Policy<S>, environment: String, threatModel: ThreatModel) throws(AttackError)
        -> (meanReturn: Double, steps: Int)
    {
        let random = RandomStream(seed: learning.seed).child("calibration")
        let attackRandom = random.child("attack")
        let envs: [TimeLimit]
        do throws(EnvironmentError) {
            envs = try (0..<calibrationEpisodes).map { _ throws(EnvironmentError) in try Registry.make(environment) }
        } catch { throw AttackError("rs: \(error.description)") }
        var observations = envs.map { $0.reset(seed: UInt64(random.integer(below: Int(UInt32.max)))) }
        var returns = [Double](repeating: 0, count: envs.count)
        var active = Array(envs.indices)
        var steps = 0
        while !active.isEmpty {
            steps += active.count
            let clean = Matrix<S>(active.map { observations[$0].map { S($0) } })
            let perturbed = perturb(clean, policy: policy, threatModel: threatModel, random: attackRandom).perturbed
            let actions = policy.actions(perturbed)
            var still: [Int] = []
            for (row, i) in active.enumerated() {
                let step = envs[i].step(actions[row])
                if let failure = envs[i].failure { throw AttackError("rs: \(failure.description)") }
                returns[i] += step.reward
                observations[i] = step.observation
                if !step.terminated && !step.truncated { still.append(i) }
            }
            active = still
        }
        return (Statistics.mean(returns), steps)
    }

    // MARK: - Learning the value function

    /// The value function of `policy` in `environment` learned as `learning` says, from the
    /// cache when it holds one.
    public static func valueFunction<S: BLASScalar>(
        of policy: Policy<S>, in environment: String, learning: ValueLearning, cache: URL? = nil
    ) throws(AttackError) -> Sequential<S> {
        let sizes = [policy.observationDimension + policy.outputDimension] + ValueLearning.hidden + [1]
        let cached = cacheFile(policy: policy, environment: environment, learning: learning, directory: cache)
        if let cached, let file = try? Safetensors.read(contentsOf: cached),
            let parameters = file.tensors["parameters"]?.floatingPoint(as: S.self),
            let network = try? Sequential<S>(
                modules: Sequential<S>.mlpModules(sizes: sizes, activation: .tanh), parameters: parameters)
        {
            return network
        }
        let network = try learn(policy: policy, environment: environment, learning: learning)
        if let cached {
            let tensor: Safetensors.Tensor =
                S.self == Float.self
                ? .init(shape: [network.parameters.count], float32: network.parameters.map { Float($0) })
                : .init(shape: [network.parameters.count], float64: network.parameters.map { Double($0) })
            try? FileManager.default.createDirectory(at: cached.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? Safetensors(tensors: ["parameters": tensor], metadata: ["environment": environment]).write(to: cached)
        }
        return network
    }

    /// Where the value function of this victim, environment, learning and precision is cached
    /// in `directory` or the default one (nil when there is no home directory to put it in).
    static func cacheFile<S: BLASScalar>(policy: Policy<S>, environment: String, learning: ValueLearning, directory: URL?)
        -> URL?
    {
        let root: URL
        if let directory {
            root = directory
        } else if let directory = ProcessInfo.processInfo.environment["GAUNTLET_CACHE"], !directory.isEmpty {
            root = URL(fileURLWithPath: directory).appendingPathComponent("robust-sarsa")
        } else if let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty {
            root = URL(fileURLWithPath: home).appendingPathComponent(".cache/gauntlet/robust-sarsa")
        } else {
            return nil
        }
        var identity = "\(environment)|\(policy.kind.rawValue)|\(S.self)|\(policy.defenses.map(\.spec))|\(learning)|"
        identity += policy.network.parameters.map { "\($0)" }.joined(separator: ",")
        identity += "|\(policy.logStd)|\(policy.scaling.map { "\($0.mean)\($0.std)\($0.clip)" } ?? "")"
        return root.appendingPathComponent("\(FNV1a.hex(identity)).safetensors")
    }

    /// Sarsa on the victim's own rollouts with the interval-bound penalty (the table above).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func learn<S: BLASScalar>(policy: Policy<S>, environment: String, learning: ValueLearning) throws(AttackError)
        -> Sequential<S>
    {
        let env: TimeLimit
        do throws(EnvironmentError) { env = try Registry.make(environment) } catch {
            throw AttackError("rs: \(error.description)")
        }
        guard env.base.observationSpace.dimension == policy.observationDimension else {
            throw AttackError(
                "rs: the policy expects \(policy.observationDimension) observation values but \(environment) gives \(env.base.observationSpace.dimension)"
            )
        }
        let random = RandomStream(seed: learning.seed).child("robust-sarsa")
        let episodeSeeds = random.child("episodes")
        let minibatchRandom = random.child("minibatches")
        let d = policy.observationDimension
        let k = policy.outputDimension
        var network: Sequential<S>
        do throws(NetworkError) {
            network = try Sequential<S>.mlp(
                sizes: [d + k] + ValueLearning.hidden + [1], activation: .tanh, random: random.child("init"))
        } catch { throw AttackError("rs: \(error.description)") }
        var adam = Adam<S>(parameterCount: network.parameterCount, learningRate: learning.learningRate, epsilon: 1e-5)
        let n = learning.rolloutSteps
        var observation = env.reset(seed: UInt64(episodeSeeds.integer(below: Int(UInt32.max))))
        var rewardScale: Double? = nil
        /// The victim's outputs at an observation, and Q's input there (network input, outputs).
        func observed(_ observation: [Float]) -> (outputs: Matrix<S>, input: [S]) {
            let x = Matrix<S>(row: observation.map { S($0) })
            let z = policy.outputs(x)
            return (z, policy.scaled(x).row(0) + z.row(0))
        }
        for iteration in 0..<learning.iterations {
            // Rollouts: n transitions (s, π(s), r, terminated, s′, π(s′)) of the victim.
            var inputs = Matrix<S>(rows: n, columns: d + k)
            var nextInputs = Matrix<S>(rows: n, columns: d + k)
            var rewards = [Double](repeating: 0, count: n)
            var continues = [S](repeating: 1, count: n)
            var episodeEnds = [Bool](repeating: false, count: n)
            var (outputs, input) = observed(observation)
            for t in 0..<n {
                inputs.setRow(t, to: input)
                let step = env.step(policy.actions(fromOutputs: outputs)[0])
                if let failure = env.failure { throw AttackError("rs: \(failure.description)") }
                rewards[t] = step.reward
                if step.terminated { continues[t] = 0 }
                let (nextOutputs, nextInput) = observed(step.observation)
                nextInputs.setRow(t, to: nextInput)
                if step.terminated || step.truncated {
                    episodeEnds[t] = true
                    observation = env.reset(seed: UInt64(episodeSeeds.integer(below: Int(UInt32.max))))
                    (outputs, input) = observed(observation)
                } else {
                    (outputs, input) = (nextOutputs, nextInput)
                    observation = step.observation
                }
            }
            if rewardScale == nil {
                rewardScale = discountedReturnDeviation(rewards, episodeEnds: episodeEnds, gamma: learning.gamma)
            }
            let scaledRewards = rewards.map { S($0 / rewardScale!) }
            // Schedules (SA-PPO's): the penalty's radius ramps over the second third of the
            // rounds; the step size stays for two thirds, then falls linearly to 0.
            let third = Double(learning.iterations) / 3
            let ramp = min(max((Double(iteration + 1) - third) / third, 0), 1)
            let radius = S(learning.actionEpsilon * ramp)
            adam.learningRate =
                learning.learningRate
                * min(1, Double(learning.iterations - iteration) / Double(learning.iterations - 2 * Int(third)))
            let size = n / ValueLearning.minibatches
            for _ in 0..<learning.epochs {
                let order = minibatchRandom.permutation(n)
                for start in stride(from: 0, to: n, by: size) {
                    let rows = Array(order[start..<min(start + size, n)])
                    let batch = inputs.gathering(rows: rows)
                    let nextBatch = nextInputs.gathering(rows: rows)
                    let (_, gradient) = lossAndGradient(
                        network, inputs: batch, nextInputs: nextBatch, rewards: rows.map { scaledRewards[$0] },
                        continues: rows.map { continues[$0] }, gamma: S(learning.gamma), actionColumns: d..<(d + k),
                        radius: radius, regularizer: S(learning.regularizer))
                    adam.update(&network.parameters, gradient: gradient)
                }
            }
            guard network.parameters.allFinite() else {
                throw AttackError("rs: the value function diverged at round \(iteration + 1); lower sarsa_lr")
            }
        }
        return network
    }

    /// The loss of the table above on one minibatch and its gradient with respect to the value
    /// function's parameters (the TD target held fixed, as a semi-gradient).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func lossAndGradient<S: BLASScalar>(
        _ network: Sequential<S>, inputs: Matrix<S>, nextInputs: Matrix<S>, rewards: [S], continues: [S], gamma: S,
        actionColumns: Range<Int>, radius: S, regularizer: S
    ) -> (loss: S, gradient: [S]) {
        let m = inputs.rows
        let workspace = Workspace(for: network, batch: m)
        let q = network.forward(inputs, workspace: workspace)
        let next = network(nextInputs)
        var targets = Matrix<S>(rows: m, columns: 1)
        for r in 0..<m { targets[r, 0] = rewards[r] + gamma * continues[r] * next[r, 0] }
        let huber = Loss.huber(q, targets)
        var loss = huber.value
        var outputGradient = huber.gradient
        var gradient = [S](repeating: 0, count: network.parameterCount)
        if radius > 0 && regularizer > 0 {
            var lower = inputs
            var upper = inputs
            for r in 0..<m {
                for j in actionColumns {
                    lower[r, j] -= radius
                    upper[r, j] += radius
                }
            }
            let (_, boundGradient) = network.intervalBoundsParameterGradient(IntervalBounds(lower: lower, upper: upper)) {
                bounds in
                var gLower = Matrix<S>(rows: m, columns: 1)
                var gUpper = Matrix<S>(rows: m, columns: 1)
                for r in 0..<m {
                    let above = bounds.upper[r, 0] - q[r, 0]
                    let below = q[r, 0] - bounds.lower[r, 0]
                    let gap = max(above, below)
                    loss += regularizer * gap * gap / S(m)
                    let weight = 2 * regularizer * gap / S(m)
                    if above >= below {
                        gUpper[r, 0] = weight
                        outputGradient[r, 0] -= weight
                    } else {
                        gLower[r, 0] = -weight
                        outputGradient[r, 0] += weight
                    }
                }
                return (gLower, gUpper)
            }
            gradient = boundGradient
        }
        network.backward(
            outputGradient: outputGradient, workspace: workspace, parameterGradient: &gradient, accumulate: true,
            request: .parameters)
        return (loss, gradient)
    }

    /// The standard deviation of the discounted returns `G_t = r_t + γ G_{t+1}` within a round
    /// (restarting at episode ends; the round's last steps count as truncated), 1 if it is 0.
    public static func discountedReturnDeviation(_ rewards: [Double], episodeEnds: [Bool], gamma: Double) -> Double {
        var returns = [Double](repeating: 0, count: rewards.count)
        var following = 0.0
        for t in rewards.indices.reversed() {
            following = rewards[t] + (episodeEnds[t] ? 0 : gamma * following)
            returns[t] = following
        }
        let deviation = Statistics.standardDeviation(returns)
        return deviation > 0 && deviation.isFinite ? deviation : 1
    }
}

extension Matrix {
    /// The given rows, in order.
    fileprivate func gathering(rows indices: [Int]) -> Matrix {
        var result = Matrix(rows: indices.count, columns: columns)
        result.storage.withUnsafeMutableBufferPointer { target in
            storage.withUnsafeBufferPointer { source in
                for (k, i) in indices.enumerated() {
                    (target.baseAddress! + k * columns).update(from: source.baseAddress! + i * columns, count: columns)
                }
            }
        }
        return result
    }
}

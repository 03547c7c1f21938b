import Agents
import Attacks
import Environments
import Foundation
import Linalg
import NeuralNet

/// Runs a policy for whole episodes on fixed seeds: episode `e` resets with seed `S + e`, so
/// any evaluation can be repeated exactly and two evaluations on the same seeds are paired.
/// With an attack, the policy acts on perturbed observations (the environment itself is never
/// changed) and every step also records the clean action — what the policy would have done
/// unattacked — so action flips are counted.
///
/// Episodes run in groups of `copies` vectorised copies (the policy and the attack see one batch
/// per step). Sampled actions draw from a stream per episode, ε-greedy exploration from another;
/// the attack from a stream per group, so results are deterministic for a given seed and `copies`.
public struct EpisodeRunner<Scalar: BLASScalar> {
    public var policy: Policy<Scalar>
    public var environment: String
    public var selection: ActionSelection
    /// ε-greedy evaluation (discrete actions): with this probability a step takes a random action
    /// instead of the policy's — from the environment's `randomActionWeights`, else uniformly — as
    /// DQN's training return and the Atari papers' evaluations do. Attacks and flips still concern
    /// the policy's own action.
    public var exploration = 0.0
    /// Episodes run side by side.
    public var copies: Int
    public var attack: (any Attack)?
    public var threatModel: ThreatModel?
    /// Keep every clean observation seen (for measuring per-dimension standard deviations).
    public var recordObservations = false
    /// Keep a full trace of every step (for replay files).
    public var recordTraces = false
    /// Told after every batched step how far the run is (for progress displays).
    public var progress: ((EpisodeProgress) -> Void)?
    /// Told what an attack does to prepare for the victim (Robust Sarsa learning its value
    /// function) before the first episode.
    public var preparation: ((String) -> Void)?

    /// Episodes run side by side unless told otherwise.
    public static var defaultCopies: Int { 16 }

    public init(
        policy: Policy<Scalar>, environment: String, selection: ActionSelection = .mode, copies: Int = defaultCopies,
        attack: (any Attack)? = nil, threatModel: ThreatModel? = nil
    ) {
        precondition((attack == nil) == (threatModel == nil), "an attack needs a threat model")
        self.policy = policy
        self.environment = environment
        self.selection = selection
        self.copies = max(1, copies)
        self.attack = attack
        self.threatModel = threatModel
    }

    /// Runs `count` episodes with seeds `seed, seed + 1, …`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func run(episodes count: Int, seed: UInt64) throws(EnvironmentError) -> [EpisodeOutcome] {
        var attack = self.attack
        if let unprepared = attack, let threatModel {
            do throws(AttackError) {
                attack = try unprepared.prepared(
                    for: policy, environment: environment, threatModel: threatModel, progress: preparation)
            } catch { throw EnvironmentError(error.description) }
        }
        let root = RandomStream(seed: seed)
        let actionStreams = root.child("actions")
        let attackStreams = root.child("attack")
        let defenseStreams = root.child("defense")
        let explorationStreams = root.child("exploration")
        var results: [EpisodeOutcome] = []
        var start = 0
        var steps = 0
        while start < count {
            let group = min(copies, count - start)
            var envs: [TimeLimit] = []
            for _ in 0..<group { envs.append(try Registry.make(environment)) }
            guard envs[0].base.observationSpace.dimension == policy.observationDimension else {
                throw EnvironmentError(
                    "the policy expects \(policy.observationDimension) observation values but \(environment) gives \(envs[0].base.observationSpace.dimension)"
                )
            }
            let streams = (0..<group).map { actionStreams.child(start + $0) }
            let explorers = try (0..<group).map { episode throws(EnvironmentError) in
                try explorer(for: envs[0].base, random: explorationStreams.child(start + episode))
            }
            let attackRandom = attackStreams.child(start / copies)
            var policy = self.policy
            if policy.isRandomized {
                policy.defenseRandom = DefenseRandomness(defenseStreams.child(start / copies))
            }
            var observations = (0..<group).map { envs[$0].reset(seed: seed &+ UInt64(start + $0)) }
            for env in envs.prefix(group) { try env.checkFailure() }
            var outcomes = (0..<group).map { EpisodeOutcome(seed: seed &+ UInt64(start + $0)) }
            var finished = [Bool](repeating: false, count: group)
            let workspace = policy.workspace(batch: group)  // reused every step
            while finished.contains(false) {
                let active = (0..<group).filter { !finished[$0] }
                let clean = Matrix<Scalar>(active.map { observations[$0].map { Scalar($0) } })
                let cleanOutputs = policy.outputs(clean, workspace: workspace)
                var actedOutputs = cleanOutputs
                var attackedRows: [Int] = []
                var perturbedObservations = Matrix<Scalar>(rows: 0, columns: clean.columns)
                if let attack, let threatModel {
                    attackedRows = active.indices.filter { k in
                        threatModel.schedule.shouldAttack(
                            attackedSoFar: outcomes[active[k]].attackedSteps, cleanOutputs: cleanOutputs.row(k),
                            discrete: policy.head.isDiscrete
                        )
                    }
                    if !attackedRows.isEmpty {
                        let everyRow = attackedRows.count == active.count
                        let targets = everyRow ? clean : Matrix<Scalar>(attackedRows.map { clean.row($0) })
                        let result = attack.perturb(
                            targets, cleanOutputs: everyRow ? cleanOutputs : Matrix(attackedRows.map { cleanOutputs.row($0) }),
                            steps: attackedRows.map { outcomes[active[$0]].length }, policy: policy, threatModel: threatModel,
                            random: attackRandom)
                        perturbedObservations = result.perturbed
                        let perturbedOutputs = result.outputs ?? policy.outputs(result.perturbed, workspace: workspace)
                        for (m, k) in attackedRows.enumerated() {
                            actedOutputs.setRow(k, to: perturbedOutputs.row(m))
                            outcomes[active[k]].queries += result.queries
                        }
                    }
                }
                // Every row's action at once; the clean actions (modes) only for traces and flips.
                let head = policy.head
                let actions =
                    selection == .mode
                    ? head.actions(actedOutputs, selection: .mode, random: nil)
                    : (0..<active.count).map {
                        head.action(actedOutputs.row($0), selection: selection, random: streams[active[$0]])
                    }
                let cleanActions =
                    recordTraces || !attackedRows.isEmpty ? head.actions(cleanOutputs, selection: .mode, random: nil) : actions
                for (k, i) in active.enumerated() {
                    if recordObservations { outcomes[i].observations.append(observations[i]) }
                    let action = explorers[i]?() ?? actions[k]
                    let attacked = attackedRows.firstIndex(of: k)
                    let cleanAction = cleanActions[k]
                    if recordTraces {
                        let perceived = attacked.map { perturbedObservations.row($0).map { Float($0) } } ?? observations[i]
                        outcomes[i].trace.append(
                            TraceStep(
                                observation: observations[i], perceived: perceived, cleanAction: cleanAction, action: action))
                    }
                    if attacked != nil {
                        outcomes[i].attackedSteps += 1
                        let takenMode =
                            selection == .mode ? action : head.action(actedOutputs.row(k), selection: .mode, random: nil)
                        if cleanAction != takenMode { outcomes[i].flips += 1 }
                    }
                    let result = envs[i].step(action)
                    try envs[i].checkFailure()
                    if recordTraces { outcomes[i].trace[outcomes[i].trace.count - 1].reward = result.reward }
                    observations[i] = result.observation
                    outcomes[i].episodeReturn += result.reward
                    outcomes[i].length += 1
                    if result.terminated || result.truncated {
                        finished[i] = true
                        outcomes[i].terminated = result.terminated
                    }
                }
                steps += active.count
                if let progress {
                    progress(
                        EpisodeProgress(
                            finishedEpisodes: start + finished.filter { $0 }.count, episodes: count, steps: steps))
                }
            }
            results += outcomes
            start += group
        }
        return results
    }
}

extension EpisodeRunner {
    /// A draw per step for ε-greedy exploration: a random action with probability `exploration`,
    /// nil otherwise (the policy acts); nil altogether without exploration.
    func explorer(for environment: any Environment, random: RandomStream) throws(EnvironmentError) -> (() -> Action?)? {
        guard (0...1).contains(exploration) else {
            throw EnvironmentError("ε-greedy exploration must be a probability in [0, 1], not \(exploration)")
        }
        guard exploration > 0 else { return nil }
        guard case .discrete(let count) = environment.actionSpace else {
            throw EnvironmentError("ε-greedy exploration needs discrete actions; \(environment.id)'s are continuous")
        }
        let weights = environment.randomActionWeights
        let epsilon = exploration
        return {
            guard random.uniform() < epsilon else { return nil }
            return .discrete(weights.map { random.categorical($0) } ?? random.integer(below: count))
        }
    }
}

/// One evaluated episode.
public struct EpisodeOutcome: Equatable, Sendable, Codable {
    public var seed: UInt64
    public var episodeReturn = 0.0
    public var length = 0
    /// Whether the episode terminated (rather than being truncated by its time limit).
    public var terminated = false
    /// Steps the schedule attacked.
    public var attackedSteps = 0
    /// Attacked steps whose action (the mode) differs from the clean observation's.
    public var flips = 0
    /// Policy evaluations the attack spent.
    public var queries = 0
    /// The clean observations, when recorded.
    public var observations: [[Float]] = []
    /// Every step, when traces are recorded.
    public var trace: [TraceStep] = []

    public init(seed: UInt64) { self.seed = seed }
}

/// One recorded step: what the environment showed, what the policy perceived (after the
/// attack), the action it would have taken unattacked (its mode), the action it took, the reward.
public struct TraceStep: Equatable, Sendable, Codable {
    public var observation: [Float]
    public var perceived: [Float]
    public var cleanAction: Action
    public var action: Action
    public var reward = 0.0
}

/// Summary statistics of a set of episode returns with a 95% bootstrap interval for the mean.
public struct ReturnSummary: Equatable, Sendable, Codable {
    public var meanReturn: Double
    public var stdReturn: Double
    public var medianReturn: Double
    public var ci95: [Double]
    /// 95% bootstrap interval of the median.
    public var medianCi95: [Double]
    public var returns: [Double]

    /// The bootstrap draws from a stream derived from `seed`, so the interval is reproducible.
    public init(returns: [Double], seed: UInt64) {
        self.returns = returns
        meanReturn = Statistics.mean(returns)
        stdReturn = Statistics.standardDeviation(returns)
        medianReturn = Statistics.median(returns)
        let interval = ConfidenceInterval.bootstrapMean(
            returns, resamples: 10_000, random: RandomStream(seed: seed).child("bootstrap"))
        ci95 = [interval.lower, interval.upper]
        let median = ConfidenceInterval.bootstrap(
            returns, resamples: 2_000, random: RandomStream(seed: seed).child("bootstrap-median")
        ) {
            Statistics.median($0)
        }
        medianCi95 = [median.lower, median.upper]
    }
}

/// How far an `EpisodeRunner` is: episodes finished of those asked for, and environment steps
/// taken so far.
public struct EpisodeProgress: Sendable {
    public var finishedEpisodes: Int
    public var episodes: Int
    public var steps: Int
}

import Dispatch
import Linalg

/// N copies of an environment stepped together, with observations as one `[N × dim]` batch, as
/// Gymnasium's `SyncVectorEnv`.
///
/// Auto-reset follows Gymnasium 1.x. The default, `.nextStep` (Gymnasium's default
/// `AutoresetMode.NEXT_STEP`): the step on which an episode ends returns its final observation;
/// the next `step` resets that copy, ignores its action, and returns the reset observation with
/// reward 0 and both flags false. `.sameStep` (`AutoresetMode.SAME_STEP`): the copy is reset on
/// the step its episode ends, the batch holds the reset observation, and the final observation
/// is kept in `finalObservations` — what off-policy learners need for bootstrapping.
///
/// With `threads` above one, `step` advances the copies on that many threads (contiguous blocks of
/// copies); every copy's state is its own and the bookkeeping runs afterwards in copy order, so
/// the results are identical for any thread count.
public final class VectorEnvironment {
    public enum AutoresetMode: Sendable { case nextStep, sameStep }

    public let environments: [TimeLimit]
    public let autoresetMode: AutoresetMode
    public var count: Int { environments.count }
    public var observationDimension: Int { environments[0].base.observationSpace.dimension }

    /// The current observation of every copy, row `i` for copy `i`.
    public private(set) var observations: Matrix<Float>
    /// Reward, termination and truncation of the last step, per copy.
    public private(set) var rewards: [Double]
    public private(set) var terminated: [Bool]
    public private(set) var truncated: [Bool]
    /// With `.sameStep`: the final observation of each copy whose episode ended on the last step.
    public private(set) var finalObservations: [Int: [Float]] = [:]
    /// Returns, lengths and counts of episodes, updated every step.
    public private(set) var statistics: EpisodeStatistics
    private var needsReset: [Bool]
    /// Threads that step the copies (1: the calling thread only). Changes speed, never results.
    public var threads = 1
    /// Each copy's (reward, terminated, truncated) of the step in progress, written by the
    /// thread that steps it.
    private let stepOutcomes: UnsafeMutableBufferPointer<(Double, Bool, Bool)>

    /// `count` copies of environment `id`, made by `registry`.
    public convenience init(
        id: String, count: Int, autoresetMode: AutoresetMode = .nextStep,
        registry: EnvironmentRegistry = .builtIn
    ) throws(EnvironmentError) {
        guard count > 0 else { throw EnvironmentError("a vector environment needs at least one copy, got \(count)") }
        var environments: [TimeLimit] = []
        for _ in 0..<count { environments.append(try registry.make(id)) }
        self.init(environments, autoresetMode: autoresetMode)
    }

    public init(_ environments: [TimeLimit], autoresetMode: AutoresetMode = .nextStep) {
        precondition(!environments.isEmpty, "a vector environment needs at least one copy")
        let dimension = environments[0].base.observationSpace.dimension
        precondition(
            environments.allSatisfy { $0.base.observationSpace.dimension == dimension }, "copies must share an observation space")
        self.environments = environments
        self.autoresetMode = autoresetMode
        observations = Matrix(rows: environments.count, columns: dimension)
        rewards = Array(repeating: 0, count: environments.count)
        terminated = Array(repeating: false, count: environments.count)
        truncated = Array(repeating: false, count: environments.count)
        needsReset = Array(repeating: false, count: environments.count)
        statistics = EpisodeStatistics(count: environments.count)
        stepOutcomes = .allocate(capacity: environments.count)
        stepOutcomes.initialize(repeating: (0, false, false))
    }

    deinit { stepOutcomes.deallocate() }

    /// Resets every copy: copy `i` with seed `seed + i` (Gymnasium's convention), or continuing
    /// its own stream when `seed` is nil.
    /// The first copy's failure, if any copy failed (see `Environment.failure`).
    public var failure: EnvironmentError? { environments.lazy.compactMap(\.failure).first }

    @discardableResult
    public func reset(seed: UInt64? = nil) -> Matrix<Float> {
        for i in 0..<count {
            environments[i].reset(seed: seed.map { $0 &+ UInt64(i) })
            writeObservation(i)
            needsReset[i] = false
        }
        statistics.startAll()
        return observations
    }

    /// Steps every copy with its action; read the results from `observations`, `rewards`,
    /// `terminated`, `truncated`.
    public func step(_ actions: [Action]) {
        precondition(actions.count == count, "one action per copy")
        finalObservations.removeAll(keepingCapacity: true)
        let copies = count
        let workers = min(max(threads, 1), copies)
        if workers == 1 {
            for i in 0..<copies {
                advanceCopy(i, actions[i])
                finishCopy(i)
            }
            return
        }
        // Copy i touches only its own environment and `stepOutcomes[i]`; the shared arrays are only
        // read until every worker is done. The bookkeeping then runs in copy order, as above.
        nonisolated(unsafe) let vector = self
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            for i in (w * copies / workers)..<((w + 1) * copies / workers) { vector.advanceCopy(i, actions[i]) }
        }
        for i in 0..<copies { finishCopy(i) }
    }

    /// Copy i's bookkeeping after `advanceCopy`: its results, observation, statistics and reset.
    private func finishCopy(_ i: Int) {
        (rewards[i], terminated[i], truncated[i]) = stepOutcomes[i]
        writeObservation(i)
        if needsReset[i] {
            needsReset[i] = false
            statistics.start(i)
            return
        }
        let ended = terminated[i] || truncated[i]
        statistics.record(i, reward: rewards[i], ended: ended)
        if ended {
            switch autoresetMode {
            case .nextStep:
                needsReset[i] = true
            case .sameStep:
                finalObservations[i] = observations.row(i)
                environments[i].reset()
                writeObservation(i)
                statistics.start(i)
            }
        }
    }

    /// A copy's own work in a step: its reset (after an ended episode, `.nextStep`) or its
    /// transition, into `stepOutcomes[i]`.
    private func advanceCopy(_ i: Int, _ action: Action) {
        let env = environments[i]
        if needsReset[i] {
            env.reset()
            stepOutcomes[i] = (0, false, false)
        } else {
            stepOutcomes[i] = env.advance(action)
        }
    }

    /// Everything needed to continue exactly where this vector environment is.
    public struct Snapshot: Equatable, Sendable, Codable {
        public var environments: [EnvironmentSnapshot]
        public var elapsedSteps: [Int]
        public var needsReset: [Bool]
        public var statistics: EpisodeStatistics
        public var observations: [Float]
    }

    public var snapshot: Snapshot {
        Snapshot(
            environments: environments.map(\.base.snapshot), elapsedSteps: environments.map(\.elapsedSteps),
            needsReset: needsReset, statistics: statistics, observations: observations.storage)
    }

    public func restore(_ snapshot: Snapshot) throws(EnvironmentError) {
        guard snapshot.environments.count == count, snapshot.observations.count == observations.storage.count else {
            throw EnvironmentError("snapshot of \(snapshot.environments.count) copies, this vector environment has \(count)")
        }
        for (env, saved) in zip(environments, snapshot.environments) { try env.base.restore(saved) }
        for (env, steps) in zip(environments, snapshot.elapsedSteps) { env.elapsedSteps = steps }
        needsReset = snapshot.needsReset
        statistics = snapshot.statistics
        observations.storage = snapshot.observations
    }

    @inline(__always)
    private func writeObservation(_ i: Int) {
        let dimension = observationDimension
        observations.storage.withUnsafeMutableBufferPointer { buffer in
            environments[i].base.observe(
                into: UnsafeMutableBufferPointer(rebasing: buffer[(i * dimension)..<((i + 1) * dimension)]))
        }
    }
}

/// Episode returns and lengths of N environment copies, and totals (Gymnasium's
/// `RecordEpisodeStatistics`).
public struct EpisodeStatistics: Equatable, Sendable, Codable {
    /// One finished episode.
    public struct Episode: Equatable, Sendable, Codable {
        public var copy: Int
        public var episodeReturn: Double
        public var length: Int
    }

    /// Return and length of each copy's episode in progress.
    public private(set) var currentReturns: [Double]
    public private(set) var currentLengths: [Int]
    /// Every finished episode, in the order they ended.
    public private(set) var completed: [Episode] = []
    /// Environment steps taken (frames).
    public private(set) var totalSteps = 0

    public init(count: Int) {
        currentReturns = Array(repeating: 0, count: count)
        currentLengths = Array(repeating: 0, count: count)
    }

    mutating func startAll() {
        for i in currentReturns.indices { start(i) }
    }

    mutating func start(_ i: Int) {
        currentReturns[i] = 0
        currentLengths[i] = 0
    }

    mutating func record(_ i: Int, reward: Double, ended: Bool) {
        currentReturns[i] += reward
        currentLengths[i] += 1
        totalSteps += 1
        if ended { completed.append(Episode(copy: i, episodeReturn: currentReturns[i], length: currentLengths[i])) }
    }

    /// Mean return of the last `window` finished episodes (NaN if none finished).
    public func meanRecentReturn(window: Int = 100) -> Double {
        let recent = completed.suffix(window)
        return recent.isEmpty ? .nan : recent.reduce(0) { $0 + $1.episodeReturn } / Double(recent.count)
    }
}

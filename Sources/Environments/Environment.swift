import Linalg

/// A reinforcement-learning environment with Gymnasium's semantics.
///
/// `reset(seed:)` draws an initial state (the same distribution as Gymnasium's, from Gauntlet's
/// own random stream); `step(_:)` advances the dynamics and reports the reward and whether the
/// episode terminated (a terminal state of the MDP) or was truncated (a time limit, applied by
/// `TimeLimit` as Gymnasium's wrapper of that name does). The observation is always a function
/// of the internal `state`, which can be read and set so an episode can be restored and replayed.
///
/// Environments are reference types, like Gymnasium's: one object is one simulator.
public protocol Environment: AnyObject {
    /// Registry id (`CartPole-v1`).
    var id: String { get }
    var observationSpace: BoxSpace { get }
    var actionSpace: ActionSpace { get }
    /// Names of the entries of `state`, in Gymnasium's layout (`env.unwrapped.state`).
    var stateLabels: [String] { get }
    /// The internal state, in Double.
    var state: [Double] { get }
    /// Replaces the internal state; fails if it has the wrong length or is not finite.
    func setState(_ state: [Double]) throws(EnvironmentError)
    /// Draws a new initial state. A seed restarts the environment's random stream; `nil`
    /// continues it (Gymnasium's `reset()` without a seed).
    func resetState(seed: UInt64?)
    /// Advances one step from the current state; the observation is `observe(into:)` afterwards.
    /// The action must satisfy `actionSpace.isValid(_:)` (continuous values outside the bounds
    /// are allowed and clipped, as in Gymnasium).
    func advance(_ action: Action) -> (reward: Double, terminated: Bool)
    /// Writes the observation of the current state (`observationSpace.dimension` Float32 values).
    func observe(into observation: UnsafeMutableBufferPointer<Float>)
    /// A small SVG picture of the current state.
    func renderSVG() -> String
    /// The random stream resets (and random dynamics) draw from.
    var random: RandomStream { get set }
    /// Everything that decides what the environment does next: `state`, hidden bookkeeping,
    /// and the random stream's state. Checkpoints keep it so training resumes bit for bit.
    var snapshot: EnvironmentSnapshot { get }
    /// Restores a snapshot taken from an environment of the same id.
    func restore(_ snapshot: EnvironmentSnapshot) throws(EnvironmentError)
    /// Whether the last step was truncated by the environment itself (an external Gymnasium
    /// environment's own limit); native environments leave truncation to `TimeLimit`.
    var truncatedItself: Bool { get }
    /// Why the environment stopped working, if it did (an external process that died or broke
    /// the protocol). Steps after a failure report termination; runners and learners throw it.
    var failure: EnvironmentError? { get }
    /// How a uniformly random action of the game's full action set falls on this environment's
    /// actions, when it plays a reduced set (MinAtar's minimal sets); nil: uniform over
    /// `actionSpace`. ε-greedy evaluation draws its random actions from it, as the papers whose
    /// agents explored over the full set did.
    var randomActionWeights: [Double]? { get }
}

/// The complete state of an environment (see `Environment.snapshot`).
public struct EnvironmentSnapshot: Equatable, Sendable, Codable {
    /// `state` followed by any hidden values the environment keeps.
    public var values: [Double]
    /// The random stream's state.
    public var random: [UInt8]

    public init(values: [Double], random: [UInt8]) {
        self.values = values
        self.random = random
    }
}

/// An action: an index for discrete spaces, a vector for continuous ones.
public enum Action: Equatable, Hashable, Sendable, Codable, CustomStringConvertible {
    case discrete(Int)
    case continuous([Float])

    public var description: String {
        switch self {
        case .discrete(let a): "\(a)"
        case .continuous(let a): "\(a)"
        }
    }
}

/// What one step returns, as Gymnasium's `step`.
public struct StepResult: Equatable, Sendable {
    public var observation: [Float]
    public var reward: Double
    public var terminated: Bool
    public var truncated: Bool

    public init(observation: [Float], reward: Double, terminated: Bool, truncated: Bool) {
        self.observation = observation
        self.reward = reward
        self.terminated = terminated
        self.truncated = truncated
    }
}

/// A bad use of an environment: an unknown id, a state of the wrong length, an invalid action,
/// a malformed map. The description says what was wrong and, for maps, the file, line and column.
public struct EnvironmentError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

// MARK: - Default implementations

extension Environment {
    /// The observation of the current state.
    public var observation: [Float] {
        [Float](unsafeUninitializedCapacity: observationSpace.dimension) { buffer, count in
            observe(into: buffer)
            count = observationSpace.dimension
        }
    }

    /// Gymnasium's `step` without a time limit (wrap in `TimeLimit` for one): the observation
    /// after the step, the reward, and `terminated`; `truncated` is false.
    public func step(_ action: Action) -> StepResult {
        let (reward, terminated) = advance(action)
        return StepResult(observation: observation, reward: reward, terminated: terminated, truncated: false)
    }

    /// Gymnasium's `reset`: a new initial state and its observation.
    @discardableResult
    public func reset(seed: UInt64? = nil) -> [Float] {
        resetState(seed: seed)
        return observation
    }

    public var snapshot: EnvironmentSnapshot { EnvironmentSnapshot(values: state, random: random.state) }

    public var truncatedItself: Bool { false }

    public var failure: EnvironmentError? { nil }

    public var randomActionWeights: [Double]? { nil }

    public func restore(_ snapshot: EnvironmentSnapshot) throws(EnvironmentError) {
        try setState(snapshot.values)
        try restoreRandom(snapshot.random)
    }

    /// Restores the random stream from a snapshot's bytes.
    public func restoreRandom(_ bytes: [UInt8]) throws(EnvironmentError) {
        guard bytes.count == random.state.count else {
            throw EnvironmentError("\(id): random state has \(bytes.count) bytes, expected \(random.state.count)")
        }
        random.restore(state: bytes)
    }

    /// Throws unless `state` has one finite value per entry of `stateLabels`.
    public func validateState(_ state: [Double]) throws(EnvironmentError) {
        guard state.count == stateLabels.count else {
            throw EnvironmentError(
                "\(id): state must have \(stateLabels.count) values [\(stateLabels.joined(separator: ", "))], got \(state.count)")
        }
        guard state.allSatisfy(\.isFinite) else { throw EnvironmentError("\(id): state values must be finite") }
    }
}

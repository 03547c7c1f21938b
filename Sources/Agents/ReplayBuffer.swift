import Environments
import Linalg

/// A ring buffer of transitions `(s, a, r, s′, terminated)` for off-policy learners, sampled
/// uniformly with replacement (SB3's `ReplayBuffer`). Storage is allocated once.
///
/// `terminated` is true only for true terminal states; an episode cut by its time limit is
/// stored with `terminated = false` and its final observation as `s′`, so the learner still
/// bootstraps from it (SB3's `handle_timeout_termination`).
public struct ReplayBuffer: Equatable, Sendable {
    public let capacity: Int
    public let observationDimension: Int
    /// Values per action: 1 (an index) for discrete actions, the action dimension otherwise.
    public let actionDimension: Int
    public private(set) var observations: [Float]
    public private(set) var nextObservations: [Float]
    public private(set) var actions: [Float]
    public private(set) var rewards: [Float]
    public private(set) var terminated: [Float]
    /// Where the next transition goes.
    public private(set) var position = 0
    /// Transitions stored (≤ capacity).
    public private(set) var count = 0

    public init(capacity: Int, observationDimension: Int, actionDimension: Int) {
        precondition(capacity > 0, "a replay buffer needs positive capacity")
        self.capacity = capacity
        self.observationDimension = observationDimension
        self.actionDimension = actionDimension
        observations = Array(repeating: 0, count: capacity * observationDimension)
        nextObservations = Array(repeating: 0, count: capacity * observationDimension)
        actions = Array(repeating: 0, count: capacity * actionDimension)
        rewards = Array(repeating: 0, count: capacity)
        terminated = Array(repeating: 0, count: capacity)
    }

    /// Adds one transition per copy of a vector environment that has just stepped from
    /// `observations` with `actions` (as the buffer stores them): `s′` is the copy's final
    /// observation when its episode ended, its current observation otherwise.
    public mutating func add(step environment: VectorEnvironment, from observations: Matrix<Float>, actions: [[Float]]) {
        let d = environment.observationDimension
        for i in 0..<environment.count {
            let next =
                environment.finalObservations[i].map { ArraySlice($0) }
                ?? environment.observations.storage[(i * d)..<((i + 1) * d)]
            add(
                observation: observations.storage[(i * d)..<((i + 1) * d)], action: actions[i], reward: environment.rewards[i],
                nextObservation: next, terminated: environment.terminated[i])
        }
    }

    public mutating func add(
        observation: ArraySlice<Float>, action: [Float], reward: Double, nextObservation: ArraySlice<Float>,
        terminated isTerminal: Bool
    ) {
        let o = position * observationDimension
        observations.replaceSubrange(o..<(o + observationDimension), with: observation)
        nextObservations.replaceSubrange(o..<(o + observationDimension), with: nextObservation)
        actions.replaceSubrange((position * actionDimension)..<((position + 1) * actionDimension), with: action)
        rewards[position] = Float(reward)
        terminated[position] = isTerminal ? 1 : 0
        position = (position + 1) % capacity
        count = min(count + 1, capacity)
    }

    /// A minibatch drawn uniformly with replacement.
    public struct Batch<Scalar: BLASScalar> {
        public var observations: Matrix<Scalar>
        public var nextObservations: Matrix<Scalar>
        public var actions: Matrix<Scalar>
        public var rewards: [Scalar]
        public var terminated: [Scalar]
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sample<Scalar: BLASScalar>(_ size: Int, random: RandomStream, as _: Scalar.Type = Scalar.self) -> Batch<Scalar> {
        precondition(count > 0, "cannot sample an empty replay buffer")
        var batch = Batch<Scalar>(
            observations: Matrix(rows: size, columns: observationDimension),
            nextObservations: Matrix(rows: size, columns: observationDimension),
            actions: Matrix(rows: size, columns: actionDimension), rewards: Array(repeating: 0, count: size),
            terminated: Array(repeating: 0, count: size))
        let d = observationDimension
        // Whole rows through buffers: a MinAtar frame is 400–1,000 values, and element-wise
        // writes into the batch's matrices checked bounds and uniqueness per value.
        func copy(row i: Int, of stored: [Float], to b: Int, in matrix: inout Matrix<Scalar>) {
            stored.withUnsafeBufferPointer { from in
                matrix.storage.withUnsafeMutableBufferPointer { to in
                    for j in 0..<d { to[b &* d &+ j] = Scalar(from[i &* d &+ j]) }
                }
            }
        }
        for b in 0..<size {
            let i = random.integer(below: count)
            copy(row: i, of: observations, to: b, in: &batch.observations)
            copy(row: i, of: nextObservations, to: b, in: &batch.nextObservations)
            for j in 0..<actionDimension {
                batch.actions.storage[b * actionDimension + j] = Scalar(actions[i * actionDimension + j])
            }
            batch.rewards[b] = Scalar(rewards[i])
            batch.terminated[b] = Scalar(terminated[i])
        }
        return batch
    }

    // MARK: - Checkpoints

    func write(to checkpoint: inout CheckpointWriter, prefix: String) {
        checkpoint.put("\(prefix).observations", observations)
        checkpoint.put("\(prefix).next_observations", nextObservations)
        checkpoint.put("\(prefix).actions", actions)
        checkpoint.put("\(prefix).rewards", rewards)
        checkpoint.put("\(prefix).terminated", terminated)
        checkpoint.put("\(prefix).position_count", [Double(position), Double(count)])
    }

    mutating func read(from checkpoint: CheckpointReader, prefix: String) throws(CheckpointError) {
        observations = try checkpoint.float32("\(prefix).observations", count: observations.count)
        nextObservations = try checkpoint.float32("\(prefix).next_observations", count: nextObservations.count)
        actions = try checkpoint.float32("\(prefix).actions", count: actions.count)
        rewards = try checkpoint.float32("\(prefix).rewards", count: rewards.count)
        terminated = try checkpoint.float32("\(prefix).terminated", count: terminated.count)
        let counters = try checkpoint.float64("\(prefix).position_count", count: 2)
        (position, count) = (Int(counters[0]), Int(counters[1]))
        guard (0..<capacity).contains(position), (0...capacity).contains(count) else {
            throw CheckpointError("replay buffer counters out of range")
        }
    }
}

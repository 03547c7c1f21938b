import Agents
import Environments
import Foundation
import Linalg

/// Runs a policy for whole episodes on fixed seeds: episode `e` resets with seed `S + e`, so
/// any evaluation can be repeated exactly and two evaluations on the same seeds are paired.
/// Episodes run in groups of vectorised copies (the policy sees one batch per step); stochastic
/// policies that sample draw from a stream of their own per episode, so results do not depend
/// on the grouping.
public struct EpisodeRunner<Scalar: BLASScalar> {
    public var policy: Policy<Scalar>
    public var environment: String
    public var selection: ActionSelection
    /// Episodes run side by side.
    public var copies: Int

    public init(policy: Policy<Scalar>, environment: String, selection: ActionSelection = .mode, copies: Int = 16) {
        self.policy = policy
        self.environment = environment
        self.selection = selection
        self.copies = max(1, copies)
    }

    /// Runs `count` episodes with seeds `seed, seed + 1, …`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func run(episodes count: Int, seed: UInt64) throws(EnvironmentError) -> [EpisodeOutcome] {
        let root = RandomStream(seed: seed).child("actions")
        var results: [EpisodeOutcome] = []
        var start = 0
        while start < count {
            let group = min(copies, count - start)
            var envs: [TimeLimit] = []
            for _ in 0..<group { envs.append(try Registry.make(environment)) }
            guard envs[0].base.observationSpace.dimension == policy.observationDimension else {
                throw EnvironmentError("the policy expects \(policy.observationDimension) observation values but \(environment) gives \(envs[0].base.observationSpace.dimension)")
            }
            let streams = (0..<group).map { root.child(start + $0) }
            var observations = (0..<group).map { envs[$0].reset(seed: seed &+ UInt64(start + $0)) }
            var returns = [Double](repeating: 0, count: group), lengths = [Int](repeating: 0, count: group)
            var finished = [Bool?](repeating: nil, count: group)
            while finished.contains(where: { $0 == nil }) {
                let active = (0..<group).filter { finished[$0] == nil }
                let batch = Matrix<Scalar>(active.map { observations[$0].map { Scalar($0) } })
                let outputs = policy.outputs(batch)
                for (k, i) in active.enumerated() {
                    let action = policy.actions(fromOutputs: Matrix(row: outputs.row(k)), selection: selection, random: streams[i])[0]
                    let result = envs[i].step(action)
                    observations[i] = result.observation
                    returns[i] += result.reward
                    lengths[i] += 1
                    if result.terminated || result.truncated { finished[i] = result.terminated }
                }
            }
            for i in 0..<group {
                results.append(EpisodeOutcome(seed: seed &+ UInt64(start + i), episodeReturn: returns[i], length: lengths[i], terminated: finished[i]!))
            }
            start += group
        }
        return results
    }
}

/// One evaluated episode.
public struct EpisodeOutcome: Equatable, Sendable, Codable {
    public var seed: UInt64
    public var episodeReturn: Double
    public var length: Int
    /// Whether the episode terminated (rather than being truncated by its time limit).
    public var terminated: Bool
}

/// Summary statistics of a set of episode returns with a 95% bootstrap interval for the mean.
public struct ReturnSummary: Equatable, Sendable, Codable {
    public var meanReturn: Double
    public var stdReturn: Double
    public var medianReturn: Double
    public var ci95: [Double]
    public var returns: [Double]

    /// The bootstrap draws from a stream derived from `seed`, so the interval is reproducible.
    public init(returns: [Double], seed: UInt64) {
        self.returns = returns
        meanReturn = Statistics.mean(returns)
        stdReturn = Statistics.standardDeviation(returns)
        medianReturn = Statistics.median(returns)
        let interval = ConfidenceInterval.bootstrapMean(returns, resamples: 10_000, random: RandomStream(seed: seed).child("bootstrap"))
        ci95 = [interval.lower, interval.upper]
    }
}

import Environments
import Linalg

/// Reward scaling by the running standard deviation of the discounted return, as SB3's
/// `VecNormalize(norm_reward=True)`: each copy keeps `R ← γR + r` (reset to 0 when its episode
/// ends), the running variance of R is updated with every step's batch of returns, and the
/// learner sees `clip(r / √(var R + ε), −clip, clip)`. It keeps PPO's value targets of order one
/// on MuJoCo, whose rewards per step are of order one but whose returns reach thousands.
public struct RewardScaler: Equatable, Sendable, Codable {
    public private(set) var returns: [Double]
    public private(set) var mean = 0.0
    public private(set) var variance = 1.0
    /// Pseudo-count of returns seen (starts at 1e-4, as SB3's `RunningMeanStd`).
    public private(set) var count = 1e-4
    public let gamma: Double
    public let epsilon: Double
    public let clip: Double

    public init(copies: Int, gamma: Double, epsilon: Double = 1e-8, clip: Double = 10) {
        returns = Array(repeating: 0, count: copies)
        self.gamma = gamma
        self.epsilon = epsilon
        self.clip = clip
    }

    /// Updates the statistics with one step's rewards of every copy and returns them scaled;
    /// `done[i]` ends copy i's return after this step.
    public mutating func scale(_ rewards: [Double], done: [Bool]) -> [Double] {
        precondition(rewards.count == returns.count && done.count == returns.count)
        for i in returns.indices { returns[i] = returns[i] * gamma + rewards[i] }
        let n = Double(returns.count)
        let batchMean = returns.reduce(0, +) / n
        let batchVariance = returns.reduce(0) { $0 + ($1 - batchMean) * ($1 - batchMean) } / n
        (mean, variance) = RunningMoments.combine(
            mean: mean, variance: variance, count: count, batchMean: batchMean, batchVariance: batchVariance, batchCount: n)
        count += n
        let scale = (variance + epsilon).squareRoot()
        for i in returns.indices where done[i] { returns[i] = 0 }
        return rewards.map { min(max($0 / scale, -clip), clip) }
    }
}

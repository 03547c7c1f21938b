import Linalg

/// Running observation normalisation, `clip((s − μ) / √(σ² + ε), −c, c)`, with μ and σ² updated
/// from batches by the parallel-variance formula (Chan et al. 1979), as SB3's `VecNormalize`
/// and Gymnasium's `NormalizeObservation`. `frozen` stops the updates (evaluation).
public struct ObservationNormalizer: Equatable, Sendable, Codable {
    public private(set) var mean: [Double]
    public private(set) var variance: [Double]
    /// Pseudo-count of observations seen (starts at `epsilon` as in SB3).
    public private(set) var count: Double
    public var epsilon: Double
    public var clip: Double
    public var frozen = false

    public init(dimension: Int, epsilon: Double = 1e-8, clip: Double = 10) {
        mean = Array(repeating: 0, count: dimension)
        variance = Array(repeating: 1, count: dimension)
        count = 1e-4
        self.epsilon = epsilon
        self.clip = clip
    }

    /// Statistics given outright — a normaliser continued from stored ones (`count` weighs them
    /// against the batches folded in later, unless `frozen`).
    public init(mean: [Double], variance: [Double], count: Double, epsilon: Double = 1e-8, clip: Double = 10, frozen: Bool) {
        precondition(mean.count == variance.count && count > 0, "one variance per mean and a positive count")
        self.mean = mean
        self.variance = variance
        self.count = count
        self.epsilon = epsilon
        self.clip = clip
        self.frozen = frozen
    }

    /// Folds a batch of observations into the running statistics (unless frozen).
    public mutating func update(_ batch: Matrix<Float>) {
        guard !frozen, batch.rows > 0 else { return }
        precondition(batch.columns == mean.count)
        let n = Double(batch.rows)
        for j in mean.indices {
            var batchMean = 0.0
            for r in 0..<batch.rows { batchMean += Double(batch[r, j]) }
            batchMean /= n
            var batchVariance = 0.0
            for r in 0..<batch.rows {
                let d = Double(batch[r, j]) - batchMean
                batchVariance += d * d
            }
            batchVariance /= n
            (mean[j], variance[j]) = RunningMoments.combine(
                mean: mean[j], variance: variance[j], count: count, batchMean: batchMean, batchVariance: batchVariance,
                batchCount: n)
        }
        count += n
    }

    /// The normalised batch.
    public func normalize(_ batch: Matrix<Float>) -> Matrix<Float> {
        var result = batch
        for r in 0..<batch.rows {
            for j in mean.indices {
                let z = (Double(batch[r, j]) - mean[j]) / (variance[j] + epsilon).squareRoot()
                result[r, j] = Float(min(max(z, -clip), clip))
            }
        }
        return result
    }
}

/// The parallel-variance update (Chan et al. 1979) that running normalisers share: the mean and
/// variance of `count` values merged with a batch's.
public enum RunningMoments {
    public static func combine(
        mean: Double, variance: Double, count: Double, batchMean: Double, batchVariance: Double, batchCount n: Double
    ) -> (mean: Double, variance: Double) {
        let delta = batchMean - mean
        let total = count + n
        let m2 = variance * count + batchVariance * n + delta * delta * count * n / total
        return (mean + delta * n / total, m2 / total)
    }
}

import Linalg

/// A scalar loss and its gradient with respect to the loss's (first) input.
public struct LossValue<Scalar: BLASScalar>: Equatable, Sendable {
    public var value: Scalar
    public var gradient: Matrix<Scalar>
}

/// Losses with their gradients. Every loss averages over the batch (PyTorch's
/// `reduction="mean"`), so gradients carry the `1/N`.
public enum Loss {
    /// Mean squared error `1/N Σ (p − t)²` over all N entries; `∂/∂p = 2(p − t)/N`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func meanSquaredError<S: BLASScalar>(_ prediction: Matrix<S>, _ target: Matrix<S>) -> LossValue<S> {
        precondition(prediction.rows == target.rows && prediction.columns == target.columns)
        let n = S(prediction.storage.count)
        let difference = prediction - target
        let value = difference.storage.reduce(0) { $0 + $1 * $1 } / n
        return LossValue(value: value, gradient: difference.map { 2 * $0 / n })
    }

    /// Huber loss with threshold δ, averaged over all entries:
    /// `½d²` for `|d| ≤ δ`, `δ(|d| − ½δ)` otherwise, with `d = p − t`; `∂/∂p = clamp(d, −δ, δ)/N`.
    /// At δ = 1 this is PyTorch's `smooth_l1_loss` (and `huber_loss`), the DQN loss of SB3.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func huber<S: BLASScalar>(_ prediction: Matrix<S>, _ target: Matrix<S>, delta: S = 1) -> LossValue<S> {
        precondition(prediction.rows == target.rows && prediction.columns == target.columns)
        precondition(delta > 0, "Huber threshold must be positive")
        let n = S(prediction.storage.count)
        var value: S = 0
        var gradient = prediction
        for i in 0..<prediction.storage.count {
            let d = prediction.storage[i] - target.storage[i]
            if abs(d) <= delta {
                value += d * d / 2
                gradient.storage[i] = d / n
            } else {
                value += delta * (abs(d) - delta / 2)
                gradient.storage[i] = (d > 0 ? delta : -delta) / n
            }
        }
        return LossValue(value: value / n, gradient: gradient)
    }

    /// Cross-entropy of class `targets[r]` under `softmax(logits[r])`, averaged over rows:
    /// `−1/B Σ_r log softmax(z_r)[t_r]`; `∂/∂z = (softmax(z) − onehot(t))/B`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func crossEntropy<S: BLASScalar>(logits: Matrix<S>, targets: [Int]) -> LossValue<S> {
        precondition(targets.count == logits.rows, "one target per row")
        let batch = S(logits.rows)
        let logProbabilities = logSoftmax(logits)
        var value: S = 0
        var gradient = logProbabilities.map { S.exp($0) }
        for (r, t) in targets.enumerated() {
            precondition((0..<logits.columns).contains(t), "target \(t) out of range")
            value -= logProbabilities[r, t]
            gradient[r, t] -= 1
        }
        for i in 0..<gradient.storage.count { gradient.storage[i] /= batch }
        return LossValue(value: value / batch, gradient: gradient)
    }

    /// KL divergence between the categoricals `p = softmax(pLogits)` and `q = softmax(qLogits)`,
    /// `KL(p ‖ q) = Σ_j p_j (log p_j − log q_j)`, averaged over rows. Gradients:
    /// `∂/∂qLogits = (q − p)/B` and `∂/∂pLogits = p ⊙ (log p − log q − KL_r)/B`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func klDivergence<S: BLASScalar>(pLogits: Matrix<S>, qLogits: Matrix<S>)
        -> (value: S, gradientP: Matrix<S>, gradientQ: Matrix<S>)
    {
        precondition(pLogits.rows == qLogits.rows && pLogits.columns == qLogits.columns)
        let batch = S(pLogits.rows)
        let logP = logSoftmax(pLogits)
        let logQ = logSoftmax(qLogits)
        var gradientP = logP
        var gradientQ = logQ
        var total: S = 0
        for r in 0..<pLogits.rows {
            var rowKL: S = 0
            for j in 0..<pLogits.columns {
                rowKL += S.exp(logP[r, j]) * (logP[r, j] - logQ[r, j])
            }
            total += rowKL
            for j in 0..<pLogits.columns {
                let p = S.exp(logP[r, j])
                gradientQ[r, j] = (S.exp(logQ[r, j]) - p) / batch
                gradientP[r, j] = p * (logP[r, j] - logQ[r, j] - rowKL) / batch
            }
        }
        return (total / batch, gradientP, gradientQ)
    }

    /// Log-density of `actions` under diagonal Gaussians `N(mean_r, diag(exp(logStd))²)`, one
    /// value per row: `Σ_j −½((a_j − μ_j)/σ_j)² − log σ_j − ½ log 2π`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func gaussianLogProbability<S: BLASScalar>(mean: Matrix<S>, logStd: [S], actions: Matrix<S>) -> [S] {
        precondition(mean.rows == actions.rows && mean.columns == actions.columns && logStd.count == mean.columns)
        let halfLogTwoPi = S.log(2 * S.pi) / 2
        return (0..<mean.rows).map { r in
            var total: S = 0
            for j in 0..<mean.columns {
                let z = (actions[r, j] - mean[r, j]) / S.exp(logStd[j])
                total += -z * z / 2 - logStd[j] - halfLogTwoPi
            }
            return total
        }
    }

    /// Gradients of `Σ_r weights[r] · gaussianLogProbability(...)[r]` with respect to the mean
    /// (`w_r (a − μ)/σ²`) and to `logStd` (`Σ_r w_r (z_r² − 1)`).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func gaussianLogProbabilityGradient<S: BLASScalar>(
        mean: Matrix<S>, logStd: [S], actions: Matrix<S>, weights: [S]
    ) -> (mean: Matrix<S>, logStd: [S]) {
        precondition(weights.count == mean.rows)
        var gradientMean = mean
        var gradientLogStd = [S](repeating: 0, count: logStd.count)
        for r in 0..<mean.rows {
            for j in 0..<mean.columns {
                let sigma = S.exp(logStd[j])
                let z = (actions[r, j] - mean[r, j]) / sigma
                gradientMean[r, j] = weights[r] * z / sigma
                gradientLogStd[j] += weights[r] * (z * z - 1)
            }
        }
        return (gradientMean, gradientLogStd)
    }
}

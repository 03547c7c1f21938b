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

    /// Log-density of `actions` under diagonal Gaussians `N(mean_r, diag(exp(logStd))²)`, one
    /// value per row, `Σ_j −½ z_j² − log σ_j − ½ log 2π` with `z = (a − μ)/σ`, and its gradients
    /// per row: `∂/∂μ_j = z_j/σ_j` and `∂/∂log σ_j = z_j² − 1`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func gaussianLogProbability<S: BLASScalar>(mean: Matrix<S>, logStd: [S], actions: Matrix<S>)
        -> (values: [S], gradientMean: Matrix<S>, gradientLogStd: Matrix<S>)
    {
        precondition(mean.rows == actions.rows && mean.columns == actions.columns && logStd.count == mean.columns)
        let halfLogTwoPi = S.log(2 * S.pi) / 2
        var values = [S](repeating: 0, count: mean.rows)
        var gradientMean = Matrix<S>(rows: mean.rows, columns: mean.columns)
        var gradientLogStd = Matrix<S>(rows: mean.rows, columns: mean.columns)
        for r in 0..<mean.rows {
            var total: S = 0
            for j in 0..<mean.columns {
                let sigma = S.exp(logStd[j])
                let z = (actions[r, j] - mean[r, j]) / sigma
                total += -z * z / 2 - logStd[j] - halfLogTwoPi
                gradientMean[r, j] = z / sigma
                gradientLogStd[r, j] = z * z - 1
            }
            values[r] = total
        }
        return (values, gradientMean, gradientLogStd)
    }
}

import Linalg
import NeuralNet
import TestSupport
import Testing

/// Finite-difference checks, in Double, of every loss's gradient.
@Suite struct LossTests {
    let random = RandomStream(seed: 12)

    func numericMatrixGradient(_ m: Matrix<Double>, _ f: @escaping (Matrix<Double>) -> Double) -> [Double] {
        numericalGradient(of: { f(Matrix(rows: m.rows, columns: m.columns, storage: $0)) }, at: m.storage)
    }

    @Test func meanSquaredError() {
        let p = randomMatrix(rows: 4, columns: 3, random: random)
        let t = randomMatrix(rows: 4, columns: 3, random: random)
        let loss = Loss.meanSquaredError(p, t)
        #expect(abs(loss.value - zip(p.storage, t.storage).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / 12) < 1e-14)
        #expect(
            maximumRelativeError(loss.gradient.storage, numericMatrixGradient(p) { Loss.meanSquaredError($0, t).value }) < 1e-8)
    }

    @Test(arguments: [0.5, 1.0, 2.0])
    func huber(_ delta: Double) {
        // Differences spread across both sides of δ, none within 1e-3 of the kink.
        let t = randomMatrix(rows: 5, columns: 4, random: random)
        var p = t
        for i in p.storage.indices {
            var d = random.normal(standardDeviation: 2 * delta)
            if abs(abs(d) - delta) < 1e-3 { d += 0.01 }
            p.storage[i] += d
        }
        let loss = Loss.huber(p, t, delta: delta)
        #expect(
            maximumRelativeError(loss.gradient.storage, numericMatrixGradient(p) { Loss.huber($0, t, delta: delta).value }) < 1e-8
        )
    }

    @Test func huberIsQuadraticInsideAndLinearOutside() {
        let loss = Loss.huber(Matrix<Double>(row: [0.5, 3]), Matrix<Double>(row: [0, 0]), delta: 1)
        #expect(abs(loss.value - (0.125 + 2.5) / 2) < 1e-15)
    }

    @Test func crossEntropy() {
        let logits = randomMatrix(rows: 6, columns: 4, random: random, scale: 3)
        let targets = [0, 3, 1, 2, 2, 0]
        let loss = Loss.crossEntropy(logits: logits, targets: targets)
        #expect(
            maximumRelativeError(
                loss.gradient.storage, numericMatrixGradient(logits) { Loss.crossEntropy(logits: $0, targets: targets).value })
                < 1e-8)
        // Uniform logits: −log(1/4).
        #expect(abs(Loss.crossEntropy(logits: Matrix<Double>(rows: 1, columns: 4), targets: [2]).value - Double.log(4.0)) < 1e-15)
    }

    @Test func softmaxIsStableAndNormalised() {
        let logits = Matrix<Double>([[1000, 1001, 999], [-1000, 0, 5]])
        let p = softmax(logits)
        #expect(p.isFinite)
        for r in 0..<2 { #expect(abs(p.row(r).reduce(0, +) - 1) < 1e-12) }
        #expect(logSoftmax(logits)[0, 1] < 0)
    }

    @Test func gaussianLogProbability() {
        let mean = randomMatrix(rows: 4, columns: 2, random: random)
        let actions = randomMatrix(rows: 4, columns: 2, random: random)
        let logStd = [-0.3, 0.4]
        let weights = [0.5, -1.0, 2.0, 0.1]
        func objective(_ m: Matrix<Double>, _ s: [Double]) -> Double {
            zip(Loss.gaussianLogProbability(mean: m, logStd: s, actions: actions).values, weights).reduce(0) { $0 + $1.0 * $1.1 }
        }
        // The per-row gradients, weighted and summed as PPO's surrogate does.
        let analytic = Loss.gaussianLogProbability(mean: mean, logStd: logStd, actions: actions)
        let weightedMean = (0..<4).flatMap { r in analytic.gradientMean.row(r).map { weights[r] * $0 } }
        let weightedLogStd = (0..<2).map { j in (0..<4).reduce(0.0) { $0 + weights[$1] * analytic.gradientLogStd[$1, j] } }
        #expect(maximumRelativeError(weightedMean, numericMatrixGradient(mean) { objective($0, logStd) }) < 1e-8)
        #expect(maximumRelativeError(weightedLogStd, numericalGradient(of: { objective(mean, $0) }, at: logStd)) < 1e-8)
        // Standard normal at its mean: −½ log 2π per dimension.
        let atMean = Loss.gaussianLogProbability(mean: Matrix<Double>(row: [0]), logStd: [0], actions: Matrix<Double>(row: [0]))
        #expect(abs(atMean.values[0] + Double.log(2 * Double.pi) / 2) < 1e-15)
    }
}

import Agents
import Attacks
import Linalg
import NeuralNet

/// A small classifier of perturbed observations (after Lin et al. 2017's detector and the
/// binary detectors of Metzen et al. 2017): an MLP on the standardised observation, trained with
/// cross-entropy on clean (class 0) and attacked (class 1) observations. Its score is the logit
/// difference `z_attacked − z_clean`; higher means more likely perturbed.
public struct LearnedDetector<Scalar: BLASScalar>: Sendable {
    public var network: Sequential<Scalar>
    public var scaling: ObservationScaling<Scalar>

    /// Trains a detector with Adam on minibatches drawn from `random`, in `Scalar`'s precision.
    public static func train(
        clean: Matrix<Scalar>, attacked: Matrix<Scalar>, hidden: [Int] = [32, 32], epochs: Int = 60,
        batchSize: Int = 64, learningRate: Double = 1e-3, random: RandomStream
    ) throws(DefenseError) -> LearnedDetector {
        guard clean.rows > 1, attacked.rows > 1, clean.columns == attacked.columns else {
            throw DefenseError("the detector needs clean and attacked observations of one dimension")
        }
        let d = clean.columns
        let all = clean.rowArrays + attacked.rowArrays
        let mean = (0..<d).map { j in Scalar(Statistics.mean(all.map { Double($0[j]) })) }
        let std = (0..<d).map { j in Scalar(max(Statistics.standardDeviation(all.map { Double($0[j]) }), 1e-8)) }
        var network: Sequential<Scalar>
        do {
            network = try Sequential<Scalar>.mlp(sizes: [d] + hidden + [2], activation: .relu, random: random.child("network"))
        } catch {
            throw DefenseError(error.description)
        }
        let detector = LearnedDetector(network: network, scaling: ObservationScaling(mean: mean, std: std, clip: .infinity))
        let inputs = detector.scaled(Matrix(all))
        let labels = [Int](repeating: 0, count: clean.rows) + [Int](repeating: 1, count: attacked.rows)
        var adam = Adam<Scalar>(parameterCount: network.parameterCount, learningRate: learningRate)
        let workspace = Workspace(for: network, batch: batchSize)
        for _ in 0..<epochs {
            let order = random.permutation(labels.count)
            for start in stride(from: 0, to: order.count - batchSize + 1, by: batchSize) {
                let rows = order[start..<(start + batchSize)]
                let batch = Matrix(rows.map { inputs.row($0) })
                let loss = Loss.crossEntropy(
                    logits: network.forward(batch, workspace: workspace), targets: rows.map { labels[$0] })
                var gradient = [Scalar](repeating: 0, count: network.parameterCount)
                network.backward(
                    outputGradient: loss.gradient, workspace: workspace, parameterGradient: &gradient, request: .parameters)
                adam.update(&network.parameters, gradient: gradient)
            }
        }
        return LearnedDetector(network: network, scaling: detector.scaling)
    }

    func scaled(_ observations: Matrix<Scalar>) -> Matrix<Scalar> {
        var z = observations
        for r in 0..<z.rows {
            for j in 0..<z.columns { z[r, j] = (z[r, j] - scaling.mean[j]) / scaling.std[j] }
        }
        return z
    }

    /// Scores of raw observations.
    public func scores(_ observations: Matrix<Scalar>) -> [Double] {
        let logits = network.forward(scaled(observations), workspace: Workspace(for: network, batch: observations.rows))
        return (0..<logits.rows).map { Double(logits[$0, 1] - logits[$0, 0]) }
    }

    /// Scores and their gradient with respect to the raw observations (what an attacker who
    /// knows the detector descends).
    public func scoresAndInputGradient(_ observations: Matrix<Scalar>) -> (scores: [Double], gradient: Matrix<Scalar>) {
        let z = scaled(observations)
        let outputGradient = Matrix<Scalar>(rows: z.rows, columns: 2, storage: (0..<z.rows).flatMap { _ in [-1, 1] })
        var gradient = network.inputGradient(z, outputGradient: outputGradient, workspace: nil)
        for r in 0..<gradient.rows {
            for j in 0..<gradient.columns { gradient[r, j] /= scaling.std[j] }
        }
        return (scores(observations), gradient)
    }
}

/// A statistical test on the policy's own margin (the gap between its best and second-best
/// output): an attack moves observations across or along a decision boundary, so the margin of
/// an attacked observation is atypical — too small for a minimal attack, too large for one that
/// maximises the loss. The score is the two-sided empirical tail `2·|F(m) − ½|` of the margin
/// `m` under `F`, the margins of clean reference observations.
public struct MarginDetector: Sendable {
    public var referenceMargins: [Double]

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public init<S: BLASScalar>(clean observations: Matrix<S>, policy: Policy<S>) {
        referenceMargins = Self.margins(observations, policy: policy).sorted()
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func margins<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>) -> [Double] {
        let outputs = policy.outputs(observations)
        return (0..<outputs.rows).map { r in
            let sorted = outputs.row(r).map(Double.init).sorted(by: >)
            return sorted.count > 1 ? sorted[0] - sorted[1] : 0
        }
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func scores<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>) -> [Double] {
        Self.margins(observations, policy: policy).map { m in
            let below = referenceMargins.partitionIndex { $0 >= m }
            let notAbove = referenceMargins.partitionIndex { $0 > m }
            let cdf = (Double(below) + 0.5 * Double(notAbove - below)) / Double(max(referenceMargins.count, 1))
            return 2 * abs(cdf - 0.5)
        }
    }
}

/// A receiver operating characteristic of scores on clean (negative) and perturbed (positive)
/// observations: its points, the area under it (the Mann–Whitney probability that a positive
/// outscores a negative, ties counting half), and the detection rate when 5% of clean
/// observations are flagged.
public struct ROC: Codable, Equatable, Sendable {
    /// (false-positive rate, true-positive rate) at every distinct threshold, from (0, 0) to (1, 1).
    public var points: [[Double]]
    public var auc: Double
    public var truePositiveRateAt5PercentFalsePositives: Double

    public init(negatives: [Double], positives: [Double]) {
        precondition(!negatives.isEmpty && !positives.isEmpty)
        let labelled = (negatives.map { ($0, false) } + positives.map { ($0, true) }).sorted { $0.0 > $1.0 }
        var points: [[Double]] = [[0, 0]]
        var truePositives = 0.0
        var falsePositives = 0.0
        var index = 0
        while index < labelled.count {
            let threshold = labelled[index].0
            while index < labelled.count && labelled[index].0 == threshold {
                if labelled[index].1 { truePositives += 1 } else { falsePositives += 1 }
                index += 1
            }
            points.append([falsePositives / Double(negatives.count), truePositives / Double(positives.count)])
        }
        self.points = points
        var wins = 0.0
        let sortedNegatives = negatives.sorted()
        for p in positives {
            let below = sortedNegatives.partitionIndex { $0 >= p }
            let notAbove = sortedNegatives.partitionIndex { $0 > p }
            wins += Double(below) + 0.5 * Double(notAbove - below)
        }
        auc = wins / Double(negatives.count * positives.count)
        // The best detection rate among thresholds that flag at most 5% of clean observations.
        truePositiveRateAt5PercentFalsePositives = points.filter { $0[0] <= 0.05 + 1e-12 }.map { $0[1] }.max() ?? 0
    }
}

extension Array where Element: Comparable {
    /// The first index whose element satisfies `predicate` (which must be monotone).
    func partitionIndex(_ predicate: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

/// PGD that knows the detector (the adaptive attacker of Carlini & Wagner 2017's detector
/// study): it ascends `CE(clean action) − λ · score_detector` — changing the action while
/// keeping the detector's score low — inside the threat model.
public struct DetectorAwarePGD: Sendable {
    public var steps: Int
    public var alphaRatio: Double
    public var weight: Double

    public init(steps: Int = 20, alphaRatio: Double = 0.1, weight: Double = 1) {
        self.steps = steps
        self.alphaRatio = alphaRatio
        self.weight = weight
    }

    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, detector: LearnedDetector<S>, threatModel: ThreatModel,
        random: RandomStream
    ) -> Matrix<S> {
        let objective = Objective.untargeted(policy, clean: policy.outputs(observations))
        var current = threatModel.randomPoint(around: observations, random: random)
        for _ in 0..<steps {
            let attackGradient = objective.valueAndInputGradient(policy, at: current).gradient
            let detectorGradient = detector.scoresAndInputGradient(current).gradient
            let direction = attackGradient - detectorGradient.map { $0 * S(weight) }
            threatModel.ascend(&current, along: direction, size: alphaRatio * threatModel.epsilon, around: observations)
        }
        return current
    }
}

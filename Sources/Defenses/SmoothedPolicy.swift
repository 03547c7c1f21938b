import Agents
import Attacks
import Linalg
import NeuralNet

/// Randomised smoothing as a defense (Cohen et al. 2019; Kumar et al. 2022 and Wu et al. 2022
/// for RL): the policy's outputs on `samples` noisy copies `s + σ·u ⊙ z_k` are combined by an
/// `Aggregation` — mean, median, or a majority vote of the copies' actions (the smoothed policy
/// that `RandomizedSmoothing` certifies). The gradient goes through every copy (BPDA through the
/// mean for the vote); each call draws fresh noise, so attacks adapt with EOT.
public struct SmoothedPolicy: PolicyDefense {
    public var sigma: Double
    public var samples: Int
    public var aggregation: Aggregation
    public var scale: [Double]

    static let sigmaParameter = AttackParameter.number("sigma", default: 0.1, in: 1e-12...1e12, "noise σ, in units of scale")
    static let samplesParameter = AttackParameter.integer("samples", default: 16, in: 1...10_000, "noisy copies per observation")
    static let aggregationParameter = AttackParameter(
        "aggregation", .choice(["mean", "median", "trimmed", "vote"]), default: nil,
        "how copies combine (vote for discrete actions, else mean)")
    static let trimParameter = AttackParameter.integer(
        "trim", default: nil, in: 1...10_000, "values trimmed from each end (trimmed)")
    public static let kind = DefenseKind(
        type: "smoothing", summary: "randomised smoothing: combine the outputs of noisy copies (Cohen et al. 2019)",
        transformParameters: [sigmaParameter, samplesParameter, aggregationParameter, trimParameter],
        decode: { stored, _, inner throws(DefenseError) in
            try SmoothedPolicy(
                sigma: stored.number("sigma") ?? 0, samples: stored.integer("samples") ?? 0,
                aggregation: try Aggregation(name: stored.string("aggregation") ?? "vote", trim: stored.integer("trim")),
                scale: try stored.scale(dimension: inner.observationDimension), discrete: inner.actionSpace.actionCount != nil)
        },
        makeTransformation: { spec, context throws(DefenseError) in
            let (sigma, samples, trim) = try attackSpecValue { () throws(AttackError) in
                (
                    try spec.double(sigmaParameter), try spec.int(samplesParameter),
                    spec.parameters["trim"] == nil ? nil : try spec.int(trimParameter)
                )
            }
            let name = try attackSpecValue { () throws(AttackError) in
                try spec.choice(
                    "aggregation", default: context.discrete ? "vote" : "mean", from: ["mean", "median", "trimmed", "vote"])
            }
            return try SmoothedPolicy(
                sigma: sigma, samples: samples, aggregation: try Aggregation(name: name, trim: trim), scale: context.scale,
                discrete: context.discrete)
        })

    public init(sigma: Double, samples: Int, aggregation: Aggregation, scale: [Double], discrete: Bool) throws(DefenseError) {
        guard sigma > 0, sigma.isFinite, (1...10_000).contains(samples), scale.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw DefenseError("smoothing: sigma and scale must be positive and samples in 1…10000")
        }
        try aggregation.validate(count: samples, discrete: discrete)
        self.sigma = sigma
        self.samples = samples
        self.aggregation = aggregation
        self.scale = scale
    }

    public var spec: String { "smoothing:sigma=\(sigma),samples=\(samples),aggregation=\(aggregation.name)" }
    public var isRandomized: Bool { true }
    public var stored: (description: DefenseDescription, tensors: [String: Safetensors.Tensor]) {
        (
            DefenseDescription(
                type: Self.kind.type,
                parameters: [
                    "aggregation": .string(aggregation.name), "sigma": .number(sigma), "samples": .number(Double(samples)),
                    "scale": JSONValue(scale),
                ].merging(aggregation.trim.map { ["trim": .number(Double($0))] } ?? [:]) { $1 }), [:]
        )
    }

    /// The copies stacked: rows `k·n … k·n + n − 1` are copy k of the n observations.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func noisyCopies<S: BLASScalar>(_ observations: Matrix<S>, random: RandomStream) -> Matrix<S> {
        let repeated = Matrix(
            rows: samples * observations.rows, columns: observations.columns,
            storage: Array(repeatElement(observations.storage, count: samples).joined()))
        return addGaussianNoise(to: repeated, sigma: sigma, scale: scale, random: random)
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func split<S: BLASScalar>(_ stacked: Matrix<S>, rows: Int) -> [Matrix<S>] {
        (0..<samples).map { k in
            Matrix(
                rows: rows, columns: stacked.columns,
                storage: Array(stacked.storage[(k * rows * stacked.columns)..<((k + 1) * rows * stacked.columns)]))
        }
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func outputs<S: BLASScalar>(_ observations: Matrix<S>, inner: Policy<S>, random: RandomStream) -> Matrix<S> {
        aggregation.combine(split(inner.outputs(noisyCopies(observations, random: random)), rows: observations.rows)).aggregate
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func outputsAndInputGradient<S: BLASScalar>(
        _ observations: Matrix<S>, inner: Policy<S>, random: RandomStream,
        lossGradient: (Matrix<S>) -> Matrix<S>
    ) -> (outputs: Matrix<S>, gradient: Matrix<S>) {
        let n = observations.rows
        var aggregate = Matrix<S>(rows: 0, columns: 0)
        let (_, stackedGradient) = inner.outputsAndInputGradient(noisyCopies(observations, random: random), workspace: nil) {
            stacked in
            let (combined, weights) = aggregation.combine(split(stacked, rows: n))
            aggregate = combined
            let outputGradient = lossGradient(combined)
            var result = Matrix<S>(rows: stacked.rows, columns: stacked.columns)
            for k in 0..<samples {
                for r in 0..<n {
                    for j in 0..<stacked.columns { result[k * n + r, j] = outputGradient[r, j] * weights[k][r, j] }
                }
            }
            return result
        }
        var gradient = Matrix<S>(rows: n, columns: observations.columns)
        for part in split(stackedGradient, rows: n) { gradient = gradient + part }
        return (aggregate, gradient)
    }
}

import Agents
import Linalg
import NeuralNet

/// The loop shared by iterative gradient attacks: from a start point, `steps` steps along a
/// direction computed from the objective's input gradient, each projected onto the threat
/// model; the run with the largest final objective per observation is kept over `restarts`.
/// PGD, MI-FGSM, MAD and the targeted attack differ only in objective, direction and start.
struct GradientAscent {
    var steps: Int
    var stepSize: Double
    var randomStart: Bool
    var restarts: Int
    /// Momentum decay μ of MI-FGSM (nil: plain steepest ascent).
    var momentum: Double?
    /// Gradients averaged per step: expectation over transformation (EOT, Athalye et al. 2018)
    /// for policies behind randomised defenses, whose every call draws new randomness.
    var eotSamples = 1

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func run<S: BLASScalar>(
        _ observations: Matrix<S>, objective: Objective, policy: Policy<S>, threatModel: ThreatModel,
        random: RandomStream
    ) -> AttackResult<S> {
        guard threatModel.epsilon > 0 else { return AttackResult(perturbed: observations, queries: 0) }
        var best = observations
        var bestValues = [Double](repeating: -.infinity, count: observations.rows)
        // The outputs at the kept point, returned when they are the policy's (not the critic's)
        // and the policy is deterministic.
        let keepsOutputs = !policy.isRandomized && !objective.dependsOnCritic
        var bestOutputs = Matrix<S>(rows: observations.rows, columns: keepsOutputs ? policy.outputDimension : 0)
        var queries = 1
        // Reused every step, so the loop allocates nothing per step; its products skip OpenBLAS's
        // packing for a few observations (an attack's arithmetic need not match training's).
        let workspace = policy.workspace(batch: observations.rows, unpackedProducts: true)
        var gradient = Matrix<S>(rows: observations.rows, columns: observations.columns)
        var velocity = Matrix<S>(rows: observations.rows, columns: observations.columns)
        for _ in 0..<restarts {
            var current = randomStart ? threatModel.randomPoint(around: observations, random: random) : observations
            if momentum != nil { velocity = Matrix(rows: observations.rows, columns: observations.columns) }
            for _ in 0..<steps {
                objective.expectedInputGradient(policy, at: current, samples: eotSamples, workspace: workspace, into: &gradient)
                if let momentum {
                    // g ← μ g + ∇ / ‖∇‖₁ (Dong et al. 2018), per observation.
                    for r in 0..<gradient.rows {
                        var l1 = 0.0
                        for j in 0..<gradient.columns { l1 += abs(Double(gradient[r, j])) }
                        for j in 0..<gradient.columns {
                            velocity[r, j] = S(momentum) * velocity[r, j] + (l1 > 0 ? gradient[r, j] / S(l1) : 0)
                        }
                    }
                }
                threatModel.ascend(&current, along: momentum == nil ? gradient : velocity, size: stepSize, around: observations)
            }
            let outputs = keepsOutputs ? policy.outputs(current) : nil
            let values = outputs.map { objective.evaluate($0).values } ?? objective.values(policy, at: current)
            queries += steps * eotSamples + 1
            for r in 0..<observations.rows where values[r] > bestValues[r] {
                bestValues[r] = values[r]
                best.setRow(r, to: current.row(r))
                if let outputs { bestOutputs.setRow(r, to: outputs.row(r)) }
            }
        }
        return AttackResult(
            perturbed: best, queries: queries, outputs: keepsOutputs && !bestValues.contains(-.infinity) ? bestOutputs : nil)
    }
}

/// The parameters of attacks that run projected gradient ascent on a fixed objective from a
/// random start (MAD, the critic attack): `steps` (10), `alpha_ratio` (0.25), `restarts` (1).
public struct RandomStartAscent: Equatable, Sendable {
    public var steps: Int
    public var alphaRatio: Double
    public var restarts: Int

    public init(steps: Int = 10, alphaRatio: Double = 0.25, restarts: Int = 1) {
        self.steps = steps
        self.alphaRatio = alphaRatio
        self.restarts = restarts
    }

    static let stepsParameter = AttackParameter.steps(10)
    static let alphaRatioParameter = AttackParameter.alphaRatio(0.25)
    static let parameters = [stepsParameter, alphaRatioParameter, AttackParameter.restarts]

    init(_ spec: AttackSpec) throws(AttackError) {
        self.init(
            steps: try spec.int(Self.stepsParameter), alphaRatio: try spec.double(Self.alphaRatioParameter),
            restarts: try spec.int(AttackParameter.restarts))
    }

    var parameters: [String: CustomStringConvertible] { ["steps": steps, "alpha_ratio": alphaRatio, "restarts": restarts] }

    func run<S: BLASScalar>(
        _ observations: Matrix<S>, objective: Objective, policy: Policy<S>, threatModel: ThreatModel,
        random: RandomStream
    ) -> AttackResult<S> {
        GradientAscent(steps: steps, stepSize: alphaRatio * threatModel.epsilon, randomStart: true, restarts: restarts)
            .run(observations, objective: objective, policy: policy, threatModel: threatModel, random: random)
    }
}

import Agents
import Linalg

/// Black-box PGD: the attacker sees only the policy's outputs and estimates the objective's
/// gradient from queries, then takes projected signed (L∞) or normalised (L2) steps as PGD does.
///
/// - NES (Ilyas et al. 2018, "Black-box adversarial attacks with limited queries"):
///   `ĝ = 1/(2nσ) Σ_i [f(x + σu_i) − f(x − σu_i)] u_i`, u_i ~ N(0, I) (antithetic pairs).
/// - SPSA (Spall 1992; Uesato et al. 2018): `ĝ = 1/n Σ_i [f(x + cΔ_i) − f(x − cΔ_i)] / (2c) · Δ_i`,
///   Δ_i Rademacher.
///
/// Each estimate costs exactly `2 · samples` queries per observation; the attack reports them.
/// Parameters: `samples` (antithetic pairs per step, 20), `sigma` (NES) or `delta` (SPSA)
/// as a fraction of ε (0.1), `steps` (10), `alpha_ratio` (0.25).
public struct GradientEstimationAttack: Attack {
    public enum Estimator: String, Sendable { case nes, spsa }

    public var estimator: Estimator
    public var samples: Int
    public var smoothing: Double
    public var steps: Int
    public var alphaRatio: Double

    public init(estimator: Estimator, samples: Int = 20, smoothing: Double = 0.1, steps: Int = 10, alphaRatio: Double = 0.25) {
        self.estimator = estimator
        self.samples = samples
        self.smoothing = smoothing
        self.steps = steps
        self.alphaRatio = alphaRatio
    }

    var smoothingKey: String { estimator == .nes ? "sigma" : "delta" }

    public static let nes = description(
        .nes, summary: "black-box: NES gradient estimates from antithetic Gaussian queries (Ilyas et al. 2018)",
        smoothing: "Gaussian query radius as a fraction of ε")
    public static let spsa = description(
        .spsa, summary: "black-box: SPSA gradient estimates from Rademacher queries (Uesato et al. 2018)",
        smoothing: "finite-difference step as a fraction of ε")

    static func description(_ estimator: Estimator, summary: String, smoothing: String) -> AttackDescription {
        let samples = AttackParameter.integer("samples", default: 20, in: 1...1_000_000, "antithetic query pairs per step")
        let (steps, alphaRatio) = (AttackParameter.steps(10), AttackParameter.alphaRatio(0.25))
        let radius = AttackParameter.number(estimator == .nes ? "sigma" : "delta", default: 0.1, in: 1e-9...100, smoothing)
        return AttackDescription(
            name: estimator.rawValue, summary: summary, family: .blackBox, ascent: .iterative(onOneStepObjective: true),
            parameters: [samples, radius, steps, alphaRatio],
            cheapSettings: ["samples": "4", "steps": "2"]
        ) { spec, _ throws(AttackError) in
            GradientEstimationAttack(
                estimator: estimator, samples: try spec.int(samples), smoothing: try spec.double(radius),
                steps: try spec.int(steps), alphaRatio: try spec.double(alphaRatio))
        }
    }

    public var spec: String {
        formatSpec(estimator.rawValue, ["samples": samples, smoothingKey: smoothing, "steps": steps, "alpha_ratio": alphaRatio])
    }

    /// The estimated gradient of `objective` at `x` (per row) and the queries it cost.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func estimateGradient<S: BLASScalar>(
        _ objective: Objective, policy: Policy<S>, at x: Matrix<S>, scale: [Double], radius: Double,
        random: RandomStream
    ) -> (gradient: Matrix<S>, queries: Int) {
        var estimate = Matrix<Double>(rows: x.rows, columns: x.columns)
        let c = smoothing * radius
        for _ in 0..<samples {
            var direction = Matrix<Double>(rows: x.rows, columns: x.columns)
            for i in direction.storage.indices {
                direction.storage[i] = estimator == .nes ? random.normal() : (random.uniform() < 0.5 ? -1 : 1)
            }
            var plus = x
            var minus = x
            for r in 0..<x.rows {
                for j in 0..<x.columns {
                    let step = c * scale[j] * direction[r, j]
                    plus[r, j] += S(step)
                    minus[r, j] -= S(step)
                }
            }
            let fPlus = objective.evaluate(policy.outputs(plus)).values
            let fMinus = objective.evaluate(policy.outputs(minus)).values
            for r in 0..<x.rows {
                let difference = (fPlus[r] - fMinus[r]) / (2 * c)
                for j in 0..<x.columns {
                    // NES: E[u uᵀ] = I; SPSA: 1/Δ_j = Δ_j for Rademacher signs. Both per unit of `scale`.
                    estimate[r, j] += difference * direction[r, j] / scale[j] / Double(samples)
                }
            }
        }
        return (estimate.converted(to: S.self), 2 * samples)
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        guard threatModel.epsilon > 0 else { return AttackResult(perturbed: observations, queries: 0) }
        let objective = Objective.untargeted(policy, clean: policy.outputs(observations))
        var current = threatModel.randomPoint(around: observations, random: random)
        var queries = 1
        for _ in 0..<steps {
            let (gradient, spent) = estimateGradient(
                objective, policy: policy, at: current, scale: threatModel.scale,
                radius: threatModel.epsilon, random: random)
            queries += spent
            threatModel.ascend(&current, along: gradient, size: alphaRatio * threatModel.epsilon, around: observations)
        }
        return AttackResult(perturbed: current, queries: queries)
    }
}

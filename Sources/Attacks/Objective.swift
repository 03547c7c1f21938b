import Agents
import Linalg
import NeuralNet

/// What an attack increases, per observation, and its gradient with respect to the observation.
/// Defaults follow the literature: for discrete policies the cross-entropy of the clean action
/// under the policy's outputs read as logits (Huang et al. 2017; SA-DQN's PGD on Q-values); for
/// continuous policies the squared distance of the output (Gaussian mean or action) from its
/// clean value.
public enum Objective: Sendable {
    /// Maximise `−log softmax(z(s′))[a]` for the clean action `a` of each row.
    case crossEntropy(actions: [Int])
    /// Maximise `‖z(s′) − z(s)‖²` from the clean outputs.
    case outputDistance(clean: [[Double]])
    /// Maximise the margin `max_{j≠a} z_j(s′) − z_a(s′)` (Carlini & Wagner 2017): positive once
    /// the action has flipped.
    case margin(actions: [Int])
    /// Drive the policy towards `targets`: maximise `log softmax(z(s′))[t]`.
    case targeted(targets: [Int])
    /// Maximise `KL(π(·|s) ‖ π(·|s′))` (the MAD attack of SA-PPO): categorical policies (and Q
    /// values read as logits) by their softmax, Gaussian policies with their fixed standard
    /// deviations, for which the KL is `Σ_j (μ_j − μ′_j)² / 2σ_j²`.
    case kl(clean: [[Double]], inverseVariance: [Double]?)
    /// Minimise the value the policy's own critic assigns (`−V(s′)`; for a Q-network
    /// `−max_a Q(s′, a)`), the critic attack of Pattanaik et al. 2018.
    case criticValue
    /// Move the outputs along a direction: maximise `cos(z(s′) − z(s), d) + ‖z(s′) − z(s)‖₂`,
    /// the objective PA-AD's actor follows on continuous policies (Sun et al. 2022): the change
    /// of the action points where the director asks, and is large. At `z(s′) = z(s)` the cosine
    /// has no gradient; there it ascends along `d/‖d‖`, where the cosine grows fastest.
    case policyDirection(clean: [[Double]], directions: [[Double]])

    /// Whether the objective reads the critic rather than the policy's outputs.
    public var dependsOnCritic: Bool { if case .criticValue = self { true } else { false } }

    /// The default objective for a policy at clean observations.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func untargeted<S: BLASScalar>(_ policy: Policy<S>, clean outputs: Matrix<S>) -> Objective {
        if policy.head.isDiscrete {
            .crossEntropy(actions: (0..<outputs.rows).map { argmax(outputs.row($0)) })
        } else {
            .outputDistance(clean: outputs.rowArrays.map { $0.map(Double.init) })
        }
    }

    /// Per-row values and `∂value/∂outputs` at outputs `z` (not for `criticValue`, which
    /// depends on the critic: use `values(_:at:)` and `valueAndInputGradient`).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func evaluate<S: BLASScalar>(_ z: Matrix<S>) -> (values: [Double], gradient: Matrix<S>) {
        var gradient = Matrix<S>(rows: z.rows, columns: z.columns)
        var values = [Double](repeating: 0, count: z.rows)
        z.storage.withUnsafeBufferPointer { outputs in
            gradient.storage.withUnsafeMutableBufferPointer { g in
                values.withUnsafeMutableBufferPointer { v in
                    evaluate(
                        outputs: outputs.baseAddress!, rows: z.rows, columns: z.columns, values: v.baseAddress!,
                        gradient: g.baseAddress!)
                }
            }
        }
        return (values, gradient)
    }

    /// `evaluate` on raw row-major outputs `[rows × columns]`: overwrites each row's value in
    /// `values` and `∂value/∂outputs` in `gradient` (both initialized memory). Allocates nothing.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func evaluate<S: BLASScalar>(
        outputs z: UnsafePointer<S>, rows: Int, columns n: Int, values: UnsafeMutablePointer<Double>,
        gradient: UnsafeMutablePointer<S>
    ) {
        values.update(repeating: 0, count: rows)
        gradient.update(repeating: 0, count: rows * n)
        for r in 0..<rows {
            let row = z + r * n
            let g = gradient + r * n
            switch self {
            case .crossEntropy(let actions), .targeted(let actions):
                let sign: Double = if case .targeted = self { -1 } else { 1 }
                let logTotal = logSumExp(row, count: n)
                values[r] = -sign * Double(row[actions[r]] - logTotal)
                for j in 0..<n {
                    let p = Double(S.exp(row[j] - logTotal))
                    g[j] = S(sign * (p - (j == actions[r] ? 1 : 0)))
                }
            case .outputDistance(let clean):
                for j in 0..<n {
                    let d = Double(row[j]) - clean[r][j]
                    values[r] += d * d
                    g[j] = S(2 * d)
                }
            case .kl(let clean, let inverseVariance?):
                for j in 0..<n {
                    let d = Double(row[j]) - clean[r][j]
                    values[r] += d * d * inverseVariance[j] / 2
                    g[j] = S(d * inverseVariance[j])
                }
            case .kl(let clean, nil):
                let logTotal = logSumExp(row, count: n)
                let cleanLogTotal = clean[r].withUnsafeBufferPointer { logSumExp($0.baseAddress!, count: n) }
                for j in 0..<n {
                    let logP = clean[r][j] - cleanLogTotal
                    let logQ = row[j] - logTotal
                    let p = Double.exp(logP)
                    values[r] += p * (logP - Double(logQ))
                    g[j] = S(Double(S.exp(logQ)) - p)  // ∂KL/∂z′ = softmax(z′) − p
                }
            case .policyDirection(let clean, let directions):
                let d = directions[r]
                var change = 0.0
                var directionNorm = 0.0
                var inner = 0.0
                for j in 0..<n {
                    let u = Double(row[j]) - clean[r][j]
                    change += u * u
                    directionNorm += d[j] * d[j]
                    inner += u * d[j]
                }
                change = change.squareRoot()
                directionNorm = directionNorm.squareRoot()
                guard directionNorm > 0 else { continue }
                guard change > 0 else {
                    for j in 0..<n { g[j] = S(d[j] / directionNorm) }
                    continue
                }
                let cosine = inner / (change * directionNorm)
                values[r] = cosine + change
                // ∂cos/∂u = d/(‖u‖‖d‖) − cos·u/‖u‖², ∂‖u‖/∂u = u/‖u‖.
                for j in 0..<n {
                    let u = Double(row[j]) - clean[r][j]
                    g[j] = S(d[j] / (change * directionNorm) - cosine * u / (change * change) + u / change)
                }
            case .criticValue:
                preconditionFailure("the critic objective depends on the critic, not on the outputs")
            case .margin(let actions):
                let a = actions[r]
                var best = -1
                for j in 0..<n where j != a && (best < 0 || row[j] > row[best]) { best = j }
                guard best >= 0 else { continue }
                values[r] = Double(row[best] - row[a])
                g[best] = 1
                g[a] = -1
            }
        }
    }

    /// The MAD objective for a policy at clean observations.
    public static func divergence<S: BLASScalar>(_ policy: Policy<S>, clean outputs: Matrix<S>) -> Objective {
        .kl(clean: outputs.rowArrays.map { $0.map(Double.init) }, inverseVariance: policy.head.divergenceWeights)
    }

    /// Per-row values at observations.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func values<S: BLASScalar>(_ policy: Policy<S>, at observations: Matrix<S>) -> [Double] {
        if case .criticValue = self { return valueAndInputGradient(policy, at: observations).values }
        return evaluate(policy.outputs(observations)).values
    }

    /// The clean outputs an attack labels with: those the caller computed (`given`) when the
    /// policy is deterministic and one sample is asked for, else `expectedOutputs` — a randomised
    /// policy's labels are drawn where the attack always drew them, so results do not depend on
    /// whether the caller passed its outputs.
    public static func cleanOutputs<S: BLASScalar>(given: Matrix<S>?, policy: Policy<S>, at observations: Matrix<S>, samples: Int)
        -> Matrix<S>
    {
        if let given, samples == 1, !policy.isRandomized { return given }
        return expectedOutputs(policy, at: observations, samples: samples)
    }

    /// The policy's outputs averaged over `samples` evaluations: for a randomised defense, the
    /// clean outputs an EOT attack takes its label from (one draw would be a noisy label).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func expectedOutputs<S: BLASScalar>(_ policy: Policy<S>, at observations: Matrix<S>, samples: Int) -> Matrix<S>
    {
        var outputs = policy.outputs(observations)
        guard samples > 1 else { return outputs }
        for _ in 1..<samples { outputs = outputs + policy.outputs(observations) }
        return outputs.map { $0 / S(samples) }
    }

    /// `∂value/∂observation` averaged over `samples` evaluations (EOT; one is the plain gradient).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func expectedInputGradient<S: BLASScalar>(
        _ policy: Policy<S>, at observations: Matrix<S>, samples: Int, workspace: Workspace<S>? = nil
    ) -> Matrix<S> {
        var gradient = Matrix<S>(rows: 0, columns: 0)
        expectedInputGradient(
            policy, at: observations, samples: samples,
            workspace: workspace ?? policy.workspace(batch: observations.rows), into: &gradient)
        return gradient
    }

    /// `expectedInputGradient` into `gradient`, whose storage is reused: with one sample and no
    /// critic objective, the attack loop's step allocates nothing.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func expectedInputGradient<S: BLASScalar>(
        _ policy: Policy<S>, at observations: Matrix<S>, samples: Int, workspace: Workspace<S>,
        into gradient: inout Matrix<S>
    ) {
        inputGradient(policy, at: observations, workspace: workspace, into: &gradient)
        guard samples > 1 else { return }
        var sample = gradient
        for _ in 1..<samples {
            inputGradient(policy, at: observations, workspace: workspace, into: &sample)
            gradient = gradient + sample
        }
        gradient = gradient.map { $0 / S(samples) }
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func inputGradient<S: BLASScalar>(
        _ policy: Policy<S>, at observations: Matrix<S>, workspace: Workspace<S>, into gradient: inout Matrix<S>
    ) {
        if case .criticValue = self {
            gradient = valueAndInputGradient(policy, at: observations).gradient
            return
        }
        withUnsafeTemporaryAllocation(of: Double.self, capacity: observations.rows) { values in
            values.initialize(repeating: 0)
            policy.inputGradient(observations, workspace: workspace, into: &gradient) { z, dz in
                evaluate(
                    outputs: z, rows: observations.rows, columns: policy.outputDimension, values: values.baseAddress!,
                    gradient: dz)
            }
        }
    }

    /// Values and `∂value/∂observation` for perturbed observations (one forward, one backward).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func valueAndInputGradient<S: BLASScalar>(
        _ policy: Policy<S>, at observations: Matrix<S>, workspace: Workspace<S>? = nil
    )
        -> (values: [Double], gradient: Matrix<S>)
    {
        if case .criticValue = self {
            guard let (values, gradient) = policy.valueAndInputGradient(observations) else {
                preconditionFailure("the critic objective needs a critic or a Q-network (CriticAttack.validate first)")
            }
            return (values.map { -$0 }, gradient.map { -$0 })
        }
        var values = [Double](repeating: 0, count: observations.rows)
        var gradient = Matrix<S>(rows: 0, columns: 0)
        values.withUnsafeMutableBufferPointer { v in
            policy.inputGradient(
                observations, workspace: workspace ?? policy.workspace(batch: observations.rows), into: &gradient
            ) { z, dz in
                evaluate(
                    outputs: z, rows: observations.rows, columns: policy.outputDimension, values: v.baseAddress!,
                    gradient: dz)
            }
        }
        return (values, gradient)
    }
}

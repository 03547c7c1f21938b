import Agents
import Attacks
import Environments
import Linalg
import NeuralNet

/// The state-adversarial (SA) regulariser of Zhang et al. 2020 ("Robust deep reinforcement
/// learning against adversarial perturbations on state observations"): `κ R(θ)` added to the
/// learner's loss, `R` measuring how much the policy can change inside the ε-ball.
///
/// - SA-DQN: `R = mean_s max(max_{ŝ∈B(s)} max_{a≠a*} Q(ŝ,a) − Q(ŝ,a*), −c)`, `a*` the greedy
///   action at `s` and `c` the margin — its inner maximum found by PGD on that margin
///   (`robust_bound: pgd`) or bounded by interval propagation (`ibp`, the convex relaxation:
///   the last layer taken exactly on the difference of two actions' rows).
/// - SA-PPO: `R = mean_s max_{ŝ∈B(s)} KL(π(·|s) ‖ π(·|ŝ))`, the inner maximum found by PGD on the
///   KL (the MAD attack); π(·|s) is held fixed. For a Gaussian policy with its state-independent
///   σ, the KL is `Σ_j (μ_j(ŝ) − μ_j(s))² / 2σ_j²`.
/// - SA-DDPG (TD3/DDPG actors): `R = mean_s max_{ŝ∈B(s)} ‖μ(ŝ) − μ(s)‖² / 2` on the actor's
///   actions in [−1, 1], μ(s) held fixed, the inner maximum found the same way.
/// - With `robust_bound: ibp` the inner maximum of SA-PPO's and SA-DDPG's divergence is bounded
///   instead (SA-PPO's convex relaxation): interval bounds `[l, u]` of the outputs over the ball
///   give `Σ_j w_j max(u_j − μ_j, μ_j − l_j)² / 2` for the squared forms (w = 1/σ² or 1), and
///   `Σ_i p_i log p_i − p·l + log Σ_i e^{u_i}` for the categorical KL (`p = π(·|s)`), each an
///   upper bound of the divergence anywhere in the ball.
///
/// For SA-PPO the divergence's gradient reaches the Gaussian's log σ as well (SA-PPO's default;
/// `robust_detach_std: true` keeps σ out), so widening σ is one way to lower it.
///
/// ε follows the config's ramp; before it starts, `R` is not computed.
public final class StateAdversarialRegularizer: RobustTrainingBase, RobustTraining {
    public static let method = RobustTrainingMethod(
        name: "sa", summary: "state-adversarial regulariser, Zhang et al. 2020", learners: ["dqn", "ppo", "td3", "ddpg"],
        diagnostics: ["robust/eps", "robust/regularizer"], options: [margin.hyperparameter, detachStd.hyperparameter]
    ) { config, context in StateAdversarialRegularizer(config: config, bounds: context.bounds, random: context.random) }

    /// SA-DQN's hinge margin c.
    public static let margin = RobustTrainingOption.number("robust_margin", default: 1, in: 0...1e6, "hinge margin c of SA-DQN")
    /// SA-PPO: whether the regulariser leaves the Gaussian's log σ alone. By default (SA-PPO's
    /// `robust_ppo_detach_stdev: false`) its gradient reaches log σ too, so the policy can lower
    /// the divergence by widening σ as well as by flattening μ.
    public static let detachStd = RobustTrainingOption.flag(
        "robust_detach_std", default: false,
        "SA-PPO: keep the regulariser's gradient off the Gaussian's log σ (false: σ is trained by it too, as SA-PPO's)")

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func regularize<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, progress: Double, parameterGradient: inout [S],
        logStdGradient: inout [S]
    ) -> [String: Double] {
        let epsilon = config.epsilon(atProgress: progress)
        guard epsilon > 0, config.kappa > 0 else { return ["robust/eps": epsilon] }
        let model = threatModel(atProgress: progress, policy: policy)
        let clean = policy.outputs(observations)
        let n = observations.rows
        let weight = S(config.kappa) / S(n)
        // A Gaussian's log σ gets the divergence's gradient when the learner trains it (SA-PPO).
        let trainsLogStd = !logStdGradient.isEmpty && !config[Self.detachStd] && policy.head.divergenceWeights != nil
        var logStdTerms = [S](repeating: 0, count: trainsLogStd ? logStdGradient.count : 0)
        var value = 0.0
        if config.bound == "ibp" {
            value =
                policy.head.outputsAreActionValues
                ? intervalHinge(
                    observations, clean: clean, policy: policy, threatModel: model, weight: weight, gradient: &parameterGradient)
                : intervalDivergence(
                    observations, clean: clean, policy: policy, threatModel: model, weight: weight, gradient: &parameterGradient,
                    logStdGradient: &logStdTerms)
        } else {
            let worst: Matrix<S>
            var outputGradient: Matrix<S>
            if policy.head.outputsAreActionValues {
                worst =
                    PGD(steps: config.steps, loss: "cw").perturb(observations, policy: policy, threatModel: model, random: random)
                    .perturbed
                let q = policy.outputs(worst)
                outputGradient = Matrix(rows: n, columns: q.columns)
                for r in 0..<n {
                    let best = argmax(clean.row(r))
                    let rival = (0..<q.columns).filter { $0 != best }.max { q[r, $0] < q[r, $1] }!
                    let margin = Double(q[r, rival] - q[r, best])
                    value += max(margin, -config[Self.margin]) / Double(n)
                    if margin > -config[Self.margin] {
                        outputGradient[r, rival] += weight
                        outputGradient[r, best] -= weight
                    }
                }
            } else {
                worst =
                    MAD(steps: config.steps).perturb(observations, policy: policy, threatModel: model, random: random).perturbed
                let worstOutputs = policy.outputs(worst)
                let divergence = Objective.divergence(policy, clean: clean).evaluate(worstOutputs)
                value = divergence.values.reduce(0, +) / Double(n)
                outputGradient = divergence.gradient.map { weight * $0 }
                if trainsLogStd, let weights = policy.head.divergenceWeights {
                    // ∂/∂log σ_j of Σ_j (μ′_j − μ_j)² / 2σ_j² is −(μ′_j − μ_j)² / σ_j².
                    for r in 0..<n {
                        for j in logStdTerms.indices {
                            let d = Double(worstOutputs[r, j] - clean[r, j])
                            logStdTerms[j] -= weight * S(weights[j] * d * d)
                        }
                    }
                }
            }
            let workspace = Workspace(for: policy.network, batch: n)
            _ = policy.network.forward(policy.scaled(worst), workspace: workspace)
            policy.network.backward(
                outputGradient: outputGradient, workspace: workspace, parameterGradient: &parameterGradient,
                accumulate: true, request: .parameters)
        }
        for j in logStdTerms.indices { logStdGradient[j] += logStdTerms[j] }
        return ["robust/eps": epsilon, "robust/regularizer": value]
    }

    /// SA-DQN's convex relaxation: for each action `a ≠ a*`, the upper bound of
    /// `Q(ŝ,a) − Q(ŝ,a*)` over the box, from interval bounds on the last hidden layer `h` and
    /// the exact last layer on `d = w_a* − w_a`: `−(d·c_h + b_a* − b_a) + |d|·r_h`. Adds the
    /// hinge's parameter gradient and returns its value.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func intervalHinge<S: BLASScalar>(
        _ observations: Matrix<S>, clean: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel,
        weight: S, gradient: inout [S]
    ) -> Double {
        let network = policy.network
        let n = observations.rows
        let box = networkInputBox(around: observations, policy: policy, threatModel: threatModel)
        let lastModule = network.modules.lastIndex { if case .linear = $0 { true } else { false } }!
        let lastLayer = network.linearLayers.count - 1
        let layout = network.linearLayers[lastLayer]
        let w = network.weight(lastLayer)
        let b = network.bias(lastLayer)
        var value = 0.0
        var lastGradient = [S](repeating: 0, count: layout.outputs * layout.inputs + layout.outputs)
        let (_, hiddenGradient) = network.intervalBoundsParameterGradient(box, moduleCount: lastModule) { hidden in
            var gLower = Matrix<S>(rows: n, columns: layout.inputs)
            var gUpper = Matrix<S>(rows: n, columns: layout.inputs)
            for r in 0..<n {
                let best = argmax(clean.row(r))
                let center = (0..<layout.inputs).map { (hidden.lower[r, $0] + hidden.upper[r, $0]) / 2 }
                let radius = (0..<layout.inputs).map { (hidden.upper[r, $0] - hidden.lower[r, $0]) / 2 }
                // The worst rival by its bound.
                var rival = -1
                var bound = -S.infinity
                for a in 0..<layout.outputs where a != best {
                    var v = b[a] - b[best]
                    for k in 0..<layout.inputs {
                        let d = w[best, k] - w[a, k]
                        v += -d * center[k] + abs(d) * radius[k]
                    }
                    if v > bound { (rival, bound) = (a, v) }
                }
                value += max(Double(bound), -config[Self.margin]) / Double(n)
                guard Double(bound) > -config[Self.margin], rival >= 0 else { continue }
                for k in 0..<layout.inputs {
                    let d = w[best, k] - w[rival, k]
                    let sign: S = d > 0 ? 1 : d < 0 ? -1 : 0
                    // ∂bound/∂c = −d, ∂bound/∂r = |d|; c = (l+u)/2, r = (u−l)/2.
                    gLower[r, k] += weight * (-d - abs(d)) / 2
                    gUpper[r, k] += weight * (-d + abs(d)) / 2
                    // ∂bound/∂d = −c + sign(d)·r, with d = w_best − w_rival.
                    let dd = weight * (-center[k] + sign * radius[k])
                    lastGradient[best * layout.inputs + k] += dd
                    lastGradient[rival * layout.inputs + k] -= dd
                }
                lastGradient[layout.outputs * layout.inputs + rival] += weight
                lastGradient[layout.outputs * layout.inputs + best] -= weight
            }
            return (gLower, gUpper)
        }
        for i in hiddenGradient.indices { gradient[i] += hiddenGradient[i] }
        for i in lastGradient.indices { gradient[layout.weightOffset + i] += lastGradient[i] }
        return value
    }

    /// The interval bound of the divergence between the outputs at `s` (held fixed) and anywhere
    /// in the ball (see the type's documentation); adds `weight ·` its parameter gradient per row,
    /// and its log σ gradient when `logStdGradient` is not empty, and returns its mean.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func intervalDivergence<S: BLASScalar>(
        _ observations: Matrix<S>, clean: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel,
        weight: S, gradient: inout [S], logStdGradient: inout [S]
    ) -> Double {
        let box = networkInputBox(around: observations, policy: policy, threatModel: threatModel)
        let (n, m) = (clean.rows, clean.columns)
        var logStdTerms = logStdGradient
        let weights = policy.head.divergenceWeights
        var value = 0.0
        let (_, boundGradient) = policy.network.intervalBoundsParameterGradient(box) { outputs in
            var gLower = Matrix<S>(rows: n, columns: m)
            var gUpper = Matrix<S>(rows: n, columns: m)
            for r in 0..<n {
                if let weights {
                    // (μ′ − μ)² is largest at the end of [l, u] further from μ.
                    for j in 0..<m {
                        let above = Double(outputs.upper[r, j] - clean[r, j])
                        let below = Double(clean[r, j] - outputs.lower[r, j])
                        if above >= below {
                            value += weights[j] * above * above / 2
                            gUpper[r, j] = weight * S(weights[j] * above)
                        } else {
                            value += weights[j] * below * below / 2
                            gLower[r, j] = weight * S(-weights[j] * below)
                        }
                        if !logStdTerms.isEmpty {
                            logStdTerms[j] -= weight * S(weights[j] * max(above, below) * max(above, below))
                        }
                    }
                } else {
                    // KL(p ‖ softmax(z′)) = Σ p log p − p·z′ + log Σ e^{z′} ≤ Σ p log p − p·l + log Σ e^{u}.
                    let p = softmax(Matrix(row: clean.row(r).map { Double($0) })).row(0)
                    let upper = outputs.upper.row(r).map { Double($0) }
                    let q = softmax(Matrix(row: upper)).row(0)
                    let largest = upper.max()!
                    value += largest + Double.log(upper.map { Double.exp($0 - largest) }.reduce(0, +))
                    for j in 0..<m {
                        if p[j] > 0 { value += p[j] * Double.log(p[j]) }
                        value -= p[j] * Double(outputs.lower[r, j])
                        gLower[r, j] = weight * S(-p[j])
                        gUpper[r, j] = weight * S(q[j])
                    }
                }
            }
            return (gLower, gUpper)
        }
        for i in boundGradient.indices { gradient[i] += boundGradient[i] }
        logStdGradient = logStdTerms
        return value / Double(n)
    }
}

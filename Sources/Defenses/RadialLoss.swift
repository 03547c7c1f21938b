import Agents
import Attacks
import Environments
import Linalg
import NeuralNet

/// A RADIAL-style worst-case loss for DQN (Oikarinen et al. 2021, "Robust deep reinforcement
/// learning through adversarial loss"): with interval bounds `[Q_l, Q_u]` of every action's
/// Q-value over the ε-box and the greedy action `a*`, the loss penalises each rival `y` whose
/// upper bound overlaps the greedy action's lower bound,
///
///     R = mean_s Σ_{y≠a*} Δ_y · max(Q_u(y) − Q_l(a*) + Δ_y/4, 0),   Δ_y = Q(s,a*) − Q(s,y) (held fixed),
///
/// so actions that matter most (large Δ) must separate first. Its gradient goes through the
/// interval bounds (`Sequential.intervalBoundsParameterGradient`); `κ` weighs it, ε follows the
/// config's ramp.
public final class RadialLoss: RobustTrainingBase, RobustTraining {
    public static let method = RobustTrainingMethod(
        name: "radial", summary: "worst-case loss from interval bounds, Oikarinen et al. 2021", learners: ["dqn"],
        diagnostics: ["robust/eps", "robust/regularizer"]
    ) { config, context in RadialLoss(config: config, bounds: context.bounds, random: context.random) }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func regularize<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, progress: Double, parameterGradient: inout [S],
        logStdGradient: inout [S]
    ) -> [String: Double] {
        let epsilon = config.epsilon(atProgress: progress)
        guard epsilon > 0, config.kappa > 0, policy.head.outputsAreActionValues else { return ["robust/eps": epsilon] }
        let n = observations.rows
        let weight = S(config.kappa) / S(n)
        let clean = policy.outputs(observations)
        let box = networkInputBox(
            around: observations, policy: policy, threatModel: threatModel(atProgress: progress, policy: policy))
        var value = 0.0
        let (_, gradient) = policy.network.intervalBoundsParameterGradient(box) { output in
            var gLower = Matrix<S>(rows: n, columns: output.lower.columns)
            var gUpper = gLower
            for r in 0..<n {
                let best = argmax(clean.row(r))
                for y in 0..<clean.columns where y != best {
                    let gap = clean[r, best] - clean[r, y]
                    let overlap = output.upper[r, y] - output.lower[r, best] + gap / 4
                    guard overlap > 0 else { continue }
                    value += Double(gap * overlap) / Double(n)
                    gUpper[r, y] += weight * gap
                    gLower[r, best] -= weight * gap
                }
            }
            return (gLower, gUpper)
        }
        for i in gradient.indices { parameterGradient[i] += gradient[i] }
        return ["robust/eps": epsilon, "robust/regularizer": value]
    }
}

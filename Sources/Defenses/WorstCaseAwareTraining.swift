import Agents
import Attacks
import Environments
import Linalg
import NeuralNet

/// WocaR-PPO (Liang et al. 2022, "Efficient adversarial training without attacking:
/// worst-case-aware robust reinforcement learning"): PPO that learns, without attacking, the
/// value of its policy under the worst attack in the ε-ball, and prefers actions that keep that
/// value high.
///
/// - **Worst-attack critic** `Q̲(s, a)` (64-64 tanh on the normalised observation and the action),
///   trained after each rollout for `robust_worst_case_epochs` epochs of minibatch TD regression
///   towards `r + γ Q̲′(s′, ã)`, `Q̲′` its Polyak-averaged target (`robust_worst_case_tau`), no
///   bootstrap where the episode ended. `ã` is the worst action an attack can make the policy
///   take at `s′`: interval bounds of the policy's mean over the ball give the box `[l, u]` of
///   actions it can be pushed to, and 50 signed descent steps of size `(u − l)/50` on `Q̲` inside
///   it find `ã`. Adam at `robust_worst_case_learning_rate`, annealed linearly.
/// - **Worst-case-aware policy update**: the surrogate weighs each action with its normalised
///   advantage plus `w · normalise(Q̲′(s, a))` over the minibatch, `w` rising linearly from 0 to
///   `robust_worst_case_weight` over training.
/// - **State regularisation**: SA-PPO's regulariser (`robust_kappa`, `robust_bound`).
///
/// These follow WocaR's reference implementation, with one deliberate difference by default: `ã`
/// is sought in the training ball (ε on the config's ramp, in `robust_eps_units`), where the
/// reference fixes a radius of 0.01 in normalised units whatever its training ε
/// (`robust_worst_case_eps: 0.01` does that).
public final class WorstCaseAwareTraining: RobustTrainingBase, RobustTraining {
    public static let method = RobustTrainingMethod(
        name: "wocar", summary: "worst-case-aware robust RL (WocaR), Liang et al. 2022", learners: ["ppo"],
        diagnostics: [
            "robust/eps", "robust/regularizer", "robust/worst_case_loss", "robust/worst_case_value", "robust/worst_case_weight",
        ],
        options: [
            weight.hyperparameter, learningRate.hyperparameter, epochs.hyperparameter, tau.hyperparameter,
            radius.hyperparameter, StateAdversarialRegularizer.detachStd.hyperparameter,
        ]
    ) { config, context throws(TrainingError) in try WorstCaseAwareTraining(config: config, context: context) }

    /// The weight of the worst-case value in the advantage, reached linearly over training.
    public static let weight = RobustTrainingOption.number(
        "robust_worst_case_weight", default: 0.8, in: 0...1,
        "WocaR: weight of the worst-case value in the advantage, ramped linearly from 0 over training")
    public static let learningRate = RobustTrainingOption.number(
        "robust_worst_case_learning_rate", default: 4e-4, in: 0...1,
        "WocaR: Adam step size of the worst-case critic (annealed linearly)")
    public static let epochs = RobustTrainingOption.integer(
        "robust_worst_case_epochs", default: 10, in: 1...1000, "WocaR: worst-case critic epochs per rollout")
    public static let tau = RobustTrainingOption.number(
        "robust_worst_case_tau", default: 0.001, in: 0...1, "WocaR: Polyak coefficient of the worst-case critic's target")
    /// The radius (in `robust_eps_units`) of the ball in which the worst-case critic's worst
    /// action is sought; nil follows the training ε on its ramp.
    public static let radius = RobustTrainingOption.optionalNumber(
        "robust_worst_case_eps", in: 0...1e6,
        "WocaR: radius of the ball where the critic's worst action is sought (unset: the training ε on its ramp; WocaR's code fixes 0.01)"
    )

    let regularizer: StateAdversarialRegularizer
    /// The worst-attack critic, a `WorstCaseCritic` in the learner's precision.
    let critic: AnyObject
    let batchSize: Int
    let gamma: Double
    /// Signed descent steps that look for the worst reachable action.
    static let actionSteps = 50

    public init(config: RobustTrainingConfig, context: RobustTrainingContext) throws(TrainingError) {
        guard let ppo = context.ppo else { throw TrainingError("robust_method wocar trains the agent with PPO") }
        guard case .box(let actions) = try Self.actionSpace(context) else {
            throw TrainingError("robust_method wocar: the worst-case critic needs continuous actions")
        }
        batchSize = ppo.batchSize
        gamma = ppo.gamma
        regularizer = StateAdversarialRegularizer(config: config, bounds: context.bounds, random: context.random)
        let inputs = context.bounds.dimension + actions.dimension
        let random = context.random.child("wocar")
        do {
            critic =
                switch context.precision {
                case .f32: try WorstCaseCritic<Float>(inputs: inputs, random: random, learningRate: config[Self.learningRate])
                case .f64:
                    try WorstCaseCritic<Double>(inputs: inputs, random: random, learningRate: config[Self.learningRate])
                }
        } catch { throw TrainingError("robust_method wocar: \(error)") }
        super.init(config: config, bounds: context.bounds, random: context.random)
    }

    private static func actionSpace(_ context: RobustTrainingContext) throws(TrainingError) -> ActionSpace {
        do { return try context.environments.make(context.environment).base.actionSpace } catch {
            throw TrainingError(error.description)
        }
    }

    /// It trains its critic on each rollout and adds its values to the advantages.
    public var learnsFromRollouts: Bool { true }

    func critic<S: BLASScalar>(_: S.Type) -> WorstCaseCritic<S> { critic as! WorstCaseCritic<S> }

    /// The worst-case weight `w` at a fraction of training.
    func worstCaseWeight(atProgress progress: Double) -> Double { config[Self.weight] * min(max(progress, 0), 1) }

    public func regularize<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, progress: Double, parameterGradient: inout [S],
        logStdGradient: inout [S]
    ) -> [String: Double] {
        regularizer.regularize(
            observations, policy: policy, progress: progress, parameterGradient: &parameterGradient,
            logStdGradient: &logStdGradient)
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func learn<S: BLASScalar>(from transitions: Transitions<S>, policy: Policy<S>, progress: Double)
        throws(TrainingError) -> [String: Double]
    {
        let threatModel = worstCaseThreatModel(atProgress: progress, policy: policy)
        let critic = critic(S.self)
        critic.adam.learningRate = config[Self.learningRate] * max(1 - progress, 0)
        let nextInputs = policy.scaled(transitions.nextObservations)
        let inputs = policy.scaled(transitions.observations).appendingColumns(transitions.actions)
        let count = transitions.rewards.count
        var lossSum = 0.0
        var minibatches = 0
        for _ in 0..<config[Self.epochs] {
            let order = random.permutation(count)
            for start in stride(from: 0, to: count, by: batchSize) {
                let rows = Array(order[start..<min(start + batchSize, count)])
                let next = Matrix(rows.map { transitions.nextObservations.row($0) })
                let worst = worstActions(at: next, policy: policy, threatModel: threatModel)
                let nextValues = critic.values(Matrix(rows.map { nextInputs.row($0) }).appendingColumns(worst), target: true)
                var targets = Matrix<S>(rows: rows.count, columns: 1)
                for (k, r) in rows.enumerated() {
                    targets[k, 0] = transitions.rewards[r] + (transitions.terminal[r] ? 0 : S(gamma) * nextValues[k])
                }
                lossSum += try critic.step(
                    inputs: Matrix(rows.map { inputs.row($0) }), targets: targets, tau: config[Self.tau])
                minibatches += 1
            }
        }
        let values = critic.values(inputs, target: true)
        return [
            "robust/worst_case_loss": lossSum / Double(max(minibatches, 1)),
            "robust/worst_case_value": Double(values.reduce(0, +)) / Double(max(values.count, 1)),
            "robust/worst_case_weight": worstCaseWeight(atProgress: progress),
        ]
    }

    /// The ball where the critic's worst actions are sought: the training ball, or
    /// `robust_worst_case_eps` in the same units.
    func worstCaseThreatModel<S: BLASScalar>(atProgress progress: Double, policy: Policy<S>) -> ThreatModel {
        var model = threatModel(atProgress: progress, policy: policy)
        if let radius = config[Self.radius] { model.epsilon = radius }
        return model
    }

    /// Each row's worst action the threat model lets an attacker force, by the worst-case
    /// critic: signed descent on `Q̲(s, ·)` inside the interval box of the policy's mean over the
    /// ball, from the clean mean.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func worstActions<S: BLASScalar>(at observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel) -> Matrix<S> {
        let reachable = policy.network.intervalBounds(
            networkInputBox(around: observations, policy: policy, threatModel: threatModel))
        var actions = policy.outputs(observations)
        let steps = Self.actionSteps
        let stepSizes = (reachable.upper - reachable.lower).map { $0 / S(steps) }
        let critic = critic(S.self)
        let states = policy.scaled(observations)
        for _ in 0..<steps {
            let gradient = critic.actionGradient(states: states, actions: actions)
            for r in 0..<actions.rows {
                for j in 0..<actions.columns {
                    let sign: S = gradient[r, j] > 0 ? 1 : gradient[r, j] < 0 ? -1 : 0
                    let moved = actions[r, j] - stepSizes[r, j] * sign
                    actions[r, j] = min(max(moved, reachable.lower[r, j]), reachable.upper[r, j])
                }
            }
        }
        return actions
    }

    /// The minibatch's advantages plus `w` times its normalised worst-case values `Q̲′(s, a)`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func advantages<S: BLASScalar>(
        _ advantages: [S], observations: Matrix<S>, actions: Matrix<S>, policy: Policy<S>, progress: Double
    ) -> [S] {
        let weight = S(worstCaseWeight(atProgress: progress))
        let m = advantages.count
        guard weight > 0, m > 1 else { return advantages }
        let values = critic(S.self).values(policy.scaled(observations).appendingColumns(actions), target: true)
        let mean = values.reduce(0, +) / S(m)
        let std = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / S(m - 1)).squareRoot()
        return (0..<m).map { advantages[$0] + weight * (values[$0] - mean) / (std + 1e-8) }
    }

    public func writeCheckpoint(to checkpoint: inout CheckpointWriter) {
        checkpoint.put("random.robust", random: random)
        if let critic = critic as? WorstCaseCritic<Float> { critic.write(to: &checkpoint) }
        if let critic = critic as? WorstCaseCritic<Double> { critic.write(to: &checkpoint) }
    }

    public func restore(from checkpoint: CheckpointReader) throws(CheckpointError) {
        try checkpoint.restore(random, "random.robust")
        if let critic = critic as? WorstCaseCritic<Float> { try critic.restore(from: checkpoint) }
        if let critic = critic as? WorstCaseCritic<Double> { try critic.restore(from: checkpoint) }
    }
}

/// WocaR's worst-attack critic `Q̲(s, a)` and its Polyak-averaged target, in one precision.
final class WorstCaseCritic<Scalar: BLASScalar> {
    var network: Sequential<Scalar>
    var target: Sequential<Scalar>
    var adam: Adam<Scalar>
    /// Forward/backward buffers by batch size (a rollout's minibatches share a few sizes).
    private var workspaces: [Int: Workspace<Scalar>] = [:]

    init(inputs: Int, random: RandomStream, learningRate: Double) throws {
        network = try Sequential.mlp(sizes: [inputs, 64, 64, 1], activation: .tanh, random: random)
        target = network
        adam = Adam(parameterCount: network.parameterCount, learningRate: learningRate, epsilon: 1e-5)
    }

    private func workspace(batch: Int) -> Workspace<Scalar> {
        if let workspace = workspaces[batch] { return workspace }
        let workspace = Workspace(for: network, batch: batch)
        workspaces[batch] = workspace
        return workspace
    }

    /// `Q̲` (or its target) at rows `[s, a]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func values(_ inputs: Matrix<Scalar>, target useTarget: Bool) -> [Scalar] {
        (useTarget ? target : network).forward(inputs, workspace: workspace(batch: inputs.rows)).storage
    }

    /// `∂Q̲(s, a)/∂a` per row.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func actionGradient(states: Matrix<Scalar>, actions: Matrix<Scalar>) -> Matrix<Scalar> {
        let input = states.appendingColumns(actions)
        let workspace = workspace(batch: input.rows)
        _ = network.forward(input, workspace: workspace)
        var none: [Scalar] = []
        let gradient = network.backward(
            outputGradient: Matrix(rows: input.rows, columns: 1, storage: Array(repeating: 1, count: input.rows)),
            workspace: workspace, parameterGradient: &none, request: .input)!
        var result = Matrix<Scalar>(rows: actions.rows, columns: actions.columns)
        for r in 0..<actions.rows {
            for j in 0..<actions.columns { result[r, j] = gradient[r, states.columns + j] }
        }
        return result
    }

    /// One Adam step of the mean squared TD error towards `targets`, then the target's Polyak
    /// step; returns the loss.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func step(inputs: Matrix<Scalar>, targets: Matrix<Scalar>, tau: Double) throws(TrainingError) -> Double {
        let workspace = workspace(batch: inputs.rows)
        let loss = Loss.meanSquaredError(network.forward(inputs, workspace: workspace), targets)
        var gradient = [Scalar](repeating: 0, count: network.parameterCount)
        network.backward(outputGradient: loss.gradient, workspace: workspace, parameterGradient: &gradient, request: .parameters)
        adam.update(&network.parameters, gradient: gradient)
        guard network.parameters.allFinite() else {
            throw TrainingError("WocaR's worst-case critic diverged (non-finite parameters)")
        }
        polyakUpdate(&target.parameters, toward: network.parameters, tau: tau)
        return Double(loss.value)
    }

    func write(to checkpoint: inout CheckpointWriter) {
        checkpoint.put("wocar.critic", scalars: network.parameters)
        checkpoint.put("wocar.critic_target", scalars: target.parameters)
        checkpoint.put("wocar.adam", adam: adam)
    }

    func restore(from checkpoint: CheckpointReader) throws(CheckpointError) {
        network.parameters = try checkpoint.scalars("wocar.critic", count: network.parameterCount)
        target.parameters = try checkpoint.scalars("wocar.critic_target", count: target.parameterCount)
        try checkpoint.restore(&adam, "wocar.adam")
    }
}

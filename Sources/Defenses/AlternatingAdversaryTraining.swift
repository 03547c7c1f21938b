import Agents
import Attacks
import Environments
import Linalg
import NeuralNet

/// Alternating training with a learned adversary (ATLA; Zhang et al. 2021, "Robust
/// reinforcement learning on state observations with learned optimal adversary"): the agent
/// (PPO) acts on observations perturbed by an adversary, and the adversary — itself PPO on the
/// state-adversarial MDP of `AdversaryEnvironment`, rewarded with the agent's negated reward —
/// learns against the agent. They alternate: `robust_victim_updates` agent updates against the
/// frozen adversary, then `robust_adversary_updates` adversary updates against the frozen agent.
///
/// The adversary uses the agent's PPO settings (copies, rollout length, minibatches, learning
/// rates, network) — its step sizes may be set apart, on the agent's schedules
/// (`robust_adversary_learning_rate`, `robust_adversary_value_learning_rate`, as ATLA's
/// `adv_ppo_lr_adam` and `adv_val_lr`) — with a Gaussian policy over directions `a ∈ [−1, 1]^d`, starting at log-std
/// `robust_adversary_log_std`; its schedules span as many updates as the agent's. While the
/// agent trains, a share `robust_fraction` of its observations is perturbed by directions
/// sampled from the adversary, at ε on the config's ramp; while ε is 0 the adversary does not
/// train. The clean share matters: an agent that only ever sees perturbed observations can
/// co-adapt to an adversary stuck near a constant shift and then fail on clean ones (seen on
/// Pendulum at ε = 0.3 with every observation perturbed: −375 under its adversary, −1119
/// clean). With `robust_state_regularizer` the agent's loss also carries SA-PPO's regulariser
/// (ATLA's "ATLA + SA-reg" agents). The adversary's whole state is part of the agent's
/// checkpoint, and it is written as `adversary.safetensors` next to the trained policy — a
/// `learned:adversary=PATH` attack.
public final class AlternatingAdversaryTraining: RobustTrainingBase, RobustTraining {
    public static let method = RobustTrainingMethod(
        name: "atla", summary: "alternating training with a learned adversary, Zhang et al. 2021", learners: ["ppo"],
        diagnostics: ["robust/eps", "robust/adversary_steps", "robust/adversary_return", "robust/regularizer"],
        options: [
            victimUpdates.hyperparameter, adversaryUpdates.hyperparameter, adversaryLogStd.hyperparameter,
            adversaryLearningRate.hyperparameter, adversaryValueLearningRate.hyperparameter, stateRegularizer.hyperparameter,
            StateAdversarialRegularizer.detachStd.hyperparameter,
        ]
    ) { config, context throws(TrainingError) in try AlternatingAdversaryTraining(config: config, context: context) }

    public static let victimUpdates = RobustTrainingOption.integer(
        "robust_victim_updates", default: 1, in: 1...1_000_000, "ATLA: agent updates per phase")
    public static let adversaryUpdates = RobustTrainingOption.integer(
        "robust_adversary_updates", default: 1, in: 0...1_000_000, "ATLA: adversary updates per phase")
    public static let adversaryLogStd = RobustTrainingOption.number(
        "robust_adversary_log_std", default: -0.5, in: -20...5, "ATLA: initial log standard deviation of the adversary")
    public static let adversaryLearningRate = RobustTrainingOption.optionalNumber(
        "robust_adversary_learning_rate", in: 0...10,
        "ATLA: the adversary's initial Adam step size, on the agent's learning_rate schedule (unset: the agent's)")
    public static let adversaryValueLearningRate = RobustTrainingOption.optionalNumber(
        "robust_adversary_value_learning_rate", in: 0...10,
        "ATLA: the adversary critic's initial Adam step size, on the agent's critic schedule (unset: the agent critic's)")
    /// Whether the agent's loss carries SA-PPO's regulariser too (`robust_kappa`, `robust_steps`,
    /// `robust_bound`, `robust_detach_std`), as the ATLA paper's best agents (ATLA + SA-reg) do.
    public static let stateRegularizer = RobustTrainingOption.flag(
        "robust_state_regularizer", default: false,
        "ATLA: add SA-PPO's regulariser (robust_kappa, robust_steps, robust_bound, robust_detach_std) to the agent's loss")

    /// The adversary's learner, PPO in the agent's precision.
    private let adversary: any AdversaryLearner
    /// Environment steps the adversary has trained.
    public var adversarySteps: Int { adversary.steps }
    /// Its environments: one per copy, sharing the agent's environment id.
    let adversaryEnvironments: [AdversaryEnvironment]
    let environmentID: String
    /// Agent updates since the adversary last trained.
    var victimUpdatesInPhase = 0
    var adversaryDiagnostics: [String: Double] = [:]
    /// SA-PPO's regulariser, with `robust_state_regularizer` (it draws from this method's stream).
    let regularizer: StateAdversarialRegularizer?

    public init(config: RobustTrainingConfig, context: RobustTrainingContext) throws(TrainingError) {
        guard let victimPPO = context.ppo else { throw TrainingError("robust_method atla trains the agent with PPO") }
        environmentID = context.environment
        var adversaryConfig = victimPPO
        adversaryConfig.robust = nil
        adversaryConfig.logStdInit = config[Self.adversaryLogStd]
        if let rate = config[Self.adversaryLearningRate] {
            adversaryConfig.learningRate = victimPPO.learningRate.rescaled(toStart: rate)
            // Its critic keeps the agent critic's rate unless that is set apart too.
            adversaryConfig.valueLearningRate = victimPPO.valueLearningRate ?? victimPPO.learningRate
        }
        if let rate = config[Self.adversaryValueLearningRate] {
            adversaryConfig.valueLearningRate = (victimPPO.valueLearningRate ?? victimPPO.learningRate).rescaled(toStart: rate)
        }
        adversaryConfig.totalSteps = max(1, victimPPO.totalSteps * config[Self.adversaryUpdates] / config[Self.victimUpdates])
        var environments: [AdversaryEnvironment] = []
        var limited: [TimeLimit] = []
        do {
            for _ in 0..<victimPPO.environments {
                let victim = try context.environments.make(context.environment)
                // The agent does not exist yet; each adversary phase installs the current one first.
                let environment = AdversaryEnvironment(
                    id: "adversary:env=\(context.environment)", victim: victim.base,
                    victimPolicy: .float(try Self.placeholder(for: victim.base)), epsilon: 0)
                environments.append(environment)
                limited.append(TimeLimit(environment, maxEpisodeSteps: victim.maxEpisodeSteps))
            }
        } catch { throw TrainingError(error.description) }
        adversaryEnvironments = environments
        regularizer =
            config[Self.stateRegularizer]
            ? StateAdversarialRegularizer(config: config, bounds: context.bounds, random: context.random) : nil
        let vector = VectorEnvironment(limited, autoresetMode: .sameStep)
        let (id, seed) = ("adversary:env=\(context.environment)", context.random.child("adversary").seed)
        adversary =
            switch context.precision {
            case .f32: try PPO<Float>(config: adversaryConfig, environment: vector, id: id, seed: seed)
            case .f64: try PPO<Double>(config: adversaryConfig, environment: vector, id: id, seed: seed)
            }
        super.init(config: config, bounds: context.bounds, random: context.random)
    }

    /// A policy of the right shape that is never asked to act.
    private static func placeholder(for environment: any Environment) throws(EnvironmentError) -> Policy<Float> {
        let inputs = environment.observationSpace.dimension
        let (outputs, kind): (Int, PolicyKind) =
            switch environment.actionSpace {
            case .discrete(let n): (n, .greedyQ)
            case .box(let box): (box.dimension, .deterministic)
            }
        do {
            return Policy(
                network: try Sequential.mlp(
                    sizes: [inputs, outputs], activation: .tanh, initialization: .pytorchDefault, random: RandomStream(seed: 0)),
                kind: kind, actionSpace: environment.actionSpace)
        } catch { throw EnvironmentError(error.description) }
    }

    /// A share `robust_fraction` of the observations moved by directions sampled from the adversary.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, progress: Double) -> Matrix<S> {
        let threatModel = threatModel(atProgress: progress, policy: policy)
        guard threatModel.epsilon > 0 else { return observations }
        return perturbingShare(of: observations) { chosen in
            AdversaryEnvironment.perturb(
                chosen, direction: adversary.directions(chosen, random: random), threatModel: threatModel)
        }
    }

    public func regularize<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, progress: Double, parameterGradient: inout [S],
        logStdGradient: inout [S]
    ) -> [String: Double] {
        regularizer?.regularize(
            observations, policy: policy, progress: progress, parameterGradient: &parameterGradient,
            logStdGradient: &logStdGradient) ?? [:]
    }

    /// Counts agent updates; at the end of an agent phase trains the adversary against the
    /// updated agent.
    public func afterUpdate<S: BLASScalar>(policy: Policy<S>, progress: Double) throws(TrainingError) -> [String: Double] {
        let threatModel = threatModel(atProgress: progress, policy: policy)
        victimUpdatesInPhase += 1
        if victimUpdatesInPhase >= config[Self.victimUpdates] {
            victimUpdatesInPhase = 0
            if threatModel.epsilon > 0 {
                let victim = AnyPrecisionPolicy(policy)
                for environment in adversaryEnvironments {
                    environment.victimPolicy = victim
                    environment.threatModel = threatModel
                }
                for _ in 0..<config[Self.adversaryUpdates] { try adversary.advance() }
                adversaryDiagnostics = [
                    "robust/adversary_steps": Double(adversary.steps),
                    "robust/adversary_return": adversary.meanRecentReturn,
                ]
            }
        }
        return adversaryDiagnostics.merging(["robust/eps": threatModel.epsilon]) { $1 }
    }

    struct Phase: Codable {
        var victimUpdatesInPhase: Int
        var adversaryDiagnostics: [String: Double]
    }

    public func writeCheckpoint(to checkpoint: inout CheckpointWriter) {
        checkpoint.put("random.robust", random: random)
        var inner = CheckpointWriter()
        adversary.writeCheckpoint(to: &inner)
        checkpoint.put(prefix: "atla.adversary", inner)
        checkpoint.putJSON("atla", Phase(victimUpdatesInPhase: victimUpdatesInPhase, adversaryDiagnostics: adversaryDiagnostics))
    }

    public func restore(from checkpoint: CheckpointReader) throws(CheckpointError) {
        try checkpoint.restore(random, "random.robust")
        do { try adversary.restore(from: checkpoint.scoped("atla.adversary")) } catch {
            throw CheckpointError("ATLA adversary: \(error.description)")
        }
        let phase = try checkpoint.json("atla", as: Phase.self)
        (victimUpdatesInPhase, adversaryDiagnostics) = (phase.victimUpdatesInPhase, phase.adversaryDiagnostics)
    }

    /// The adversary, as a policy file the `learned` attack loads.
    public func companionPolicies(victim: String) -> [String: PolicyFile] {
        let environment = "adversary:env=\(environmentID),victim=\(victim),eps=\(config.epsilon)"
        return [
            "adversary": adversary.policyFile(
                environment: environment, provenance: ["trained_with": "atla", "steps": "\(adversary.steps)"])
        ]
    }
}

/// What ATLA needs of its adversary's learner, whichever precision it computes in.
private protocol AdversaryLearner: AnyObject {
    var steps: Int { get }
    var meanRecentReturn: Double { get }
    func advance() throws(TrainingError)
    /// Directions sampled from the adversary's policy for `observations` (in their precision).
    func directions<S: BLASScalar>(_ observations: Matrix<S>, random: RandomStream) -> Matrix<S>
    func writeCheckpoint(to checkpoint: inout CheckpointWriter)
    func restore(from checkpoint: CheckpointReader) throws(TrainingError)
    func policyFile(environment: String, provenance: [String: String]) -> PolicyFile
}

extension PPO: AdversaryLearner {
    fileprivate var meanRecentReturn: Double { environment.statistics.meanRecentReturn() }

    fileprivate func directions<S: BLASScalar>(_ observations: Matrix<S>, random: RandomStream) -> Matrix<S> {
        // S is the agent's precision, which is this learner's: the conversion only copies.
        let actions = policy().actions(observations.converted(to: Scalar.self), selection: .sample, random: random)
        return Matrix(
            actions.map { action in
                guard case .continuous(let direction) = action else { preconditionFailure("ATLA: the adversary chose \(action)") }
                return direction.map { S($0) }
            })
    }

    fileprivate func policyFile(environment: String, provenance: [String: String]) -> PolicyFile {
        policy().file(environment: environment, algorithm: "ppo", provenance: provenance)
    }
}

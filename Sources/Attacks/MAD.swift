import Agents
import Linalg

/// Maximal Action Difference (Zhang et al. 2020, "Robust deep reinforcement learning against
/// adversarial perturbations on state observations", SA-PPO's attack): PGD on
/// `KL(π(·|s) ‖ π(·|s + δ))`, for categorical and Gaussian policies (Q-values read as logits for
/// DQN; the squared action distance for deterministic actors). SA-PPO starts from a random point,
/// since the KL's gradient vanishes at δ = 0. Parameters as PGD: `steps` (10), `alpha_ratio`
/// (0.25), `restarts` (1).
public struct MAD: Attack {
    public var steps: Int
    public var alphaRatio: Double
    public var restarts: Int

    public init(steps: Int = 10, alphaRatio: Double = 0.25, restarts: Int = 1) {
        self.steps = steps
        self.alphaRatio = alphaRatio
        self.restarts = restarts
    }

    init(_ spec: AttackSpec) throws(AttackError) {
        try spec.requireKnown(["steps", "alpha_ratio", "restarts"])
        self.init(steps: try spec.int("steps", default: 10, in: 1...100_000), alphaRatio: try spec.double("alpha_ratio", default: 0.25, in: 0...100),
                  restarts: try spec.int("restarts", default: 1, in: 1...10_000))
    }

    public var spec: String { formatSpec("mad", ["steps": steps, "alpha_ratio": alphaRatio, "restarts": restarts]) }

    public func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream) -> AttackResult<S> {
        GradientAscent(steps: steps, stepSize: alphaRatio * threatModel.epsilon, randomStart: true, restarts: restarts)
            .run(observations, objective: .divergence(policy, clean: policy.outputs(observations)), policy: policy, threatModel: threatModel, random: random)
    }
}

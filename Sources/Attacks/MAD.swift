import Agents
import Linalg

/// Maximal Action Difference (Zhang et al. 2020, "Robust deep reinforcement learning against
/// adversarial perturbations on state observations", SA-PPO's attack): PGD on
/// `KL(π(·|s) ‖ π(·|s + δ))`, for categorical and Gaussian policies (Q-values read as logits for
/// DQN; the squared action distance for deterministic actors). SA-PPO starts from a random point,
/// since the KL's gradient vanishes at δ = 0. Parameters: `steps` (10), `alpha_ratio` (0.25),
/// `restarts` (1).
public struct MAD: Attack {
    public var ascent: RandomStartAscent

    public init(steps: Int = 10, alphaRatio: Double = 0.25, restarts: Int = 1) {
        ascent = RandomStartAscent(steps: steps, alphaRatio: alphaRatio, restarts: restarts)
    }

    init(_ spec: AttackSpec) throws(AttackError) { ascent = try RandomStartAscent(spec) }

    public var spec: String { formatSpec("mad", ascent.parameters) }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream) -> AttackResult<S> {
        ascent.run(observations, objective: .divergence(policy, clean: policy.outputs(observations)), policy: policy, threatModel: threatModel,
                   random: random)
    }
}

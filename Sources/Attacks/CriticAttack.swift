import Agents
import Linalg

/// Critic attack (Pattanaik et al. 2018, "Robust deep reinforcement learning with adversarial
/// attacks"): PGD that minimises the value the victim's own critic assigns to the perceived
/// observation — V(s + δ) for PPO policies that keep their critic, Q(s + δ, π(s + δ)) for TD3/DDPG
/// actors, `max_a Q(s + δ, a)` for DQN. The agent, believing itself in a bad state, acts badly.
/// Parameters: `steps` (10), `alpha_ratio` (0.25), `restarts` (1).
public struct CriticAttack: Attack {
    public var ascent: RandomStartAscent

    public init(steps: Int = 10, alphaRatio: Double = 0.25, restarts: Int = 1) {
        ascent = RandomStartAscent(steps: steps, alphaRatio: alphaRatio, restarts: restarts)
    }

    public static let description = AttackDescription(
        name: "critic", summary: "minimise the victim's own critic value V(s+δ) (Pattanaik et al. 2018)", family: .whiteBox,
        ascent: .iterative(onOneStepObjective: false), parameters: RandomStartAscent.parameters, cheapSettings: ["steps": "3"]
    ) { spec, _ throws(AttackError) in CriticAttack(ascent: try RandomStartAscent(spec)) }

    public init(ascent: RandomStartAscent) { self.ascent = ascent }

    public var spec: String { formatSpec("critic", ascent.parameters) }

    public func validate<S: BLASScalar>(for policy: Policy<S>) throws(AttackError) {
        guard policy.critic != nil || policy.head.outputsAreActionValues else {
            throw AttackError(
                "critic: the policy file keeps no critic (and is not a Q-network); retrain it with this version to keep one")
        }
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        ascent.run(observations, objective: .criticValue, policy: policy, threatModel: threatModel, random: random)
    }
}

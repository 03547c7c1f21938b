import Agents
import Linalg

/// Maximal Action Difference (Zhang et al. 2020, "Robust deep reinforcement learning against
/// adversarial perturbations on state observations", SA-PPO's attack): PGD on
/// `KL(π(·|s) ‖ π(·|s + δ))`, for categorical and Gaussian policies (Q-values read as logits for
/// DQN; the squared action distance for deterministic actors). SA-PPO starts from a random point,
/// since the KL's gradient vanishes at δ = 0. Parameters: `steps` (10), `alpha_ratio` (0.25),
/// `restarts` (1).
public struct MAD: AttackUsingCleanOutputs {
    public var ascent: RandomStartAscent

    public init(steps: Int = 10, alphaRatio: Double = 0.25, restarts: Int = 1) {
        ascent = RandomStartAscent(steps: steps, alphaRatio: alphaRatio, restarts: restarts)
    }

    public static let description = AttackDescription(
        name: "mad", summary: "maximal action difference, PGD on KL(π(s) ‖ π(s+δ)) (SA-PPO)", family: .whiteBox,
        ascent: .iterative(onOneStepObjective: false), parameters: RandomStartAscent.parameters, usableInTraining: true,
        cheapSettings: ["steps": "3"]
    ) { spec, _ throws(AttackError) in MAD(ascent: try RandomStartAscent(spec)) }

    public init(ascent: RandomStartAscent) { self.ascent = ascent }

    public var spec: String { formatSpec("mad", ascent.parameters) }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, cleanOutputs: Matrix<S>?, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        let clean = Objective.cleanOutputs(given: cleanOutputs, policy: policy, at: observations, samples: 1)
        return ascent.run(
            observations, objective: .divergence(policy, clean: clean), policy: policy,
            threatModel: threatModel,
            random: random)
    }
}

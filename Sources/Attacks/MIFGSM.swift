import Agents
import Linalg

/// Momentum Iterative FGSM (Dong et al. 2018, "Boosting adversarial attacks with momentum"):
/// `steps` signed steps of size α = ε/steps along an accumulated gradient
/// `g ← μ g + ∇/‖∇‖₁`, each projected onto the threat model, from the clean observation.
/// Parameters: `steps` (10), `decay` μ (1.0).
public struct MIFGSM: Attack {
    public var steps: Int
    public var decay: Double

    public init(steps: Int = 10, decay: Double = 1) {
        self.steps = steps
        self.decay = decay
    }

    init(_ spec: AttackSpec) throws(AttackError) {
        try spec.requireKnown(["steps", "decay"])
        self.init(steps: try spec.int("steps", default: 10, in: 1...100_000), decay: try spec.double("decay", default: 1, in: 0...10))
    }

    public var spec: String { formatSpec("mifgsm", ["steps": steps, "decay": decay]) }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream) -> AttackResult<S> {
        let objective = Objective.untargeted(policy, clean: policy.outputs(observations))
        return GradientAscent(steps: steps, stepSize: threatModel.epsilon / Double(steps), randomStart: false, restarts: 1, momentum: decay)
            .run(observations, objective: objective, policy: policy, threatModel: threatModel, random: random)
    }
}

import Agents
import Linalg

/// Momentum Iterative FGSM (Dong et al. 2018, "Boosting adversarial attacks with momentum"):
/// `steps` signed steps of size α = ε/steps along an accumulated gradient
/// `g ← μ g + ∇/‖∇‖₁`, each projected onto the threat model, from the clean observation.
/// Parameters: `steps` (10), `decay` μ (1.0).
public struct MIFGSM: AttackUsingCleanOutputs {
    public var steps: Int
    public var decay: Double

    public init(steps: Int = 10, decay: Double = 1) {
        self.steps = steps
        self.decay = decay
    }

    static let stepsParameter = AttackParameter.steps(10)
    static let decayParameter = AttackParameter.number("decay", default: 1, in: 0...10, "momentum decay μ")
    public static let description = AttackDescription(
        name: "mifgsm", summary: "momentum iterative FGSM (Dong et al. 2018)", family: .whiteBox,
        ascent: .iterative(onOneStepObjective: true),
        parameters: [stepsParameter, decayParameter], cheapSettings: ["steps": "4"]
    ) { spec, _ throws(AttackError) in
        MIFGSM(steps: try spec.int(stepsParameter), decay: try spec.double(decayParameter))
    }

    public var spec: String { formatSpec("mifgsm", ["steps": steps, "decay": decay]) }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, cleanOutputs: Matrix<S>?, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        let clean = Objective.cleanOutputs(given: cleanOutputs, policy: policy, at: observations, samples: 1)
        let objective = Objective.untargeted(policy, clean: clean)
        return GradientAscent(
            steps: steps, stepSize: threatModel.epsilon / Double(steps), randomStart: false, restarts: 1, momentum: decay
        )
        .run(observations, objective: objective, policy: policy, threatModel: threatModel, random: random)
    }
}

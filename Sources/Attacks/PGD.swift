import Agents
import Linalg

/// Projected Gradient Descent (Madry et al. 2018, "Towards deep learning models resistant to
/// adversarial attacks"), the standard white-box attack of SA-DQN/SA-PPO: from a random point
/// of the ball (or the clean point), `steps` ascent steps of size α on the attack objective,
/// each projected back onto the threat model; with `restarts`, the run with the largest final
/// objective is kept per observation.
///
/// Parameters: `steps` (10), `alpha` (absolute step in threat-model units) or `alpha_ratio`
/// (step as a fraction of ε, 0.25), `random_start` (1), `restarts` (1), `loss` (`auto`: the
/// cross-entropy of the clean action for discrete policies, the distance of the outputs from
/// their clean values for continuous ones; `ce` or `cw`, the Carlini–Wagner margin, name a
/// discrete policy's objective explicitly), `eot` (1: gradients averaged per step over that many
/// draws of a randomised defense's randomness).
public struct PGD: AttackUsingCleanOutputs {
    public var steps: Int
    public var alpha: Double?
    public var alphaRatio: Double
    public var randomStart: Bool
    public var restarts: Int
    public var loss: String
    public var eot: Int

    public init(
        steps: Int = 10, alpha: Double? = nil, alphaRatio: Double = 0.25, randomStart: Bool = true, restarts: Int = 1,
        loss: String = "auto", eot: Int = 1
    ) {
        self.steps = steps
        self.alpha = alpha
        self.alphaRatio = alphaRatio
        self.randomStart = randomStart
        self.restarts = restarts
        self.loss = loss
        self.eot = eot
    }

    static let stepsParameter = AttackParameter.steps(10)
    static let alphaRatioParameter = AttackParameter.alphaRatio(0.25)
    static let alphaParameter = AttackParameter.number(
        "alpha", default: nil, in: 0...1e9, "absolute step size in threat-model units")
    static let randomStartParameter = AttackParameter.integer(
        "random_start", default: 1, in: 0...1, "1: start from a random point of the ball")
    static let lossParameter = AttackParameter.choice(
        "loss", default: "auto", from: ["auto", "ce", "cw"],
        "auto: ce for discrete policies, output distance for continuous ones; cw: the Carlini–Wagner margin")
    public static let description = AttackDescription(
        name: "pgd",
        summary: "projected gradient ascent (Madry et al. 2018) on the clean action's cross-entropy or the CW margin",
        family: .whiteBox, ascent: .iterative(onOneStepObjective: true),
        parameters: [
            stepsParameter, alphaParameter, alphaRatioParameter, randomStartParameter,
            AttackParameter.restarts,
            lossParameter, AttackParameter.eot,
        ],
        usableInTraining: true, cheapSettings: ["steps": "3"]
    ) { spec, _ throws(AttackError) in
        if spec.parameters["alpha"] != nil && spec.parameters["alpha_ratio"] != nil {
            throw AttackError("pgd: give alpha or alpha_ratio, not both")
        }
        return PGD(
            steps: try spec.int(stepsParameter), alpha: try spec.optionalDouble(alphaParameter),
            alphaRatio: try spec.double(alphaRatioParameter), randomStart: try spec.flag(randomStartParameter),
            restarts: try spec.int(AttackParameter.restarts), loss: try spec.choice(lossParameter),
            eot: try spec.int(AttackParameter.eot))
    }

    public var spec: String {
        var parameters: [String: CustomStringConvertible] = [
            "steps": steps, "random_start": randomStart ? 1 : 0, "restarts": restarts, "loss": loss,
        ]
        if eot > 1 { parameters["eot"] = eot }
        if let alpha { parameters["alpha"] = alpha } else { parameters["alpha_ratio"] = alphaRatio }
        return formatSpec("pgd", parameters)
    }

    /// `ce` and `cw` are objectives over discrete actions.
    public func validate<S: BLASScalar>(for policy: Policy<S>) throws(AttackError) {
        if loss != "auto", !policy.head.isDiscrete {
            throw AttackError(
                "pgd: loss=\(loss) needs a policy with discrete actions; a continuous policy's objective is the output distance (loss=auto)"
            )
        }
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, cleanOutputs: Matrix<S>?, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        let clean = Objective.cleanOutputs(given: cleanOutputs, policy: policy, at: observations, samples: eot)
        var objective = Objective.untargeted(policy, clean: clean)
        if loss == "cw", case .crossEntropy(let actions) = objective { objective = .margin(actions: actions) }
        return GradientAscent(
            steps: steps, stepSize: alpha ?? alphaRatio * threatModel.epsilon, randomStart: randomStart, restarts: restarts,
            eotSamples: eot
        )
        .run(observations, objective: objective, policy: policy, threatModel: threatModel, random: random)
    }
}

import Agents
import Linalg

/// Fast Gradient Sign Method (Goodfellow et al. 2015), as applied to deep RL policies by Huang
/// et al. 2017, "Adversarial attacks on neural network policies": one step of size ε along the
/// sign of the gradient of the attack objective (cross-entropy of the clean action, or the
/// output distance for continuous policies); under L2 along the normalised gradient.
///
/// At the clean point the output-distance objective has zero gradient, so for continuous
/// policies FGSM leaves observations unchanged unless `random_start=1` (a step from a random
/// point of the ball, as R+FGSM of Tramèr et al. 2018). `eot=K` averages the gradient over K
/// draws of a randomised defense.
public struct FGSM: Attack {
    public var randomStart: Bool
    public var eot: Int

    public init(randomStart: Bool = false, eot: Int = 1) {
        self.randomStart = randomStart
        self.eot = eot
    }
    static let randomStartParameter = AttackParameter.integer(
        "random_start", default: 0, in: 0...1, "1: step from a random point of the ball")
    public static let description = AttackDescription(
        name: "fgsm", summary: "one signed-gradient step of size ε (Huang et al. 2017; L2: normalised gradient)",
        family: .whiteBox,
        ascent: .oneStep, parameters: [randomStartParameter, AttackParameter.eot], usableInTraining: true
    ) { spec, _ throws(AttackError) in
        FGSM(randomStart: try spec.flag(randomStartParameter), eot: try spec.int(AttackParameter.eot))
    }
    public var spec: String {
        var parameters: [String: CustomStringConvertible] = ["random_start": randomStart ? 1 : 0]
        if eot > 1 { parameters["eot"] = eot }
        return formatSpec("fgsm", parameters)
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        perturb(observations, cleanOutputs: nil, policy: policy, threatModel: threatModel, random: random)
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, cleanOutputs: Matrix<S>?, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        guard threatModel.epsilon > 0 else { return AttackResult(perturbed: observations, queries: 0) }
        let clean = Objective.cleanOutputs(given: cleanOutputs, policy: policy, at: observations, samples: eot)
        let objective = Objective.untargeted(policy, clean: clean)
        let start = randomStart ? threatModel.randomPoint(around: observations, random: random) : observations
        let gradient = objective.expectedInputGradient(policy, at: start, samples: eot)
        let step = threatModel.ascentStep(gradient, size: threatModel.epsilon)
        return AttackResult(perturbed: threatModel.project(start + step, around: observations), queries: 1 + eot)
    }
}

import Agents
import Linalg

/// Fast Gradient Sign Method (Goodfellow et al. 2015), as applied to deep RL policies by Huang
/// et al. 2017, "Adversarial attacks on neural network policies": one step of size ε along the
/// sign of the gradient of the attack objective (cross-entropy of the clean action, or the
/// output distance for continuous policies); under L2 along the normalised gradient.
///
/// At the clean point the output-distance objective of continuous policies has zero gradient,
/// so a step from there would leave observations unchanged: by default (`random_start=auto`)
/// FGSM steps from a random point of the ball for continuous policies (R+FGSM, Tramèr et al.
/// 2018, as PGD starts) and from the clean point for discrete ones; `random_start=0` or `1`
/// forces either. `eot=K` averages the gradient over K draws of a randomised defense.
public struct FGSM: AttackUsingCleanOutputs {
    /// Whether to step from a random point of the ball; nil: for continuous policies only.
    public var randomStart: Bool?
    public var eot: Int

    public init(randomStart: Bool? = nil, eot: Int = 1) {
        self.randomStart = randomStart
        self.eot = eot
    }
    static let randomStartParameter = AttackParameter.choice(
        "random_start", default: "auto", from: ["auto", "0", "1"],
        "1: step from a random point of the ball; auto: 1 for continuous policies, 0 for discrete")
    public static let description = AttackDescription(
        name: "fgsm", summary: "one signed-gradient step of size ε (Huang et al. 2017; L2: normalised gradient)",
        family: .whiteBox,
        ascent: .oneStep, parameters: [randomStartParameter, AttackParameter.eot], usableInTraining: true
    ) { spec, _ throws(AttackError) in
        let start = try spec.choice(randomStartParameter)
        return FGSM(randomStart: start == "auto" ? nil : start == "1", eot: try spec.int(AttackParameter.eot))
    }
    public var spec: String {
        var parameters: [String: CustomStringConvertible] = ["random_start": randomStart.map { $0 ? "1" : "0" } ?? "auto"]
        if eot > 1 { parameters["eot"] = eot }
        return formatSpec("fgsm", parameters)
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, cleanOutputs: Matrix<S>?, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        guard threatModel.epsilon > 0 else { return AttackResult(perturbed: observations, queries: 0) }
        let clean = Objective.cleanOutputs(given: cleanOutputs, policy: policy, at: observations, samples: eot)
        let objective = Objective.untargeted(policy, clean: clean)
        let start =
            (randomStart ?? !policy.head.isDiscrete)
            ? threatModel.randomPoint(around: observations, random: random) : observations
        let gradient = objective.expectedInputGradient(policy, at: start, samples: eot)
        let step = threatModel.ascentStep(gradient, size: threatModel.epsilon)
        return AttackResult(perturbed: threatModel.project(start + step, around: observations), queries: 1 + eot)
    }
}

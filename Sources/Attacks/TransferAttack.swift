import Agents
import Foundation
import Linalg
import NeuralNet

/// Transfer attack (Papernot et al. 2016; Huang et al. 2017's black-box setting): craft the
/// perturbation with PGD on a surrogate policy the attacker owns and apply it to the victim,
/// which is never queried. `surrogate=PATH` names the surrogate's policy file; `steps` (10) and
/// `restarts` (1) configure the PGD.
public struct TransferAttack: Attack {
    public var surrogatePath: String
    public var surrogate: Policy<Float> { surrogates.float }
    /// The surrogate in both precisions (PGD on it runs in the evaluation's precision).
    let surrogates: PolicyInEitherPrecision
    public var pgd: PGD

    public init(surrogate: Policy<Float>, path: String, pgd: PGD = PGD()) {
        surrogates = PolicyInEitherPrecision(surrogate)
        self.surrogatePath = path
        self.pgd = pgd
    }

    static let stepsParameter = AttackParameter.steps(10)
    static let surrogateParameter = AttackParameter(
        "surrogate", .policyFile(.surrogate), default: nil, "the surrogate's policy file")
    public static let description = AttackDescription(
        name: "transfer", summary: "black-box: PGD on a surrogate policy the attacker owns, applied to the victim",
        family: .blackBox,
        ascent: .iterative(onOneStepObjective: true),
        parameters: [surrogateParameter, stepsParameter, AttackParameter.restarts],
        cheapSettings: ["steps": "3"]
    ) { spec, context throws(AttackError) in
        let path = try spec.text(surrogateParameter)
        let surrogate: Policy<Float>
        do throws(PolicyFileError) { surrogate = try context.loadPolicy(path) } catch {
            throw AttackError("transfer: surrogate \(error.description)")
        }
        return TransferAttack(
            surrogate: surrogate, path: path,
            pgd: PGD(steps: try spec.int(stepsParameter), restarts: try spec.int(AttackParameter.restarts)))
    }

    public var spec: String {
        formatSpec("transfer", ["surrogate": surrogatePath, "steps": pgd.steps, "restarts": pgd.restarts])
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        let crafted = pgd.perturb(observations, policy: surrogates.in(S.self), threatModel: threatModel, random: random)
        return AttackResult(perturbed: crafted.perturbed, queries: 0)
    }
}

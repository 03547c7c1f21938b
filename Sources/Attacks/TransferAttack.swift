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
    public var surrogate: Policy<Float>
    public var pgd: PGD

    public init(surrogate: Policy<Float>, path: String, pgd: PGD = PGD()) {
        self.surrogate = surrogate
        self.surrogatePath = path
        self.pgd = pgd
    }

    init(_ spec: AttackSpec) throws(AttackError) {
        try spec.requireKnown(["surrogate", "steps", "restarts"])
        guard let path = spec.parameters["surrogate"] else { throw AttackError("transfer: needs surrogate=PATH to a policy file") }
        let surrogate: Policy<Float>
        do { surrogate = try Policy.load(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw AttackError("transfer: surrogate \(error.description)")
        }
        self.init(surrogate: surrogate, path: path,
                  pgd: PGD(steps: try spec.int("steps", default: 10, in: 1...100_000), restarts: try spec.int("restarts", default: 1, in: 1...10_000)))
    }

    public var spec: String { formatSpec("transfer", ["surrogate": surrogatePath, "steps": pgd.steps, "restarts": pgd.restarts]) }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream) -> AttackResult<S> {
        let crafted = pgd.perturb(observations, policy: surrogate.converted(to: S.self), threatModel: threatModel, random: random)
        return AttackResult(perturbed: crafted.perturbed, queries: 0)
    }
}

import Agents
import Linalg

/// The worst case over a fixed suite of attacks, per observation (AutoAttack's idea, Croce &
/// Hein 2020): every member attacks the clean observation, and each observation keeps the
/// perturbation that does most damage — first one that flips the action (discrete policies),
/// then the largest attack objective. Members have fixed parameters, so nobody tunes the
/// ensemble per policy: FGSM, PGD-20 (CE), PGD-20 (CW margin), MI-FGSM, MAD and a random sign
/// (a member that does not apply to the policy — the CW margin for continuous actions — sits out).
public struct WorstCaseEnsemble: AttackUsingCleanOutputs {
    public let members: [any Attack] = [
        FGSM(), PGD(steps: 20), PGD(steps: 20, loss: "cw"), MIFGSM(), MAD(steps: 20), RandomSign(),
    ]

    public static let description = AttackDescription(
        name: "ensemble", summary: "worst case per observation over fgsm, pgd, pgd (cw), mifgsm, mad and random sign",
        family: .whiteBox,
        ascent: .iterative(onOneStepObjective: true)
    ) { _, _ in WorstCaseEnsemble() }

    public init() {}

    public var spec: String { "ensemble" }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, cleanOutputs: Matrix<S>?, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        let clean = Objective.cleanOutputs(given: cleanOutputs, policy: policy, at: observations, samples: 1)
        let objective = Objective.untargeted(policy, clean: clean)
        let cleanActions = policy.actions(fromOutputs: clean)
        var best = observations
        var bestScore = [(flipped: Bool, value: Double)](repeating: (false, -.infinity), count: observations.rows)
        var queries = 1
        for member in members where (try? member.validate(for: policy)) != nil {
            let result = member.perturb(
                observations, cleanOutputs: clean, policy: policy, threatModel: threatModel, random: random.split())
            queries += result.queries + 1
            let outputs = policy.outputs(result.perturbed)
            let values = objective.evaluate(outputs).values
            let actions = policy.actions(fromOutputs: outputs)
            for r in 0..<observations.rows {
                let flipped = policy.actionSpace.actionCount != nil && actions[r] != cleanActions[r]
                if (flipped && !bestScore[r].flipped) || (flipped == bestScore[r].flipped && values[r] > bestScore[r].value) {
                    bestScore[r] = (flipped, values[r])
                    best.setRow(r, to: result.perturbed.row(r))
                }
            }
        }
        return AttackResult(perturbed: best, queries: queries)
    }
}

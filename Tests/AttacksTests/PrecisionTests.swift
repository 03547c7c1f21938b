import Agents
import Attacks
import Environments
import Linalg
import TestSupport
import Testing

/// Attacks that carry a policy of their own (a learned adversary, a transfer surrogate) compute
/// with it in the evaluation's precision: in f64 their perturbations equal a Double reference
/// and differ from the Float computation.
@Suite struct PrecisionTests {
    let observations = randomMatrix(rows: 12, columns: 4, random: RandomStream(seed: 5), scale: 0.5)
    let model = ThreatModel(epsilon: 0.3, bounds: BoxSpace(symmetric: [5, 5, 5, 5]))

    @Test func learnedAdversaryComputesInDouble() {
        let adversary = randomPolicy(kind: .gaussian, inputs: 4, outputs: 4, seed: 11).converted(to: Float.self)
        let victim = randomPolicy(kind: .greedyQ, inputs: 4, outputs: 2, seed: 12)
        let perturbed = LearnedAdversary(adversary: adversary, path: "a").perturb(
            observations, policy: victim, threatModel: model, random: RandomStream(seed: 1)
        ).perturbed
        let double = adversary.converted(to: Double.self).outputs(observations)
        let float = adversary.outputs(observations.converted(to: Float.self)).converted(to: Double.self)
        #expect(perturbed == AdversaryEnvironment.perturb(observations, direction: double, threatModel: model))
        #expect(perturbed != AdversaryEnvironment.perturb(observations, direction: float, threatModel: model))
    }

    @Test func transferAttackRunsPGDOnTheSurrogateInDouble() {
        let surrogate = randomPolicy(kind: .categorical, inputs: 4, outputs: 2, seed: 13).converted(to: Float.self)
        let victim = randomPolicy(kind: .categorical, inputs: 4, outputs: 2, seed: 14)
        let perturbed = TransferAttack(surrogate: surrogate, path: "s", pgd: PGD(steps: 5)).perturb(
            observations, policy: victim, threatModel: model, random: RandomStream(seed: 2)
        ).perturbed
        let reference = PGD(steps: 5).perturb(
            observations, policy: surrogate.converted(to: Double.self), threatModel: model, random: RandomStream(seed: 2)
        ).perturbed
        #expect(perturbed == reference)
    }
}

import Agents
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import TestSupport
import Testing

/// Each sanity check fires on a case constructed to trigger it, and stays quiet on a healthy one.
@Suite struct SanityCheckTests {
    static let model = ThreatModel(epsilon: 0.1, bounds: BoxSpace(symmetric: [1, 1]))

    func report(_ attack: String, epsilon: Double, attacked: [Double], clean: [Double] = [100, 100, 100]) -> AttackReport {
        var model = Self.model
        model.epsilon = epsilon
        return AttackReport(
            attack: attack, threatModel: model, clean: ReturnSummary(returns: clean, seed: 0),
            attacked: ReturnSummary(returns: attacked, seed: 0), rewardDrop: .init(mean: 0, ci95: [0, 0]),
            actionFlipRate: .init(value: 0, ci95: [0, 0]), queries: 0, attackedSteps: 0, episodes: clean.count, seed: 0,
            selection: .mode)
    }

    func checks(_ reports: [AttackReport]) -> Set<SanityWarning.Check> {
        Set(SanityChecks.run(reports, tolerance: 1).map(\.check))
    }

    @Test func healthyEvaluationRaisesNothing() {
        let reports = [
            report("fgsm", epsilon: 0.1, attacked: [60, 60, 60]), report("pgd", epsilon: 0.1, attacked: [40, 40, 40]),
            report("uniform", epsilon: 0.1, attacked: [90, 90, 90]), report("pgd", epsilon: 0.2, attacked: [20, 20, 20]),
            report("pgd", epsilon: 0, attacked: [100, 100, 100]),
        ]
        #expect(checks(reports).isEmpty)
    }

    @Test func iterativeWeakerThanOneStep() {
        #expect(
            checks([
                report("fgsm", epsilon: 0.1, attacked: [40, 40, 40]),
                report("pgd:steps=10", epsilon: 0.1, attacked: [70, 70, 70]),
            ])
                == [.iterativeWeakerThanOneStep])
    }

    @Test func notMonotoneInEpsilon() {
        #expect(
            checks([report("pgd", epsilon: 0.1, attacked: [40, 40, 40]), report("pgd", epsilon: 0.2, attacked: [60, 60, 60])])
                == [.notMonotoneInEpsilon])
    }

    @Test func gradientMasking() {
        #expect(
            checks([report("pgd", epsilon: 0.1, attacked: [80, 80, 80]), report("sign", epsilon: 0.1, attacked: [30, 30, 30])])
                == [.gradientMasking])
    }

    @Test func zeroEpsilonChangedReturns() {
        #expect(checks([report("fgsm", epsilon: 0, attacked: [100, 99, 100])]) == [.zeroEpsilonChangedReturns])
    }

    @Test func unboundedNotMinimal() {
        let huge = SanityChecks.unboundedEpsilon
        #expect(
            checks([
                report("pgd", epsilon: 0.1, attacked: [10, 10, 10]), report("pgd", epsilon: huge, attacked: [10, 10, 10]),
                report("fgsm", epsilon: huge, attacked: [9, 9, 9]), report("mad", epsilon: huge, attacked: [50, 50, 50]),
            ])
            .contains(.unboundedNotMinimal))
    }

    /// A learned adversary whose victim scored 10 while it trained but 95 under evaluation (clean
    /// 100) at the same ε is flagged; at 25 (within a quarter of the gap), or at another ε, not.
    @Test func weakerThanExpected() {
        func learned(epsilon: Double, attacked: Double) -> AttackReport {
            var r = report("learned:adversary=a.safetensors", epsilon: epsilon, attacked: [attacked, attacked, attacked])
            r.expectedEffect = ExpectedEffect(epsilon: 0.1, attackedReturn: 10, source: "training")
            return r
        }
        #expect(checks([learned(epsilon: 0.1, attacked: 95)]) == [.weakerThanExpected])
        #expect(checks([learned(epsilon: 0.1, attacked: 25)]).isEmpty)
        #expect(checks([learned(epsilon: 0.2, attacked: 95)]).isEmpty)
    }

    /// The strongest attack per episode is the minimum over the suite, episode by episode.
    @Test func strongestAttackIsThePerEpisodeMinimum() throws {
        let policy = try Policy.load(
            contentsOf: fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("policies/cartpole-dqn.safetensors"))
        let evaluation = AttackEvaluation(policy: policy, environment: "CartPole-v1", episodes: 4, seed: 2)
        let result = try evaluation.study(attacks: [FGSM(), UniformNoise(), PGD(steps: 5)], epsilons: [0.15])
        let perAttack = result.attacks.map(\.attacked.returns)
        let minimum = (0..<4).map { e in perAttack.map { $0[e] }.min()! }
        #expect(result.strongest[0].attacked.returns == minimum)
        for (e, name) in result.strongest[0].attackPerEpisode.enumerated() {
            #expect(result.attacks.first { $0.attack == name }!.attacked.returns[e] == minimum[e])
        }
    }
}

extension SanityCheckTests {
    /// Attacks on another objective (MAD's KL, the CW margin) are not FGSM's iterative version.
    @Test func otherObjectivesAreNotComparedWithFGSM() {
        #expect(
            checks([
                report("fgsm", epsilon: 0.1, attacked: [40, 40, 40]),
                report("mad:steps=10", epsilon: 0.1, attacked: [70, 70, 70]),
                report("pgd:loss=cw,steps=10", epsilon: 0.1, attacked: [70, 70, 70]),
            ]).isEmpty)
    }
}

import Agents
import Attacks
import Defenses
import Environments
import Evaluation
import Foundation
import Linalg
import TestSupport
import Testing

private let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()

@Suite struct DetectionTests {
    /// AUC is the probability that a positive outscores a negative (ties half), counted pair by
    /// pair here; the detection rate at 5% false positives is the best over all thresholds.
    @Test func rocAgreesWithBruteForce() {
        let random = RandomStream(seed: 12)
        for _ in 0..<20 {
            let negatives = (0..<(20 + random.integer(below: 50))).map { _ in (random.normal() * 4).rounded() / 4 }
            let positives = (0..<(20 + random.integer(below: 50))).map { _ in (random.normal() * 4 + 3).rounded() / 4 }
            let roc = ROC(negatives: negatives, positives: positives)
            var wins = 0.0
            for p in positives { for n in negatives { wins += p > n ? 1 : p == n ? 0.5 : 0 } }
            #expect(abs(roc.auc - wins / Double(negatives.count * positives.count)) < 1e-12)
            var best = 0.0
            for threshold in Set(negatives + positives) + [Double.infinity] {
                let fpr = Double(negatives.filter { $0 >= threshold }.count) / Double(negatives.count)
                if fpr <= 0.05 { best = max(best, Double(positives.filter { $0 >= threshold }.count) / Double(positives.count)) }
            }
            #expect(roc.truePositiveRateAt5PercentFalsePositives == best)
            #expect(roc.points.first == [0, 0] && roc.points.last == [1, 1])
        }
        #expect(ROC(negatives: [0, 1, 2], positives: [3, 4]).auc == 1)
        #expect(ROC(negatives: [1, 1], positives: [1, 1]).auc == 0.5)
    }

    /// On the shipped CartPole DQN: PGD at ε = 0.1 is detected almost perfectly, and the
    /// attacker who knows the detector evades much of it — at the price of flipping fewer actions.
    /// The study runs in the evaluation's precision (policy, attacks and detector): f32 and f64
    /// reach the same conclusions with scores that differ in their low bits.
    @Test func detectorAndItsAdaptiveAttacker() throws {
        let policy = try Policy.load(contentsOf: root.appendingPathComponent("policies/cartpole-dqn.safetensors"))
        func study<S: BLASScalar>(_ policy: Policy<S>) throws -> DetectionStudy.Report {
            try DetectionStudy.run(
                AttackEvaluation(policy: policy, environment: "CartPole-v1", episodes: 2, seed: 0), attack: PGD(steps: 5),
                epsilon: 0.1, adaptiveWeight: 2, maximumStates: 300, policyName: "dqn")
        }
        let reports = [try study(policy), try study(policy.converted(to: Double.self))]
        for report in reports {
            #expect(report.trainingStates == 300 && report.testStates == 300)
            #expect(report.learned.auc > 0.95 && report.margin.auc > 0.9)
            #expect(report.adaptiveLearned.auc < report.learned.auc - 0.2)
            #expect(report.adaptiveFlipRate < report.flipRate)
            #expect(report.adaptiveFlipRate > 0)
        }
        #expect(reports[0].adaptiveLearned != reports[1].adaptiveLearned || reports[0].learned != reports[1].learned)
    }
}

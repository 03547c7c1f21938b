import Agents
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import TestSupport
import Testing

@Suite struct MetricsTests {
    static let policyURL = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("policies/cartpole-dqn.safetensors")

    @Test func relativeDropAndFailedEpisodes() {
        let model = ThreatModel(epsilon: 0.1, bounds: BoxSpace(symmetric: [1]))
        let report = AttackReport(
            attack: "x", threatModel: model, clean: ReturnSummary(returns: [100, 100, 100, 100], seed: 0),
            attacked: ReturnSummary(returns: [100, 60, 40, 10], seed: 0), rewardDrop: .init(mean: 47.5, ci95: [0, 0]),
            actionFlipRate: .init(value: 0, ci95: [0, 0]), queries: 0, attackedSteps: 0, episodes: 4, seed: 0, selection: .mode)
        #expect(report.relativeRewardDrop?.mean == 0.475)
        #expect(report.failedEpisodes.value == 0.5)  // 40 and 10 lost more than half of 100
        let exact = ConfidenceInterval.clopperPearson(successes: 2, trials: 4)
        #expect(report.failedEpisodes.ci95 == [exact.lower, exact.upper])
    }

    /// A policy that scores 0 clean has no scale for a relative drop: none is reported (it was
    /// the drop over 1e-12 — a number in the trillions).
    @Test func noRelativeDropFromAZeroCleanReturn() throws {
        let model = ThreatModel(epsilon: 0.1, bounds: BoxSpace(symmetric: [1]))
        let report = AttackReport(
            attack: "x", threatModel: model, clean: ReturnSummary(returns: [0, 0], seed: 0),
            attacked: ReturnSummary(returns: [1, 2], seed: 0), rewardDrop: .init(mean: -1.5, ci95: [-2, -1]),
            actionFlipRate: .init(value: 0, ci95: [0, 0]), queries: 0, attackedSteps: 0, episodes: 2, seed: 0, selection: .mode)
        #expect(report.relativeRewardDrop == nil)
        let json = String(decoding: try JSONEncoder.gauntlet().encode(report), as: UTF8.self)
        #expect(!json.contains("relative_reward_drop") && json.contains("reward_drop"))
    }

    @Test func medianInterval() {
        let summary = ReturnSummary(returns: (1...41).map(Double.init), seed: 3)
        #expect(summary.medianReturn == 21 && summary.medianCi95[0] < 21 && summary.medianCi95[1] > 21)
        #expect(summary.medianCi95[0] >= 1 && summary.medianCi95[1] <= 41)
    }

    /// The return-curve area is the trapezoidal mean over the ε range of the evaluated points.
    @Test func returnCurveArea() throws {
        let evaluation = AttackEvaluation(
            policy: try Policy.load(contentsOf: Self.policyURL), environment: "CartPole-v1", episodes: 3, seed: 1)
        let result = try evaluation.study(attacks: [FGSM()], epsilons: [0, 0.1, 0.2])
        let r = result.attacks.map(\.attacked.meanReturn)
        let expected = ((r[0] + r[1]) / 2 * 0.1 + (r[1] + r[2]) / 2 * 0.1) / 0.2
        let area = try #require(result.returnCurveArea["fgsm:random_start=auto"])
        #expect(abs(area.mean - expected) < 1e-9 && area.ci95[0] <= area.mean + 1e-9 && area.mean <= area.ci95[1] + 1e-9)
        #expect(result.returnCurveArea["strongest"] != nil)
    }

    /// The halving ε halves the return, and a slightly smaller one does not.
    @Test func halvingEpsilonIsTheThreshold() throws {
        let evaluation = AttackEvaluation(
            policy: try Policy.load(contentsOf: Self.policyURL), environment: "CartPole-v1", episodes: 3, seed: 1)
        let clean = try evaluation.cleanEpisodes()
        let target = 0.5 * Statistics.mean(clean.map(\.episodeReturn))
        let found = try evaluation.halvingEpsilon(FGSM(), maximum: 0.3, tolerance: 0.005, clean: clean)
        let epsilon = try #require(found.epsilon)
        let interval = try #require(found.ci95)
        #expect(interval[0] <= epsilon && epsilon <= interval[1])
        #expect(try evaluation.run(FGSM(), epsilon: epsilon, clean: clean).attacked.meanReturn <= target)
        #expect(try evaluation.run(FGSM(), epsilon: epsilon - 0.005, clean: clean).attacked.meanReturn > target)
        #expect(try evaluation.halvingEpsilon(FGSM(), maximum: 0.01, clean: clean).epsilon == nil)
    }
}

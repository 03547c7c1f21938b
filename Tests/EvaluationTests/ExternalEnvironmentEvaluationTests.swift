import Agents
import Attacks
import Evaluation
import Foundation
import TestSupport
import Testing

/// A shipped policy attacked on Gymnasium's CartPole through the bridge and on Gauntlet's native
/// CartPole: initial states differ (each draws its own), so the returns are compared by their
/// 95% intervals, which must overlap.
@Suite struct ExternalEnvironmentEvaluationTests {
    @Test func attackedReturnsAgreeBetweenNativeAndBridged() throws {
        let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
        let policy = try Policy.load(contentsOf: root.appendingPathComponent("policies/cartpole-dqn.safetensors"))
        var reports: [AttackReport] = []
        for environment in ["CartPole-v1", "gym:CartPole-v1"] {
            let evaluation = AttackEvaluation(policy: policy, environment: environment, episodes: 12, seed: 0)
            let clean = try evaluation.cleanEpisodes()
            reports.append(try evaluation.run(try Toolkit.standard.makeAttack("fgsm"), epsilon: 0.1, clean: clean))
        }
        let (native, bridged) = (reports[0].attacked.ci95, reports[1].attacked.ci95)
        #expect(native[0] <= bridged[1] && bridged[0] <= native[1], "native \(native) vs bridged \(bridged)")
        #expect(reports[1].clean.meanReturn == 500, "the clean policy balances Gymnasium's CartPole too")
    }
}

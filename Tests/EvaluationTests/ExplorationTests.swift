import Agents
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import TestSupport
import Testing

private let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()

private func shipped(_ name: String) throws -> Policy<Float> {
    try Policy.load(contentsOf: root.appendingPathComponent("policies/\(name).safetensors"))
}

/// ε-greedy evaluation (`EpisodeRunner.exploration`, `gauntlet evaluate --explore`): how often a
/// step leaves the policy's action and where the random actions fall, against counts worked
/// out from the recorded traces.
@Suite struct ExplorationTests {
    /// Steps whose action is not the policy's greedy one, and the number expected: a random
    /// action replaces the greedy one with probability ε and differs from it with probability
    /// 1 − w(greedy) (w: the environment's random-action weights), so the expected count is
    /// Σ_t ε (1 − w(a_t)) with its binomial standard deviation.
    func departures(_ outcomes: [EpisodeOutcome], epsilon: Double, weights: [Double]) -> (
        count: Int, expected: Double, sd: Double
    ) {
        var (count, expected, variance) = (0, 0.0, 0.0)
        for step in outcomes.flatMap(\.trace) {
            guard case .discrete(let greedy) = step.cleanAction else { continue }
            if step.action != step.cleanAction { count += 1 }
            let p = epsilon * (1 - weights[greedy])
            expected += p
            variance += p * (1 - p)
        }
        return (count, expected, variance.squareRoot())
    }

    /// On MinAtar's Breakout (minimal set no-op, left, right) a random action is one of the six
    /// folded on it: ε 1 gives no-op 4/6 of the time, left and right 1/6 each; ε 0.1 departs
    /// from the greedy action as often as those weights predict.
    @Test func minAtarExploresOverAllSixActions() throws {
        let policy = try shipped("minatar-breakout-dqn")
        var runner = EpisodeRunner(policy: policy, environment: "MinAtar/Breakout-v1")
        runner.recordTraces = true
        runner.exploration = 1
        let random = try runner.run(episodes: 12, seed: 0)
        let actions = random.flatMap(\.trace).map(\.action)
        let n = Double(actions.count)
        for (index, share) in [4.0 / 6, 1.0 / 6, 1.0 / 6].enumerated() {
            let seen = Double(actions.filter { $0 == .discrete(index) }.count)
            #expect(abs(seen - n * share) < 4 * (n * share * (1 - share)).squareRoot(), "action \(index): \(seen) of \(n)")
        }

        runner.exploration = 0.1
        let outcomes = try runner.run(episodes: 8, seed: 0)
        let (count, expected, sd) = departures(outcomes, epsilon: 0.1, weights: [4.0 / 6, 1.0 / 6, 1.0 / 6])
        #expect(abs(Double(count) - expected) < 4 * sd, "\(count) departures, \(expected) ± \(sd) expected")
        #expect(try runner.run(episodes: 8, seed: 0) == outcomes, "the same seed gives the same episodes")
        runner.exploration = 0
        let greedy = try runner.run(episodes: 8, seed: 0)
        #expect(greedy.flatMap(\.trace).allSatisfy { $0.action == $0.cleanAction })
        #expect(greedy.map(\.episodeReturn) != outcomes.map(\.episodeReturn))
    }

    /// Elsewhere the random action is uniform over the action space (CartPole: 1/2 each);
    /// continuous actions and an ε outside [0, 1] are refused with a clear error.
    @Test func otherwiseUniformAndDiscreteOnly() throws {
        var runner = EpisodeRunner(policy: try shipped("cartpole-dqn"), environment: "CartPole-v1")
        runner.recordTraces = true
        runner.exploration = 0.3
        let outcomes = try runner.run(episodes: 6, seed: 2)
        let (count, expected, sd) = departures(outcomes, epsilon: 0.3, weights: [0.5, 0.5])
        #expect(abs(Double(count) - expected) < 4 * sd, "\(count) departures, \(expected) ± \(sd) expected")
        for bad in [-0.1, 1.5, .nan] {
            runner.exploration = bad
            #expect(throws: EnvironmentError.self, "ε \(bad)") { try runner.run(episodes: 1, seed: 0) }
        }

        var continuous = EpisodeRunner(policy: try shipped("pendulum-td3"), environment: "Pendulum-v1")
        continuous.exploration = 0.1
        #expect(throws: EnvironmentError.self) { try continuous.run(episodes: 1, seed: 0) }
    }

    /// A replay records ε and re-executes the same explored episodes; `study` reports it.
    @Test func replaysAndStudiesKeepTheExploration() throws {
        let path = root.appendingPathComponent("policies/acrobot-dqn.safetensors").path
        var evaluation = AttackEvaluation(
            policy: try shipped("acrobot-dqn"), environment: "Acrobot-v1", episodes: 3, seed: 4, exploration: 0.25)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-explore-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        var recorder = try ReplayRecorder(base: url, runs: 0, evaluation: evaluation, policyPath: path)
        var runner = EpisodeRunner(policy: evaluation.policy, environment: "Acrobot-v1")
        runner.exploration = 0.25
        runner.recordTraces = true
        _ = try recorder.record(nil, outcomes: try runner.run(episodes: 3, seed: 4))
        let loaded = try Replay.load(contentsOf: url)
        #expect(loaded.header.exploration == 0.25)
        #expect(loaded.outcomes.flatMap(\.trace).contains { $0.action != $0.cleanAction })
        let rerun = try loaded.reexecute(policy: evaluation.policy)
        #expect(rerun.firstDifference(from: loaded) == nil)

        let explored = try evaluation.study(attacks: [], epsilons: [])
        evaluation.exploration = 0
        let greedy = try evaluation.study(attacks: [], epsilons: [])
        #expect(explored.exploration == 0.25 && greedy.exploration == 0)
        #expect(explored.clean.returns == loaded.outcomes.map(\.episodeReturn))
        #expect(explored.clean.returns != greedy.clean.returns)
        evaluation.exploration = 0.25
        let attacked = try evaluation.study(attacks: [try AttackRegistry.standard.make("fgsm")], epsilons: [0.05])
        #expect(attacked.attacks[0].exploration == 0.25 && attacked.attacks[0].clean.returns == explored.clean.returns)
    }
}

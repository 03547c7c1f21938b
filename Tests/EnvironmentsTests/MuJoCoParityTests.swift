import Environments
import TestSupport
import Testing

struct MuJoCoFixture: Decodable {
    struct State: Decodable {
        var qpos: [Double]
        var qvel: [Double]
    }
    struct Step: Decodable {
        var action: [Float]
        var observation: [Double]
        var reward: Double
        var terminated: Bool
        var truncated: Bool
    }
    struct Episode: Decodable {
        var policy: String
        var max_episode_steps: Int
        var state: State
        var initial_observation: [Double]
        var steps: [Step]
    }
    var mujoco_version: String
    var environments: [String: [Episode]]
}

/// Trajectories recorded with Gymnasium 1.4 on MuJoCo 3.3.7 (`Tests/Fixtures/make_mujoco_fixtures.py`):
/// from the same state and with the same actions, every reward agrees within 1e-6, every
/// observation within 1e-6 (relative beyond magnitude 1: Gauntlet's observations are Float32,
/// whose rounding alone is 1e-6 at 16) and every flag exactly, into termination and truncation.
@Suite struct MuJoCoParityTests {
    static let fixture: MuJoCoFixture = try! loadFixture("gymnasium_mujoco.json")

    @Test(arguments: Registry.mujoco.map(\.id))
    func trajectoriesMatchGymnasium(_ id: String) throws {
        #expect(Self.fixture.mujoco_version == "3.3.7")
        let episodes = try #require(Self.fixture.environments[id])
        #expect(episodes.contains { $0.steps.last!.truncated } && episodes.count >= 3)
        for (e, episode) in episodes.enumerated() {
            let env = TimeLimit(try Registry.make(id).base, maxEpisodeSteps: episode.max_episode_steps)
            env.reset(seed: 0)
            try env.base.setState(episode.state.qpos + episode.state.qvel)
            let initial = env.base.observation
            #expect(
                zip(initial, episode.initial_observation).allSatisfy { abs(Double($0) - $1) <= 1e-6 * max(1, abs($1)) },
                "\(id) episode \(e)")
            var worstObservation = 0.0
            var worstReward = 0.0
            for (t, step) in episode.steps.enumerated() {
                let result = env.step(.continuous(step.action))
                worstObservation = max(
                    worstObservation,
                    zip(result.observation, step.observation).map { abs(Double($0) - $1) / max(1, abs($1)) }.max()!)
                worstReward = max(worstReward, abs(result.reward - step.reward))
                guard result.terminated == step.terminated, result.truncated == step.truncated else {
                    Issue.record(
                        "\(id) episode \(e) (\(episode.policy)) step \(t): flags (\(result.terminated), \(result.truncated)), Gymnasium (\(step.terminated), \(step.truncated))"
                    )
                    break
                }
            }
            #expect(
                worstObservation <= 1e-6, "\(id) episode \(e) (\(episode.policy)): observation differs by \(worstObservation)")
            #expect(worstReward <= 1e-6, "\(id) episode \(e) (\(episode.policy)): reward differs by \(worstReward)")
        }
    }
}

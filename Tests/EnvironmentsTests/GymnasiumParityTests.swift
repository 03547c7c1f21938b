import Environments
import TestSupport
import Testing

struct GymnasiumFixture: Decodable {
    struct Step: Decodable {
        var action: FixtureAction
        var observation: [Double]
        var reward: Double
        var terminated: Bool
        var truncated: Bool
    }
    struct Episode: Decodable {
        var policy: String
        var seed: Int
        var initial_state: [Double]
        var initial_observation: [Double]
        var steps: [Step]
    }
    var gymnasium_version: String
    var environments: [String: [Episode]]
}

enum FixtureAction: Decodable {
    case discrete(Int)
    case continuous([Float])
    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let a = try? container.decode(Int.self) {
            self = .discrete(a)
        } else {
            self = .continuous(try container.decode([Float].self))
        }
    }
    var action: Action {
        switch self {
        case .discrete(let a): .discrete(a)
        case .continuous(let a): .continuous(a)
        }
    }
}

/// Trajectories recorded with Gymnasium (`Tests/Fixtures/make_gymnasium_fixtures.py`): with the
/// same internal state after reset and the same actions, every observation agrees within 1e-5,
/// every reward within 1e-6, every flag exactly.
@Suite struct GymnasiumParityTests {
    static let fixture: GymnasiumFixture = try! loadFixture("gymnasium_classic_control.json")

    @Test(arguments: Registry.classicControl.map(\.id))
    func trajectoriesMatchGymnasium(_ id: String) throws {
        let episodes = try #require(Self.fixture.environments[id])
        #expect(episodes.contains { $0.steps.last!.terminated } || id == "Pendulum-v1")
        #expect(episodes.contains { $0.steps.last!.truncated })
        for episode in episodes {
            let env = try Registry.make(id)
            env.reset(seed: UInt64(episode.seed))
            try env.base.setState(episode.initial_state)
            let initial = env.base.observation
            #expect(maximumRelativeError(initial.map(Double.init), episode.initial_observation) < 1e-7)
            var worstObservation = 0.0
            var worstReward = 0.0
            for (t, step) in episode.steps.enumerated() {
                let result = env.step(step.action.action)
                worstObservation = max(
                    worstObservation, zip(result.observation, step.observation).map { abs(Double($0) - $1) }.max()!)
                worstReward = max(worstReward, abs(result.reward - step.reward))
                guard result.terminated == step.terminated, result.truncated == step.truncated else {
                    Issue.record(
                        "\(id) seed \(episode.seed) (\(episode.policy)) step \(t): flags (\(result.terminated), \(result.truncated)), Gymnasium (\(step.terminated), \(step.truncated))"
                    )
                    break
                }
            }
            #expect(
                worstObservation <= 1e-5,
                "\(id) seed \(episode.seed) (\(episode.policy)): observation differs by \(worstObservation)")
            #expect(worstReward <= 1e-6, "\(id) seed \(episode.seed) (\(episode.policy)): reward differs by \(worstReward)")
        }
    }
}

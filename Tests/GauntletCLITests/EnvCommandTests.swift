import Environments
import Foundation
import TestSupport
import Testing

/// The `gauntlet env` commands, run as a user runs them.
@Suite struct EnvCommandTests {
    struct RolloutOutput: Decodable {
        struct Step: Decodable {
            var observation: [Double]
            var reward: Double
            var terminated: Bool
            var truncated: Bool
        }
        var initial_observation: [Double]
        var steps: [Step]
    }

    /// `env rollout` reproduces a Gymnasium trajectory per environment from the recorded state
    /// and actions (the controller episode, which ends in termination where the env has one).
    @Test func rolloutReproducesGymnasium() throws {
        let fixture: [String: Any] =
            try JSONSerialization.jsonObject(with: Data(contentsOf: fixtureURL("gymnasium_classic_control.json")))
            as! [String: Any]
        let environments = fixture["environments"] as! [String: [[String: Any]]]
        for (id, episodes) in environments {
            let episode = episodes.last!
            let steps = episode["steps"] as! [[String: Any]]
            let request: [String: Any] = [
                "env": id, "seed": 5, "state": episode["initial_state"]!, "actions": steps.map { $0["action"]! },
            ]
            let run = try runGauntlet(
                ["env", "rollout"], input: String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self))
            #expect(run.status == 0, "\(run.standardError)")
            let output = try JSONDecoder().decode(RolloutOutput.self, from: Data(run.standardOutput.utf8))
            #expect(output.steps.count == steps.count)
            for (mine, theirs) in zip(output.steps, steps) {
                let expected = theirs["observation"] as! [Double]
                #expect(zip(mine.observation, expected).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(id)")
                #expect(abs(mine.reward - (theirs["reward"] as! Double)) <= 1e-6)
                #expect(mine.terminated == (theirs["terminated"] as! Bool) && mine.truncated == (theirs["truncated"] as! Bool))
            }
        }
    }

    @Test func rolloutStopsAtTheEndOfTheEpisode() throws {
        let run = try runGauntlet(["env", "rollout"], input: #"{"env": "grid:lava-corridor", "actions": [3, 3, 3]}"#)
        let output = try JSONDecoder().decode(RolloutOutput.self, from: Data(run.standardOutput.utf8))
        #expect(output.steps.count == 1 && output.steps[0].terminated && output.steps[0].reward == -1)
    }

    @Test(arguments: [
        (#"{"env": "CartPole-v1", "actions": [0, 2]}"#, "action 1 (2) is invalid for CartPole-v1's Discrete(2)"),
        (#"{"env": "Pendulum-v1", "actions": [1]}"#, "action 0 (1) is invalid for Pendulum-v1's Box"),
        (#"{"env": "Pendulum-v1", "actions": [[1, 2]]}"#, "action 0 ([1.0, 2.0]) is invalid"),
        (#"{"env": "Acrobot-v1", "state": [0, 0], "actions": []}"#, "Acrobot-v1: state must have 4 values"),
        (#"{"env": "Nope-v0", "actions": []}"#, "unknown environment 'Nope-v0'"),
        (#"{"env": "CartPole-v1", "actions": [0], "extra": 1}"#, "unknown key 'extra'"),
        (#"{"env": "CartPole-v1", "actions": [true]}"#, "action 0: expected an integer"),
        (#"{"env": "CartPole-v1", "seed": -1, "actions": []}"#, "'seed' must be a non-negative integer"),
        ("{\"env\": \"CartPole-v1\",\n \"actions\": [0,, 1]}", "line 2, column 16"),
        ("[1, 2]", "input must be one JSON object"),
    ])
    func badRolloutInputIsExitCodeTwo(_ input: String, _ message: String) throws {
        let run = try runGauntlet(["env", "rollout"], input: input)
        #expect(run.status == 2)
        #expect(run.standardError.contains(message), "\(run.standardError)")
        #expect(run.standardOutput.isEmpty)
    }

    @Test func listInfoAndRender() throws {
        let list = try runGauntlet(["env", "list", "--json"])
        #expect(list.status == 0)
        let ids =
            ((try JSONSerialization.jsonObject(with: Data(list.standardOutput.utf8)) as! [String: Any])["environments"]
            as! [[String: Any]]).map { $0["id"] as! String }
        #expect(ids.contains("CartPole-v1") && ids.contains("grid:four-rooms") && ids.count >= 11)

        let info = try runGauntlet(["env", "info", "MountainCarContinuous-v0", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(info.standardOutput.utf8)) as! [String: Any]
        #expect(object["max_episode_steps"] as? Int == 999 && object["state_labels"] as? [String] == ["position", "velocity"])

        let grid = try runGauntlet(["env", "info", "grid:lava-corridor:onehot", "--json"])
        let gridInfo = try JSONSerialization.jsonObject(with: Data(grid.standardOutput.utf8)) as! [String: Any]
        // Up, 11 steps right, down: 13 steps, the last onto the goal (independently: 12 · −0.01 + 1).
        #expect(abs((gridInfo["optimal_return"] as! Double) - 0.88) < 1e-12)

        let ascii = try runGauntlet(["env", "render", "grid:open-room"])
        #expect(ascii.status == 0 && ascii.standardOutput.contains("#A......#"))
        let svg = try runGauntlet(["env", "render", "Acrobot-v1", "--seed", "3", "--state", "1,0.5,0,0"])
        #expect(svg.status == 0 && svg.standardOutput.hasPrefix("<svg"))
        let bad = try runGauntlet(["env", "render", "CartPole-v1", "--state", "1,2"])
        #expect(bad.status == 2 && bad.standardError.contains("state must have 4 values"))
        let unknown = try runGauntlet(["env", "info", "grid:nowhere"])
        #expect(unknown.status == 2 && unknown.standardError.contains("no map 'nowhere.txt'"))
    }
}

@Suite struct HelpTests {
    /// `--help` prints the command's help and exits 0 for every command and subcommand.
    @Test func everyCommandHasHelp() throws {
        let commands: [[String]] = [
            [], ["env"], ["env", "rollout"], ["train"], ["evaluate"], ["attack"], ["adversary", "train"], ["replay"], ["explain"],
            ["transfer"], ["optimal-attack"], ["sweep"], ["results", "query"], ["results", "merge"], ["results", "import"],
            ["report"],
            ["policy", "import"],
            ["policy", "export"], ["policy", "info"], ["defend"], ["certify"], ["detect"], ["bench", "nn"],
        ]
        for command in commands {
            let run = try runGauntlet(command + ["--help"])
            #expect(run.status == 0 && run.standardOutput.hasPrefix("OVERVIEW:"), "\(command): \(run.standardError)")
        }
        let help = try runGauntlet(["help", "attack"])
        #expect(help.status == 0 && help.standardOutput.contains("--eps"))
    }
}

import Agents
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

private let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()

private func files(_ directory: String, suffix: String) throws -> [URL] {
    try FileManager.default.contentsOfDirectory(at: root.appendingPathComponent(directory), includingPropertiesForKeys: nil)
        .filter { $0.lastPathComponent.hasSuffix(suffix) }.sorted { $0.path < $1.path }
}

private func contents(_ urls: [URL]) throws -> [Data] { try urls.map { try Data(contentsOf: $0) } }

/// Every parser a user can feed, under the mutation fuzzer (`scripts/fuzz.sh` runs the long
/// form under AddressSanitizer). Each target parses and then uses what it accepted, as the CLI
/// does, so a value that parses but breaks the code after it is found too.
@Suite(.serialized) struct ParserFuzzTests {
    @Test func policyFiles() throws {
        let corpus = try contents([fixtureURL("gauntlet_policy.safetensors"), fixtureURL("torch_policy.safetensors")])
        let fuzzer = MutationFuzzer(
            name: "policy-safetensors", corpus: corpus,
            tokens: [
                "\"F32\"", "\"F64\"", "\"I64\"", "[0,0]", "[4294967296]", "\"shape\":[]", "-1", "1e999", "\"gauntlet\"",
                "\"kind\":\"gaussian\"",
            ],
            headerBytes: 2048)
        fuzzer.run { data in
            let policy = try Policy(file: try PolicyFile(try Safetensors(data: data)))
            let observations = Matrix<Float>(rows: 2, columns: policy.observationDimension, repeating: 0.5)
            _ = policy.actions(observations)
        }
    }

    @Test func replayFiles() throws {
        let policyURL = root.appendingPathComponent("policies/cartpole-dqn.safetensors")
        let policy = try Policy.load(contentsOf: policyURL)
        let evaluation = AttackEvaluation(policy: policy, environment: "CartPole-v1", episodes: 2, seed: 3)
        let (report, outcomes) = try evaluation.runRecorded(
            try AttackRegistry.standard.make("pgd"), epsilon: 0.3, clean: try evaluation.cleanEpisodes(), traces: true)
        let header = Replay.Header(
            policy: policyURL.path, policyHash: "0", environment: "CartPole-v1", attack: report.attack,
            threatModel: report.threatModel, seed: 3, episodes: 2, selection: .mode, copies: 16, precision: .f32,
            gauntletVersion: Gauntlet.version)
        let corpus = [Replay(header: header, outcomes: outcomes).safetensors.serialized()]
        MutationFuzzer(
            name: "replay-safetensors", corpus: corpus,
            tokens: ["\"I64\"", "\"U8\"", "\"F32\"", "[9223372036854775807]", "\"episodes\":", "nan", "-1"], headerBytes: 2048
        ).run { data in
            let replay = try Replay(try Safetensors(data: data))
            _ = replay.firstDifference(from: replay)
        }
    }

    @Test func stableBaselines3Zips() throws {
        let names = [
            "sb3_dqn_cartpole", "sb3_ppo_cartpole", "sb3_ppo_pendulum", "sb3_td3_pendulum", "sb3_sac_mountaincarcontinuous",
        ]
        let environments = ["CartPole-v1", "CartPole-v1", "Pendulum-v1", "Pendulum-v1", "MountainCarContinuous-v0"]
        let corpus = try names.map { try Data(contentsOf: fixtureURL($0 + ".zip")) }
        MutationFuzzer(
            name: "sb3-zip", corpus: corpus,
            tokens: ["PK\u{03}\u{04}", "PK\u{01}\u{02}", "PK\u{05}\u{06}", "policy.pth", "data.pkl"],
            headerBytes: 1 << 20
        ).run { data in
            let model = try StableBaselines3Model(zip: data)
            for environment in Set(environments) {
                if let file = try? model.policyFile(environment: environment, source: URL(fileURLWithPath: "fuzz.zip")) {
                    _ = try Policy(file: file).outputs(Matrix(rows: 1, columns: file.network.inputDimensions, repeating: 0.1))
                }
            }
        }
    }

    /// Inputs that once crashed a parser (kept as they were found), rejected with a message now.
    @Test func formerCrashesAreRejected() throws {
        // A damaged ZIP64 end record inside policy.pth: ZIPFoundation converted its offset to
        // off_t unchecked and trapped; ZipArchive now checks the central directory first.
        let url = fixtureURL("fuzz/sb3-zip64-offset-past-int64.zip")
        #expect(throws: PolicyFileError("\(url.path): the central directory lies outside the file")) {
            try StableBaselines3Model(contentsOf: url)
        }
    }

    /// The pickle inside `policy.pth`, mutated directly (a mutation of the zip rarely reaches it
    /// intact), with the archive's real storages.
    @Test func stateDictPickles() throws {
        var corpus: [Data] = []
        var storages: [String: Data] = [:]
        for name in ["sb3_dqn_cartpole", "sb3_ppo_pendulum", "sb3_td3_pendulum"] {
            let model = try ZipArchive(data: try Data(contentsOf: fixtureURL(name + ".zip")))
            let checkpoint = try ZipArchive(data: try model.contents(of: "policy.pth"))
            corpus.append(try checkpoint.contents(of: "archive/data.pkl"))
            for path in checkpoint.paths where path.hasPrefix("archive/data/") {
                let key = String(path.dropFirst("archive/data/".count))
                if storages[key] == nil { storages[key] = try checkpoint.contents(of: path) }
            }
        }
        let tokens = [
            "cos\nsystem\n", "ctorch._utils\n_rebuild_tensor_v2\n", "ctorch\nLongStorage\n", "ctorch\nHalfStorage\n",
            "ccollections\nOrderedDict\n", "(", "t", "R", "b", "u", "s", "Q", ".", "\u{85}", "\u{86}", "\u{87}",
            "J\u{ff}\u{ff}\u{ff}\u{7f}",
            "\u{8a}\u{08}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{7f}", "h\u{00}", "q\u{00}",
        ]
        MutationFuzzer(name: "state-dict-pickle", corpus: corpus, tokens: tokens, headerBytes: 4096).run { pickle in
            _ = try TorchCheckpoint.stateDict(pickle: pickle) { key throws(StateDictFormatError) in
                guard let bytes = storages[key] else { throw StateDictFormatError("no storage '\(key)'") }
                return bytes
            }
        }
    }

    /// Stable-Baselines3's pickled `VecNormalize` wrappers, read by the same restricted machine
    /// with their own globals.
    @Test func vecNormalizePickles() throws {
        let corpus = try ["sb3_ppo_hopper", "sb3_sac_halfcheetah"].map {
            try Data(contentsOf: fixtureURL($0 + "_vecnormalize.pkl"))
        }
        let tokens = [
            "cos\nsystem\n", "cnumpy\ndtype\n", "\u{81}", "b", "R", "(", "t", ".", "\u{94}", "h\u{00}", "h\u{30}",
            "\u{8a}\u{20}", "C\u{ff}", "\u{8e}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{7f}", "K\u{ff}",
        ]
        MutationFuzzer(name: "vec-normalize-pickle", corpus: corpus, tokens: tokens).run { pickle in
            _ = try VecNormalizeStatistics(pickle: [UInt8](pickle))
        }
    }

    @Test func gridworldMaps() throws {
        let corpus = try contents(try files("envs", suffix: ".txt"))
        let tokens = [
            "---\n", "name: x\n", "step_limit: 99999999999\n", "slip: 2\n", "wind: [1, -9]\n", "S", "G", "L", "#", ".",
            "\n", "step_limit: -1\n", "goal_reward: nan\n",
        ]
        MutationFuzzer(name: "gridworld-map", corpus: corpus, tokens: tokens).run { data in
            let map = try GridMap(parsing: String(decoding: data, as: UTF8.self), file: "fuzz.txt")
            let world = GridWorld(map: map)
            world.resetState(seed: 1)
            for action in 0..<8 { _ = world.advance(.discrete(action % 4)) }
        }
    }

    @Test func trainingConfigs() throws {
        let corpus = try contents(try files("policies", suffix: ".yaml"))
        let tokens = [
            "n_timesteps: -5\n", "learning_rate: lin_1e9\n", "algorithm: ppo\n", "algorithm: td3\n",
            "policy_kwargs: \"dict(net_arch=[0])\"\n",
            "batch_size: 0\n", ": ", "- ", "[", "]", "{", "}", "&a ", "*a", "!!float ", ".nan", ".inf", "1e400", "\t", "  ",
        ]
        MutationFuzzer(name: "training-config", corpus: corpus, tokens: tokens).run { data in
            _ = try TrainingConfig(
                yaml: String(decoding: data, as: UTF8.self), file: "fuzz.yaml", robustMethods: Toolkit.standard.robustMethods)
        }
    }

    @Test func sweepSpecs() throws {
        let corpus = try contents([
            root.appendingPathComponent("studies/cartpole-robustness.yaml"),
            root.appendingPathComponent("bench/sweep-cartpole.yaml"),
        ])
        let tokens = [
            "episodes: 0\n", "eps: [-1]\n", "eps: [1e308, 1e308]\n", "attacks: [pgd:steps=0]\n", "seeds: [0, 1, 2]\n", ": ", "- ",
            "[", "]",
            "{", "}", "&a ", "*a", ".nan", "~", "\n  - ",
        ]
        MutationFuzzer(name: "sweep-spec", corpus: corpus, tokens: tokens).run { data in
            let spec = try SweepSpec(yaml: String(decoding: data, as: UTF8.self), file: "fuzz.yaml", baseDirectory: root)
            _ = spec.cells
        }
    }

    @Test func rolloutRequests() throws {
        let corpus = [
            #"{"env": "CartPole-v1", "seed": 3, "actions": [0, 1, 1, 0, 1]}"#,
            #"{"env": "Pendulum-v1", "state": [0.5, -1], "actions": [[1.5], [-2], [0]]}"#,
            #"{"env": "gridworld:four-rooms", "seed": 1, "actions": [0, 1, 2, 3]}"#,
            #"{"env": "Acrobot-v1", "state": [0, 0, 0, 0], "actions": [2, 2, 0]}"#,
        ].map { Data($0.utf8) }
        let tokens = [
            "-1", "1e999", "[]", "[[]]", "null", "true", "\"state\": [1e308, -1e308, 0, 0]", "\"seed\": -1",
            "9223372036854775807",
            "\"MountainCarContinuous-v0\"", "\"gridworld:maze,obs=onehot\"", "[1e38]", "[nan]",
        ]
        MutationFuzzer(name: "env-rollout-json", corpus: corpus, tokens: tokens).run { data in
            _ = try Rollout(json: data).run()
        }
    }
}

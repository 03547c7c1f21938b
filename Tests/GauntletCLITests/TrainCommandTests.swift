import Foundation
import TestSupport
import Testing

/// `gauntlet train`, `--resume` and `gauntlet evaluate`, run as a user runs them.
@Suite struct TrainCommandTests {
    static let config = """
        env: CartPole-v1
        algorithm: ppo
        n_timesteps: 2048
        n_envs: 4
        n_steps: 64
        batch_size: 64
        n_epochs: 2
        net_arch: [16, 16]
        checkpoint_interval: 512
        log_interval: 256
        """

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-cli-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func trainEvaluateAndResume() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let configURL = directory.appendingPathComponent("tiny.yaml")
        try Self.config.write(to: configURL, atomically: true, encoding: .utf8)
        let run = directory.appendingPathComponent("run")

        let train = try runGauntlet(["train", "--config", configURL.path, "--seed", "4", "--output", run.path, "--json"])
        #expect(train.status == 0, "\(train.standardError)")
        let summary = try JSONSerialization.jsonObject(with: Data(train.standardOutput.utf8)) as! [String: Any]
        #expect(summary["steps"] as? Int == 2048 && summary["seed"] as? Int == 4 && summary["algorithm"] as? String == "ppo")
        let csv = try String(contentsOf: run.appendingPathComponent("progress.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.first?.hasPrefix("time/steps,time/episodes,rollout/ep_rew_mean") == true && csv.count == 9)

        let evaluate = try runGauntlet([
            "evaluate", "--policy", run.appendingPathComponent("policy.safetensors").path, "--episodes", "5", "--seed", "10",
            "--json",
        ])
        #expect(evaluate.status == 0, "\(evaluate.standardError)")
        let result = try JSONSerialization.jsonObject(with: Data(evaluate.standardOutput.utf8)) as! [String: Any]
        let clean = result["clean"] as! [String: Any]
        let returns = clean["returns"] as! [Double]
        #expect(returns.count == 5 && result["environment"] as? String == "CartPole-v1")
        #expect(abs((clean["mean_return"] as! Double) - returns.reduce(0, +) / 5) < 1e-9)
        let ci = clean["ci95"] as! [Double]
        #expect(ci[0] <= (clean["mean_return"] as! Double) && (clean["mean_return"] as! Double) <= ci[1])
        let again = try runGauntlet([
            "evaluate", "--policy", run.appendingPathComponent("policy.safetensors").path, "--episodes", "5", "--seed", "10",
            "--json",
        ])
        #expect(again.standardOutput == evaluate.standardOutput)

        // A finished run resumes to the same end without training further.
        let resumed = try runGauntlet(["train", "--resume", run.path, "--json"])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(
            (try JSONSerialization.jsonObject(with: Data(resumed.standardOutput.utf8)) as! [String: Any])["steps"] as? Int == 2048
        )

        // The snapshot of a finished run is its final network (the final checkpoint is at the end);
        // a directory without a run is exit 2.
        let snapshotFile = directory.appendingPathComponent("snapshot.safetensors")
        let snapshot = try runGauntlet(["policy", "snapshot", run.path, "--output", snapshotFile.path])
        #expect(snapshot.status == 0 && snapshot.standardOutput.contains("at step 2048"), "\(snapshot.standardError)")
        let snapshotTensors = try exportedTensors(of: snapshotFile, in: directory)
        let finalTensors = try exportedTensors(of: run.appendingPathComponent("policy.safetensors"), in: directory)
        #expect(snapshotTensors.header == finalTensors.header && snapshotTensors.data == finalTensors.data)
        let noRun = try runGauntlet(["policy", "snapshot", directory.path, "--output", snapshotFile.path])
        #expect(noRun.status == 2 && noRun.standardError.contains("no readable run.json"), "\(noRun.standardError)")

        let clash = try runGauntlet(["train", "--config", configURL.path, "--output", run.path])
        #expect(clash.status == 2 && clash.standardError.contains("already holds a run"))
    }

    /// `gauntlet adversary train`, then the adversary as an attack.
    @Test func adversaryTrainAndAttack() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = directory.appendingPathComponent("adversary")
        let train = try runGauntlet([
            "adversary", "train", "--victim", "policies/cartpole-ppo.safetensors", "--eps", "0.2", "--steps", "2048",
            "--learning-rate", "0.001", "--output", run.path, "--json",
        ])
        #expect(train.status == 0, "\(train.standardError)")
        // The run records the adversary's step size it was asked for (the grid's knob).
        let recorded = try String(contentsOf: run.appendingPathComponent("config.yaml"), encoding: .utf8)
        #expect(recorded.contains("learning_rate: 0.001\n"), "\(recorded)")
        let zero = try runGauntlet([
            "adversary", "train", "--victim", "policies/cartpole-ppo.safetensors", "--eps", "0.2", "--learning-rate", "0",
            "--output", directory.appendingPathComponent("zero").path,
        ])
        #expect(zero.status == 2 && zero.standardError.contains("--learning-rate must be in (0, 1], got 0.0"))
        let attack = try runGauntlet([
            "attack", "--policy", "policies/cartpole-ppo.safetensors", "--attack",
            "learned:adversary=\(run.appendingPathComponent("policy.safetensors").path)", "--eps", "0.2",
            "--episodes", "2", "--json",
        ])
        #expect(attack.status == 0, "\(attack.standardError)")
        let report = try JSONSerialization.jsonObject(with: Data(attack.standardOutput.utf8)) as! [String: Any]
        #expect((report["attack"] as! String).hasPrefix("learned:adversary=") && report["queries"] as? Int == 0)
        let bad = try runGauntlet([
            "attack", "--policy", "policies/cartpole-ppo.safetensors", "--attack", "pgd:steps=-1", "--eps", "0.1",
        ])
        #expect(bad.status == 2 && bad.standardError.contains("'steps' must be an integer"))
        let negative = try runGauntlet([
            "attack", "--policy", "policies/cartpole-ppo.safetensors", "--attack", "pgd", "--eps", "nan",
        ])
        #expect(negative.status == 2 && negative.standardError.contains("--eps must be a finite number ≥ 0"))
    }

    /// `gauntlet adversary train --kind paad` (PA-AD's director on a MuJoCo victim, ε in its
    /// normalised units), then `--attack paad:…`: the report counts the director's training steps
    /// as its preparation. A discrete victim is refused with exit 2.
    @Test func paadDirectorTrainAndAttack() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = directory.appendingPathComponent("director")
        let victim = "policies/invertedpendulum-ppo.safetensors"
        let train = try runGauntlet([
            "adversary", "train", "--kind", "paad", "--victim", victim, "--eps", "0.1", "--eps-units", "normalized",
            "--steps", "1024", "--output", run.path, "--json",
        ])
        #expect(train.status == 0, "\(train.standardError)")
        let attack = try runGauntlet([
            "attack", "--policy", victim, "--attack", "paad:adversary=\(run.appendingPathComponent("policy.safetensors").path)",
            "--eps", "0.1", "--eps-units", "normalized", "--episodes", "2", "--json",
        ])
        #expect(attack.status == 0, "\(attack.standardError)")
        let report = try JSONSerialization.jsonObject(with: Data(attack.standardOutput.utf8)) as! [String: Any]
        #expect((report["attack"] as! String).hasPrefix("paad:adversary="))
        #expect((report["preparation"] as? [String: Any])?["environment_steps"] as? Int == 1024)
        let discrete = try runGauntlet([
            "adversary", "train", "--kind", "paad", "--victim", "policies/cartpole-ppo.safetensors", "--eps", "0.1",
            "--steps", "1024", "--output", directory.appendingPathComponent("bad").path,
        ])
        #expect(discrete.status == 2 && discrete.standardError.contains("actions are discrete"), "\(discrete.standardError)")
    }

    @Test func badInputIsExitCodeTwo() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bad = directory.appendingPathComponent("bad.yaml")
        try "env: CartPole-v1\nalgorithm: ppo\nn_step: 32\n".write(to: bad, atomically: true, encoding: .utf8)
        let run = try runGauntlet(["train", "--config", bad.path, "--output", directory.appendingPathComponent("r").path])
        #expect(
            run.status == 2 && run.standardError.contains("bad.yaml:3:9: unknown key 'n_step' (did you mean 'n_steps'?)"),
            "\(run.standardError)")
        let missing = try runGauntlet(["evaluate", "--policy", directory.appendingPathComponent("none.safetensors").path])
        #expect(missing.status == 2 && missing.standardError.contains("cannot read"))
        let zero = try runGauntlet(["evaluate", "--policy", "x", "--episodes", "0"])
        #expect(zero.status == 2 && zero.standardError.contains("--episodes must lie in 1...1000000"))
        let neither = try runGauntlet(["train"])
        #expect(neither.status == 2 && neither.standardError.contains("give either --config FILE or --resume DIR"))
    }

    /// `--env-threads` changes speed only: Hopper PPO with four copies gives the same policy file
    /// tensors on one thread and on three (the exports' tensors: their metadata records each run's
    /// own provenance).
    @Test func environmentThreadsLeaveTheWeightsUnchanged() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-env-threads-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("c.yaml")
        try "env: Hopper-v5\nalgorithm: ppo\nn_timesteps: 1024\nn_envs: 4\nn_steps: 128\nnet_arch: [16]\nnormalize: true\n".write(
            to: config, atomically: true, encoding: .utf8)
        var tensors: [(header: NSDictionary, data: Data)] = []
        for threads in ["1", "3"] {
            let output = directory.appendingPathComponent("run-\(threads)")
            let run = try runGauntlet(["train", "--config", config.path, "--output", output.path, "--env-threads", threads])
            #expect(run.status == 0, "\(run.standardError)")
            tensors.append(try exportedTensors(of: output.appendingPathComponent("policy.safetensors"), in: directory))
        }
        #expect(tensors[0].header == tensors[1].header && tensors[0].data == tensors[1].data && !tensors[0].data.isEmpty)
    }

    /// A policy file's tensors as `gauntlet policy export` writes them: the safetensors header
    /// without its metadata (which records the file's own provenance) and the tensors' bytes.
    func exportedTensors(of policy: URL, in directory: URL) throws -> (header: NSDictionary, data: Data) {
        let exported = directory.appendingPathComponent("plain-\(UUID()).safetensors")
        let export = try runGauntlet(["policy", "export", policy.path, "--output", exported.path])
        #expect(export.status == 0, "\(export.standardError)")
        // A safetensors file: an 8-byte header length, the JSON header, the tensors' bytes.
        let file = try Data(contentsOf: exported)
        let length = Int(file.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var header = try #require(try JSONSerialization.jsonObject(with: file.subdata(in: 8..<(8 + length))) as? [String: Any])
        header["__metadata__"] = nil
        return (header as NSDictionary, file.subdata(in: (8 + length)..<file.count))
    }
}

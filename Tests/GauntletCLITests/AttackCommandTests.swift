import Foundation
import TestSupport
import Testing

/// `gauntlet attack`, run as a user runs it.
@Suite struct AttackCommandTests {
    @Test func oneAttackPrintsThePerAttackObject() throws {
        let run = try runGauntlet([
            "attack", "--policy", "policies/cartpole-dqn.safetensors", "--attack", "fgsm", "--eps", "0.2",
            "--episodes", "3", "--mask", "1,1,0,1", "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as! [String: Any]
        #expect(object["attack"] as? String == "fgsm:random_start=auto")
        let clean = object["clean"] as! [String: Any]
        let attacked = object["attacked"] as! [String: Any]
        let cleanReturns = clean["returns"] as! [Double]
        let attackedReturns = attacked["returns"] as! [Double]
        let drop = object["reward_drop"] as! [String: Any]
        let expectedDrop = zip(cleanReturns, attackedReturns).map { $0 - $1 }.reduce(0, +) / 3
        #expect(abs((drop["mean"] as! Double) - expectedDrop) < 1e-9)
        let flips = object["action_flip_rate"] as! [String: Any]
        let ci = flips["ci95"] as! [Double]
        #expect(ci[0] <= (flips["value"] as! Double) && (flips["value"] as! Double) <= ci[1])
        let threat = object["threat_model"] as! [String: Any]
        #expect(
            threat["epsilon"] as? Double == 0.2 && threat["norm"] as? String == "linf"
                && threat["mask"] as? [Bool] == [true, true, false, true])
        #expect((object["queries"] as! Int) > 0)
    }

    @Test func severalAttacksPrintAList() throws {
        let run = try runGauntlet([
            "attack", "--policy", "policies/cartpole-ppo.safetensors", "--attack", "none", "--attack", "pgd:steps=3",
            "--eps", "0.1", "--episodes", "2", "--eps-units", "std", "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let attacks =
            (try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as! [String: Any])["attacks"]
            as! [[String: Any]]
        #expect(
            attacks.map { $0["attack"] as! String } == [
                "none", "pgd:alpha_ratio=0.25,loss=auto,random_start=1,restarts=1,steps=3",
            ])
        #expect(((attacks[0]["reward_drop"] as! [String: Any])["mean"] as! Double) == 0)
        #expect((attacks[1]["threat_model"] as! [String: Any])["units"] as? String == "std")
    }

    /// A mask over channels: the observation as that many equal blocks (CartPole's 4 values as
    /// two "channels" of 2 here), the attack leaving the masked block untouched.
    @Test func maskOverChannels() throws {
        let run = try runGauntlet([
            "attack", "--policy", "policies/cartpole-dqn.safetensors", "--attack", "fgsm", "--eps", "0.2", "--episodes", "1",
            "--mask-channels", "0,1", "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as! [String: Any]
        #expect((object["threat_model"] as! [String: Any])["mask"] as? [Bool] == [false, false, true, true])
    }

    /// ε as a fraction (pixel-value units): `--eps 3/255` is 3/255.
    @Test func epsilonAsAFraction() throws {
        let run = try runGauntlet([
            "attack", "--policy", "policies/cartpole-dqn.safetensors", "--attack", "fgsm", "--eps", "3/255", "--episodes", "1",
            "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as! [String: Any]
        #expect((object["threat_model"] as! [String: Any])["epsilon"] as? Double == 3.0 / 255)
    }

    @Test func badInput() throws {
        for (arguments, message) in [
            (["--attack", "pgd", "--eps", "0.1", "--mask", "1,0"], "--mask has 2 entries"),
            (["--attack", "pgd", "--eps", "0.1", "--mask", "1,x,0,1"], "--mask: expected comma-separated 0 and 1"),
            (["--attack", "targeted:target=7", "--eps", "0.1"], "target 7 is not one of the 2 actions"),
            (["--attack", "pgd", "--eps", "0.1", "--timed", "2"], "--timed must lie in [0, 1]"),
            (["--attack", "pgd", "--eps", "3/0"], "ε must be a number (0.0039) or a fraction (3/255), got '3/0'"),
            (
                ["--attack", "pgd", "--eps", "0.1", "--mask-channels", "1,0,1"],
                "--mask-channels: a mask of 3 channels needs observations of a multiple of 3 values, these have 4"
            ),
            (["--attack", "pgd", "--eps", "0.1", "--mask-channels", "1,0", "--mask", "1,1,1,1"], "not both"),
            (["--attack", "pgd", "--eps", "1/2/3"], "got '1/2/3'"),
        ] {
            let run = try runGauntlet(["attack", "--episodes", "1", "--policy", "policies/cartpole-ppo.safetensors"] + arguments)
            #expect(run.status == 2 && run.standardError.contains(message), "\(arguments): \(run.standardError)")
        }
    }
}

/// `gauntlet policy info/import/export`.
@Suite struct PolicyCommandTests {
    @Test func infoImportExport() throws {
        let info = try runGauntlet(["policy", "info", "policies/cartpole-ppo.safetensors", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(info.standardOutput.utf8)) as! [String: Any]
        #expect(object["parameter_count"] as? Int == 4610 && object["sizes"] as? [Int] == [4, 64, 64, 2])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-policy-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let imported = directory.appendingPathComponent("imported.safetensors").path
        let run = try runGauntlet([
            "policy", "import", "Tests/Fixtures/torch_state_dict.safetensors", "--env", "CartPole-v1", "--kind", "greedy-q",
            "--output", imported,
        ])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(try runGauntlet(["evaluate", "--policy", imported, "--episodes", "2"]).status == 0)
        let exported = directory.appendingPathComponent("plain.safetensors").path
        #expect(try runGauntlet(["policy", "export", imported, "--output", exported]).status == 0)
        let bad = try runGauntlet([
            "policy", "import", "Tests/Fixtures/torch_state_dict.safetensors", "--env", "Pendulum-v1", "--kind", "gaussian",
            "--output", imported,
        ])
        #expect(bad.status == 2 && bad.standardError.contains("takes 4 inputs"))
        let kind = try runGauntlet(["policy", "import", "x", "--env", "CartPole-v1", "--kind", "softmax", "--output", imported])
        #expect(kind.status == 2)
        let noKind = try runGauntlet([
            "policy", "import", "Tests/Fixtures/torch_state_dict.pth", "--env", "CartPole-v1", "--output", imported,
        ])
        #expect(noKind.status == 2 && noKind.standardError.contains("--kind is required"))
        let pth = try runGauntlet([
            "policy", "import", "Tests/Fixtures/torch_state_dict.pth", "--env", "CartPole-v1", "--kind", "categorical",
            "--activation", "tanh", "--output", imported,
        ])
        #expect(pth.status == 0 && pth.standardOutput.contains("4-5-2 tanh, categorical on CartPole-v1"), "\(pth.standardError)")
    }

    /// A Stable-Baselines3 zip imports with no options beyond the environment, and the result
    /// attacks like any policy.
    @Test func importStableBaselines3Zip() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("sb3-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let run = try runGauntlet([
            "policy", "import", "Tests/Fixtures/sb3_ppo_cartpole.zip", "--env", "CartPole-v1", "--output", output,
        ])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput.contains("4-16-16-2 tanh, categorical on CartPole-v1 (+ critic)"))
        let attack = try runGauntlet(["attack", "--policy", output, "--attack", "pgd", "--eps", "0.1", "--episodes", "2"])
        #expect(attack.status == 0, "\(attack.standardError)")
        let corrupt = try runGauntlet([
            "policy", "import", "Tests/Fixtures/sb3_models.json", "--env", "CartPole-v1", "--output", output,
        ])
        #expect(corrupt.status == 2)
    }

    /// An SB3 CnnPolicy zip imports against an image environment served by the bridge (four
    /// 36×36 frames stacked channels first, uint8 values) and is attacked at ε = 3/255 of the
    /// policy's own [0, 1] input, as the pixel literature measures ε.
    @Test func importStableBaselines3CnnPolicyAndAttackIt() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("sb3-cnn-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let env =
            "external:env PYTHONPATH=Tests/Fixtures .venv-env-server/bin/python3 python/gauntlet_env_server.py --entry-point bridge_entry_point:make_frames"
        let run = try runGauntlet(["policy", "import", "Tests/Fixtures/sb3_dqn_frames.zip", "--env", env, "--output", output])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(
            run.standardOutput.contains(
                "Conv2d(4, 32, kernel_size=8, stride=4, padding=0) → relu → Conv2d(32, 64, kernel_size=4, stride=2, padding=0) → relu → Conv2d(64, 64, kernel_size=3, stride=1, padding=0) → relu → Flatten → Linear(64, 32) → relu → Linear(32, 3), greedy-q on \(env)"
            ), "\(run.standardOutput)")
        let attack = try runGauntlet([
            "attack", "--policy", output, "--attack", "fgsm", "--eps", "3/255", "--eps-units", "normalized", "--episodes", "1",
            "--json",
        ])
        #expect(attack.status == 0, "\(attack.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(attack.standardOutput.utf8)) as? [String: Any]
        let threat = try #require(object?["threat_model"] as? [String: Any], "\(attack.standardOutput)")
        #expect(abs((threat["epsilon"] as? Double ?? 0) - 3.0 / 255) < 1e-12, "\(threat)")
    }
}

@Suite struct CertifyCommandTests {
    @Test func certifiesAShippedPolicy() throws {
        let run = try runGauntlet([
            "certify", "--policy", "policies/cartpole-dqn.safetensors", "--eps", "0", "--method", "ibp", "--method", "crop",
            "--return-range", "0,500", "--crop-episodes", "4", "--episodes", "1", "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as! [String: Any]
        let ibp = try #require(object["ibp"] as? [String: Any])
        // At ε = 0 a state is certified exactly when its greedy action is strict: all 500 here.
        #expect(ibp["states"] as? Int == 500 && ibp["certified"] as? Int == 500)
        let crop = try #require(object["crop"] as? [String: Any])
        #expect(crop["horizon"] as? Int == 500)
        let missing = try runGauntlet([
            "certify", "--policy", "policies/cartpole-dqn.safetensors", "--eps", "0.1", "--method", "crop",
        ])
        #expect(missing.status == 2 && missing.standardError.contains("--return-range"))
        let unknown = try runGauntlet([
            "certify", "--policy", "policies/cartpole-dqn.safetensors", "--eps", "0.1", "--method", "magic",
        ])
        #expect(unknown.status == 2 && unknown.standardError.contains("unknown method 'magic'"))
    }
}

@Suite struct DefendCommandTests {
    /// An ensemble plus a randomised transformation written by `gauntlet defend`, described by
    /// `policy info`, and attacked with EOT; bad specs are exit 2 with the reason.
    @Test func defendThenAttack() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("defended-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let run = try runGauntlet([
            "defend", "--policy", "policies/cartpole-dqn.safetensors", "--member", "policies/cartpole-dqn.safetensors",
            "--member", "policies/cartpole-dqn.safetensors", "--aggregation", "vote", "--transform", "noise:sigma=0.1",
            "--units", "std", "--episodes", "2", "--output", output,
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let info = try runGauntlet(["policy", "info", output])
        #expect(
            info.standardOutput.contains("defenses:     ensemble:aggregation=vote,members=3, then noise:sigma=0.1"),
            "\(info.standardOutput)")
        let attack = try runGauntlet([
            "attack", "--policy", output, "--attack", "pgd:steps=2,eot=2", "--eps", "0.3", "--episodes", "2", "--json",
        ])
        #expect(attack.status == 0, "\(attack.standardError)")
        #expect(
            attack.standardOutput.contains(
                "\"attack\":\"pgd:alpha_ratio=0.25,eot=2,loss=auto,random_start=1,restarts=1,steps=2\""))
        let bad = try runGauntlet([
            "defend", "--policy", "policies/cartpole-dqn.safetensors", "--transform", "blur:radius=2", "--output", output,
        ])
        #expect(bad.status == 2 && bad.standardError.contains("unknown transformation 'blur'"))
        let mixed = try runGauntlet([
            "defend", "--policy", "policies/cartpole-dqn.safetensors", "--member", "policies/cartpole-ppo.safetensors",
            "--output", output,
        ])
        #expect(mixed.status == 2 && mixed.standardError.contains("differs from the first"))
    }
}

@Suite struct DetectCommandTests {
    @Test func detectReportsBothDetectorsAndTheAdaptiveAttack() throws {
        let run = try runGauntlet([
            "detect", "--policy", "policies/cartpole-dqn.safetensors", "--attack", "fgsm", "--eps", "0.1", "--episodes", "2",
            "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as! [String: Any]
        for key in ["learned", "margin", "adaptive_learned"] {
            let roc = try #require(object[key] as? [String: Any], "\(key)")
            #expect((roc["auc"] as? Double).map { (0...1).contains($0) } == true)
        }
        let bad = try runGauntlet(["detect", "--policy", "policies/cartpole-dqn.safetensors", "--eps", "0.1", "--episodes", "1"])
        #expect(bad.status == 2 && bad.standardError.contains("half of them train the detector"))
    }
}

/// `optimal-attack` with complete verification, and `certify --method complete`, on the shipped
/// lava-corridor DQN at an ε small enough for every question to be decided in seconds.
@Suite struct ExactOptimalAttackCommandTests {
    @Test func exactValueAndAReplayOfTheOptimalAdversary() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-optimal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let record = directory.appendingPathComponent("optimal.safetensors").path
        let run = try runGauntlet([
            "optimal-attack", "--policy", "policies/lava-corridor-dqn.safetensors", "--eps", "0.02", "--attack", "fgsm",
            "--record", record, "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as! [String: Any]
        let bounds = try #require(object["bounds"] as? [String: Any])
        #expect(bounds["undecided_states"] as? Int == 0 && bounds["undecided_queries"] as? Int == 0)
        let value = try #require(bounds["upper_bound"] as? Double)
        #expect(bounds["lower_bound"] as? Double == value && object["optimal_adversary_return"] as? Double == value)
        let replay = try runGauntlet(["replay", record])
        #expect(replay.status == 0, "\(replay.standardOutput) \(replay.standardError)")

        let bracketed = try runGauntlet([
            "optimal-attack", "--policy", "policies/lava-corridor-dqn.safetensors", "--eps", "0.02", "--bracket", "--record",
            record,
        ])
        #expect(bracketed.status == 2 && bracketed.standardError.contains("drop --bracket"))
    }

    @Test func completeCertificationOfAGridworldPolicy() throws {
        let run = try runGauntlet([
            "certify", "--policy", "policies/lava-corridor-dqn.safetensors", "--eps", "0.02", "--method", "ibp", "--method",
            "complete", "--episodes", "1", "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as! [String: Any]
        let complete = try #require(object["complete"] as? [String: Any])
        let ibp = try #require(object["ibp"] as? [String: Any])
        let (certified, states) = (complete["certified"] as! Int, complete["states"] as! Int)
        #expect(complete["undecided"] as? Int == 0 && states == ibp["states"] as? Int)
        #expect(certified >= ibp["certified"] as! Int && certified + (complete["attackable"] as! Int) == states)
        let l2 = try runGauntlet([
            "certify", "--policy", "policies/lava-corridor-dqn.safetensors", "--eps", "0.02", "--norm", "l2", "--method",
            "complete",
            "--episodes", "1",
        ])
        #expect(l2.status == 2 && l2.standardError.contains("L∞"))
    }
}

import Foundation
import TestSupport
import Testing

/// MuJoCo from the command line, as a user runs it: rollouts from `{qpos, qvel}` reproduce
/// Gymnasium, and the shipped policies are evaluated and attacked in the policy's normalised
/// units.
@Suite struct MuJoCoCommandTests {
    /// `env rollout` with a MuJoCo state reproduces a Gymnasium trajectory of every environment.
    @Test func rolloutReproducesGymnasium() throws {
        let fixture =
            try JSONSerialization.jsonObject(with: Data(contentsOf: fixtureURL("gymnasium_mujoco.json"))) as! [String: Any]
        for (id, episodes) in fixture["environments"] as! [String: [[String: Any]]] {
            let episode = episodes[0]
            let steps = episode["steps"] as! [[String: Any]]
            let request: [String: Any] = ["env": id, "state": episode["state"]!, "actions": steps.map { $0["action"]! }]
            let run = try runGauntlet(
                ["env", "rollout"], input: String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self))
            #expect(run.status == 0, "\(run.standardError)")
            let output = try JSONDecoder().decode(EnvCommandTests.RolloutOutput.self, from: Data(run.standardOutput.utf8))
            // Reacher's own limit (50 steps) ends the rollout before the fixture's longer one.
            #expect(output.steps.count == steps.count || (output.steps.last!.truncated && id == "Reacher-v5"), "\(id)")
            for (mine, theirs) in zip(output.steps, steps) {
                let expected = theirs["observation"] as! [Double]
                #expect(zip(mine.observation, expected).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) }, "\(id)")
                #expect(abs(mine.reward - (theirs["reward"] as! Double)) <= 1e-6, "\(id)")
            }
        }
    }

    /// The shipped Hopper PPO under MAD at the published ε = 0.075 in normalised units loses
    /// reward, and uniform noise in the same ball costs less than MAD.
    @Test func shippedHopperIsAttackedInNormalisedUnits() throws {
        let run = try runGauntlet([
            "attack", "--policy", "policies/hopper-ppo.safetensors", "--attack", "uniform", "--attack", "mad",
            "--eps", "0.075", "--eps-units", "normalized", "--episodes", "1", "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let output = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as! [String: Any]
        let attacks = output["attacks"] as! [[String: Any]]
        let attacked = attacks.map { (($0["attacked"] as! [String: Any])["mean_return"] as! Double) }
        let clean = (attacks[0]["clean"] as! [String: Any])["mean_return"] as! Double
        #expect(clean > 3000 && attacked[1] < attacked[0] && attacked[1] < clean - 500, "clean \(clean), attacked \(attacked)")
        #expect((attacks[0]["threat_model"] as! [String: Any])["units"] as? String == "normalized")
    }

    /// A recorded MuJoCo evaluation replays bit for bit, and `explain` draws a recorded step.
    @Test func recordedMuJoCoEpisodesReplayAndExplain() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-mujoco-replay-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("episode.safetensors").path
        let record = try runGauntlet([
            "evaluate", "--policy", "policies/invertedpendulum-ppo.safetensors", "--attack", "mad", "--eps", "0.05",
            "--eps-units", "normalized", "--episodes", "1", "--record", file,
        ])
        #expect(record.status == 0, "\(record.standardError)")
        let replay = try runGauntlet(["replay", file])
        #expect(replay.status == 0, "\(replay.standardOutput) \(replay.standardError)")
        let svg = directory.appendingPathComponent("step.svg").path
        let explain = try runGauntlet(["explain", file, "--step", "5", "--svg", svg])
        #expect(explain.status == 0, "\(explain.standardError)")
        #expect(try String(contentsOfFile: svg, encoding: .utf8).hasPrefix("<svg"))
    }

    /// A policy without observation normalisation cannot be attacked in normalised units: exit 2
    /// with the reason.
    @Test func normalisedUnitsNeedANormalisingPolicy() throws {
        let run = try runGauntlet([
            "attack", "--policy", "policies/cartpole-dqn.safetensors", "--attack", "fgsm", "--eps", "0.1",
            "--eps-units", "normalized", "--episodes", "1",
        ])
        #expect(run.status == 2 && run.standardError.contains("needs a policy that normalises its observations"))
    }

    /// An SB3 MuJoCo zip imports with the VecNormalize statistics saved beside it (found by
    /// name, or given), the statistics land in the policy file, and ε in normalised units then
    /// means SB3's normalised space; conflicting or malformed statistics exit 2.
    @Test func stableBaselines3ZipImportsWithItsVecNormalize() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-sb3-mujoco-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let zip = directory.appendingPathComponent("model.zip")
        try FileManager.default.copyItem(at: fixtureURL("sb3_ppo_hopper.zip"), to: zip)
        try FileManager.default.copyItem(
            at: fixtureURL("sb3_ppo_hopper_vecnormalize.pkl"), to: directory.appendingPathComponent("vec_normalize.pkl"))
        let output = directory.appendingPathComponent("hopper.safetensors").path
        let run = try runGauntlet(["policy", "import", zip.path, "--env", "Hopper-v5", "--output", output])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput.contains("observation statistics from") && run.standardOutput.contains("clip ±10"))
        let info = try runGauntlet(["policy", "info", output, "--json"])
        #expect(
            info.standardOutput.contains("\"clip\":10") || info.standardOutput.contains("\"clip\" : 10"), "\(info.standardOutput)"
        )
        let attack = try runGauntlet([
            "attack", "--policy", output, "--attack", "mad", "--eps", "0.075", "--eps-units", "normalized", "--episodes", "1",
        ])
        #expect(attack.status == 0, "\(attack.standardError)")
        let both = try runGauntlet([
            "policy", "import", zip.path, "--env", "Hopper-v5", "--vec-normalize", zip.path, "--obs-mean", "0", "--obs-std",
            "1", "--output", output,
        ])
        #expect(both.status == 2 && both.standardError.contains("pass one"))
        let notAPickle = try runGauntlet([
            "policy", "import", zip.path, "--env", "Hopper-v5", "--vec-normalize", zip.path, "--output", output,
        ])
        #expect(
            notAPickle.status == 2 && notAPickle.standardError.contains("vec_normalize.pkl, byte 0"),
            "\(notAPickle.standardError)")
    }

    /// A sweep over a shipped MuJoCo policy in normalised units stores its cells, and the report
    /// draws the episode player's MuJoCo frames; where Chromium is installed, the page passes its
    /// own checks (`ReportPageTests`).
    @Test func sweepAndReportOnAMuJoCoPolicy() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-mujoco-sweep-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = directory.appendingPathComponent("spec.yaml")
        try """
        policies: [policies/invertedpendulum-ppo.safetensors]
        attacks: [uniform, mad]
        epsilons: [0, 0.3]
        units: normalized
        episodes: 2
        """.write(to: spec, atomically: true, encoding: .utf8)
        let db = directory.appendingPathComponent("r.sqlite").path
        let sweep = try runGauntlet(["sweep", spec.path, "--db", db])
        #expect(sweep.status == 0, "\(sweep.standardError)")
        let query = try runGauntlet(["results", "query", "--db", db, "--format", "csv"])
        let rows = query.standardOutput.split(separator: "\n").dropFirst()
        #expect(rows.count == 4 && rows.allSatisfy { $0.contains("InvertedPendulum-v5") && $0.contains("normalized") })
        let report = directory.appendingPathComponent("report")
        let written = try runGauntlet(["report", "--db", db, "--out", report.path])
        #expect(written.status == 0, "\(written.standardError)")
        let html = try String(contentsOf: report.appendingPathComponent("report.html"), encoding: .utf8)
        // The episode player's frames are MuJoCo pictures (400 × 300 side views; escaped in its JSON).
        let frames = html.components(separatedBy: "width=\\\"400\\\" height=\\\"300\\\"").count - 1
        #expect(html.contains("invertedpendulum-ppo") && frames >= 2, "\(frames) frames")
        if chromium != nil {
            let verdict = try ReportPageTests.selfTest(report.appendingPathComponent("report.html"))
            #expect(verdict == "SELFTEST OK", "\(verdict)")
        }
    }
}

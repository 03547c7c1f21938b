import Foundation
import TestSupport
import Testing

/// `gauntlet evaluate --attack … --record` and `gauntlet replay`, run as a user runs them.
@Suite struct ReplayCommandTests {
    @Test func recordVerifyAndDetectAChangedPolicy() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-replay-cli-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let policy = directory.appendingPathComponent("victim.safetensors")
        try FileManager.default.copyItem(atPath: "policies/cartpole-dqn.safetensors", toPath: policy.path)
        let record = directory.appendingPathComponent("eval.safetensors")

        let evaluate = try runGauntlet([
            "evaluate", "--policy", policy.path, "--episodes", "3", "--attack", "fgsm", "--attack", "pgd:steps=3",
            "--eps", "0", "--eps", "0.1", "--record", record.path, "--json",
        ])
        #expect(evaluate.status == 0, "\(evaluate.standardError)")
        let result = try JSONSerialization.jsonObject(with: Data(evaluate.standardOutput.utf8)) as! [String: Any]
        #expect((result["attacks"] as! [[String: Any]]).count == 4 && (result["strongest"] as! [[String: Any]]).count == 2)
        #expect((result["sanity"] as! [Any]).isEmpty && (result["clean"] as! [String: Any])["returns"] as? [Double] != nil)
        for k in 1...4 {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("eval-\(k).safetensors").path))
        }

        let replay = directory.appendingPathComponent("eval-4.safetensors").path
        let verify = try runGauntlet(["replay", replay])
        #expect(
            verify.status == 0 && verify.standardOutput.contains("reproduced bit for bit: 3 episodes"),
            "\(verify.standardOutput)\(verify.standardError)")
        let other = try runGauntlet(["replay", replay, "--attack", "uniform", "--json"])
        #expect(other.status == 0)
        #expect((try JSONSerialization.jsonObject(with: Data(other.standardOutput.utf8)) as! [String: Any])["difference"] != nil)
        let offline = try runGauntlet(["replay", replay, "--offline", "--attack", "fgsm"])
        #expect(offline.status == 0 && offline.standardOutput.contains("offline on"))

        // Overwrite the recorded policy: the replay refuses to pass.
        try FileManager.default.removeItem(at: policy)
        try FileManager.default.copyItem(atPath: "policies/cartpole-ppo.safetensors", toPath: policy.path)
        let changed = try runGauntlet(["replay", replay])
        #expect(changed.status == 1 && changed.standardError.contains("changed since the recording"))
        let bad = try runGauntlet(["replay", replay, "--offline"])
        #expect(bad.status == 2 && bad.standardError.contains("--offline needs --attack"))
    }
}

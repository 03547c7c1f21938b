import Foundation
import NeuralNet
import TestSupport
import Testing

/// Every JSON Gauntlet writes uses one key style, snake_case: `--json` output, `summary.json`,
/// `run.json`, the policy description inside a policy file and a checkpoint's metadata.
@Suite struct JSONStyleTests {
    /// Keys written in camelCase (a lowercase run followed by a capital): Swift's property names
    /// that escaped conversion. Keys that are data (attack specs, environment ids) do not match.
    func camelCaseKeys(_ value: Any, path: String = "") -> [String] {
        if let object = value as? [String: Any] {
            return object.flatMap { key, item in
                (key.range(of: "^[a-z0-9]+[A-Z]", options: .regularExpression) != nil ? ["\(path).\(key)"] : [])
                    + camelCaseKeys(item, path: "\(path).\(key)")
            }
        }
        if let array = value as? [Any] { return array.flatMap { camelCaseKeys($0, path: path + "[]") } }
        return []
    }

    func keys(ofJSON text: String, _ what: String) throws -> [String] {
        let value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        return camelCaseKeys(value).map { "\(what): \($0)" }
    }

    @Test func everyJSONGauntletWritesIsSnakeCase() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-json-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("c.yaml")
        try "env: Pendulum-v1\nalgorithm: ppo\nn_timesteps: 512\nn_steps: 256\nnet_arch: [8]\nnormalize: true\n".write(
            to: config, atomically: true, encoding: .utf8)
        let run = directory.appendingPathComponent("run")
        let train = try runGauntlet(["train", "--config", config.path, "--output", run.path, "--json"])
        #expect(train.status == 0, "\(train.standardError)")
        var found = try keys(ofJSON: train.standardOutput, "train --json")
        for file in ["summary.json", "run.json"] {
            found += try keys(ofJSON: String(contentsOf: run.appendingPathComponent(file), encoding: .utf8), file)
        }
        let policy = run.appendingPathComponent("policy.safetensors")
        found += try keys(ofJSON: try #require(try Safetensors.read(contentsOf: policy).metadata["gauntlet"]), "policy file")
        for (key, value) in try Safetensors.read(contentsOf: run.appendingPathComponent("checkpoint.safetensors")).metadata {
            if value.hasPrefix("{") || value.hasPrefix("[") { found += try keys(ofJSON: value, "checkpoint \(key)") }
        }
        for command in [
            ["policy", "info", policy.path, "--json"],
            [
                "attack", "--policy", policy.path, "--attack", "mad", "--eps", "0.1", "--eps-units", "normalized", "--episodes",
                "1", "--json",
            ],
            ["evaluate", "--policy", policy.path, "--attack", "fgsm", "--eps", "0.1", "--episodes", "1", "--json"],
            ["env", "info", "Hopper-v5", "--json"],
        ] {
            let output = try runGauntlet(command)
            #expect(output.status == 0, "\(command): \(output.standardError)")
            found += try keys(ofJSON: output.standardOutput, command.prefix(2).joined(separator: " "))
        }
        #expect(found.isEmpty, "camelCase keys: \(found)")
    }
}

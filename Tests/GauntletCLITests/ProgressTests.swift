import Foundation
import TestSupport
import Testing

/// Long work reports progress when standard error is not a terminal (a pipe here, as in nohup,
/// CI or Slurm logs): plain lines, each ending in a newline, from the first step to 100%.
@Suite struct ProgressTests {
    /// The progress lines of `label` in `standardError`, in order.
    func lines(_ standardError: String, containing label: String) -> [String] {
        standardError.split(separator: "\n").map(String.init).filter { $0.contains(label) && $0.contains("%") }
    }

    /// The percentages of `lines` never fall and end at 100.
    func percentages(_ lines: [String]) -> [Int] {
        lines.compactMap { line in
            line.split(separator: " ").first { $0.hasSuffix("%") && Int($0.dropLast()) != nil }.flatMap { Int($0.dropLast()) }
        }
    }

    @Test func trainAttackAndSweepReportProgressToAPipe() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-progress-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let config = directory.appendingPathComponent("c.yaml")
        try "env: CartPole-v1\nalgorithm: ppo\nn_timesteps: 2048\nn_steps: 256\nnet_arch: [8]\n".write(
            to: config, atomically: true, encoding: .utf8)
        let train = try runGauntlet(["train", "--config", config.path, "--output", directory.appendingPathComponent("run").path])
        #expect(train.status == 0, "\(train.standardError)")
        let trainLines = lines(train.standardError, containing: "steps")
        #expect(trainLines.count >= 2 && percentages(trainLines).last == 100, "\(train.standardError)")

        let attack = try runGauntlet([
            "attack", "--policy", "policies/cartpole-dqn.safetensors", "--attack", "pgd:steps=3", "--eps", "0.1", "--episodes",
            "3",
        ])
        #expect(attack.status == 0, "\(attack.standardError)")
        let attackLines = lines(attack.standardError, containing: "episodes")
        #expect(attackLines.contains { $0.hasPrefix("clean") } && attackLines.contains { $0.hasPrefix("pgd:") })
        #expect(percentages(attackLines.filter { $0.hasPrefix("pgd:") }).last == 100, "\(attack.standardError)")

        let spec = directory.appendingPathComponent("s.yaml")
        try
            "name: progress\npolicies: [policies/cartpole-dqn.safetensors]\nattacks: [fgsm, uniform]\nepsilons: [0.05, 0.1]\nepisodes: 2\n"
            .write(to: spec, atomically: true, encoding: .utf8)
        let sweep = try runGauntlet(["sweep", spec.path, "--db", directory.appendingPathComponent("s.sqlite").path])
        #expect(sweep.status == 0, "\(sweep.standardError)")
        let sweepLines = lines(sweep.standardError, containing: "cells")
        let sweepPercentages = percentages(sweepLines)
        #expect(!sweepLines.isEmpty && sweepPercentages.last == 100, "\(sweep.standardError)")
        #expect(sweepPercentages == sweepPercentages.sorted(), "progress ran backwards: \(sweepPercentages)")
    }
}

import Foundation
import NeuralNet
import TestSupport
import Testing

/// `kill -9` during `gauntlet train`, repeatedly, then `--resume` until it finishes: the final
/// policy equals an uninterrupted run's bit for bit, and the checkpoint is never corrupt.
@Suite(.serialized) struct CrashSafetyTests {
    static let config = """
        env: CartPole-v1
        algorithm: dqn
        n_timesteps: 6000
        net_arch: [64, 64]
        learning_starts: 500
        train_freq: 4
        gradient_steps: 1
        target_update_interval: 200
        batch_size: 32
        buffer_size: 6000
        checkpoint_interval: 250
        log_interval: 500
        """

    @Test func killedTrainingResumesToTheSameWeights() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-crash-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("c.yaml")
        try Self.config.write(to: config, atomically: true, encoding: .utf8)
        let straight = directory.appendingPathComponent("straight")
        let killed = directory.appendingPathComponent("killed")
        #expect(try runGauntlet(["train", "--config", config.path, "--seed", "3", "--output", straight.path]).status == 0)

        var kills = 0
        var arguments = ["train", "--config", config.path, "--seed", "3", "--output", killed.path]
        for delay in [0.4, 0.7, 0.5, 0.9] {
            let process = Process()
            process.executableURL = Bundle.main.executableURL!.deletingLastPathComponent().appendingPathComponent("gauntlet")
            process.arguments = arguments
            process.currentDirectoryURL = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            process.waitUntilExit()
            let checkpoint = killed.appendingPathComponent("checkpoint.safetensors")
            if FileManager.default.fileExists(atPath: checkpoint.path) {
                #expect(throws: Never.self) { _ = try Safetensors.read(contentsOf: checkpoint) }  // never half-written
                arguments = ["train", "--resume", killed.path]
            }
        }
        #expect(kills > 0, "training finished before any kill: the test did not test a kill")
        let finish = try runGauntlet(arguments.contains("--resume") ? arguments : ["train", "--resume", killed.path])
        #expect(finish.status == 0, "\(finish.standardError)")
        let a = try PolicyFile.load(contentsOf: straight.appendingPathComponent("policy.safetensors"))
        let b = try PolicyFile.load(contentsOf: killed.appendingPathComponent("policy.safetensors"))
        #expect(a.network == b.network)
    }
}

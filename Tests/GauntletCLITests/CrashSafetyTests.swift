import Foundation
import NeuralNet
import TestSupport
import Testing

/// Starts `gauntlet ARGUMENTS` from the repository root without waiting for it, its standard
/// error into `standardError` (discarded when nil).
func startGauntlet(_ arguments: [String], standardError: URL?) throws -> Process {
    let process = Process()
    process.executableURL = Bundle.main.executableURL!.deletingLastPathComponent().appendingPathComponent("gauntlet")
    process.arguments = arguments
    process.currentDirectoryURL = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
    if let standardError {
        _ = FileManager.default.createFile(atPath: standardError.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: standardError)
    } else {
        process.standardError = FileHandle.nullDevice
    }
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    return process
}

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
            let process = try startGauntlet(arguments, standardError: nil)
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

/// Ctrl-C (SIGINT) during `gauntlet train`: the run finishes its current unit, writes a
/// checkpoint, says where and how to continue, exits 130, and the resumed run ends with the
/// uninterrupted run's weights. A run killed before its first checkpoint says so on `--resume`.
@Suite(.serialized) struct InterruptTests {
    static let config = CrashSafetyTests.config.replacingOccurrences(
        of: "checkpoint_interval: 250", with: "checkpoint_interval: 100000"
    )
    .replacingOccurrences(of: "n_timesteps: 6000", with: "n_timesteps: 12000")
    .replacingOccurrences(of: "buffer_size: 6000", with: "buffer_size: 12000")

    /// Waits until `file` exists (at most 20 s).
    func waitFor(_ file: URL) {
        for _ in 0..<400 where !FileManager.default.fileExists(atPath: file.path) { Thread.sleep(forTimeInterval: 0.05) }
    }

    @Test func interruptedTrainingCheckpointsAndResumesToTheSameWeights() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-interrupt-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("c.yaml")
        try Self.config.write(to: config, atomically: true, encoding: .utf8)
        let straight = directory.appendingPathComponent("straight")
        let interrupted = directory.appendingPathComponent("interrupted")
        #expect(try runGauntlet(["train", "--config", config.path, "--seed", "3", "--output", straight.path]).status == 0)

        let log = directory.appendingPathComponent("stderr.txt")
        let process = try startGauntlet(
            ["train", "--config", config.path, "--seed", "3", "--output", interrupted.path], standardError: log)
        waitFor(interrupted.appendingPathComponent("progress.csv"))
        Thread.sleep(forTimeInterval: 0.5)
        try #require(process.isRunning, "training finished before the interrupt: the test did not test one")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let message = try String(contentsOf: log, encoding: .utf8)
        #expect(process.terminationStatus == 130, "\(message)")
        #expect(
            message.contains("interrupted at step ")
                && message.contains("continue with: gauntlet train --resume \(interrupted.path)"))
        #expect(FileManager.default.fileExists(atPath: interrupted.appendingPathComponent("checkpoint.safetensors").path))

        let finish = try runGauntlet(["train", "--resume", interrupted.path])
        #expect(finish.status == 0, "\(finish.standardError)")
        let a = try PolicyFile.load(contentsOf: straight.appendingPathComponent("policy.safetensors"))
        let b = try PolicyFile.load(contentsOf: interrupted.appendingPathComponent("policy.safetensors"))
        #expect(a.network == b.network)
    }

    @Test func resumingBeforeTheFirstCheckpointSaysHowToStartOver() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-early-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("c.yaml")
        try Self.config.write(to: config, atomically: true, encoding: .utf8)
        let run = directory.appendingPathComponent("run")
        let process = try startGauntlet(
            ["train", "--config", config.path, "--seed", "3", "--output", run.path],
            standardError: directory.appendingPathComponent("stderr.txt"))
        waitFor(run.appendingPathComponent("progress.csv"))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let resume = try runGauntlet(["train", "--resume", run.path])
        #expect(resume.status == 2)
        #expect(
            resume.standardError.contains("no checkpoint was written yet")
                && resume.standardError.contains("gauntlet train --config \(run.path)/config.yaml --seed 3 --output \(run.path)"),
            "\(resume.standardError)")
        // The command it prints starts the run over.
        #expect(
            try runGauntlet(["train", "--config", "\(run.path)/config.yaml", "--seed", "3", "--output", run.path, "--json"])
                .status == 0)
    }
}

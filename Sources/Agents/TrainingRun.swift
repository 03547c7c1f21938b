import Environments
import Foundation
import Linalg
import NeuralNet

/// Progress of a training run, reported after every unit of training.
public struct TrainingProgress: Sendable {
    public var steps: Int
    public var totalSteps: Int
    public var episodes: Int
    /// Mean return of the last 100 finished episodes (NaN before the first).
    public var meanReturn: Double
    public var stepsPerSecond: Double
    public var updates: Int
}

/// The outcome of a finished run (`gauntlet train --json`).
public struct TrainingSummary: Sendable, Codable {
    public var environment: String
    public var algorithm: String
    public var seed: UInt64
    public var precision: Precision
    public var steps: Int
    public var updates: Int
    public var episodes: Int
    public var meanReturnLast100: Double
    public var wallSeconds: Double
    public var policy: String
    public var configHash: String
}

/// A training run in a directory: `config.yaml` (the config as given), `run.json` (seed and
/// precision), `checkpoint.safetensors` (written atomically every `checkpoint_interval` steps
/// and at the end), `progress.csv` (training curves), `policy.safetensors` (the final policy)
/// and `summary.json`. `resume(directory:)` continues from the last checkpoint; for the same
/// seed the final weights are bit-identical to an uninterrupted run.
public final class TrainingRun<Scalar: BLASScalar> {
    public let config: TrainingConfig
    public let directory: URL
    public let seed: UInt64
    public let learner: any Learner<Scalar>
    /// What the learner was assembled from.
    public let components: TrainingComponents
    public private(set) var wallSeconds = 0.0
    /// The OpenBLAS kernels the run has computed with, in order (`BLAS.coreName`; a checkpoint
    /// from before they were recorded contributes none). Weights are bit for bit an uninterrupted
    /// run's only where one kernel ran throughout; the policy's provenance lists them all.
    public private(set) var blasKernels = [BLAS.coreName]
    /// Set when this process resumed a run on another kernel than its checkpoint's: what happened,
    /// and how to resume on the recorded one instead (the CLI prints it).
    public private(set) var kernelChange: String?

    struct RunInfo: Codable {
        var seed: UInt64
        var precision: Precision
        var gauntletVersion: String
    }

    static var precision: Precision { Precision(of: Scalar.self) }

    /// Starts a new run in `directory` (created if needed; an existing checkpoint there is an
    /// error — resume it or choose another directory). `components` make the environment and
    /// the robust-training method (`Toolkit.standard.training` has Gauntlet's).
    public init(
        config: TrainingConfig, directory: URL, seed: UInt64? = nil, components: TrainingComponents = TrainingComponents()
    ) throws(TrainingError) {
        let seed = seed ?? config.seed
        let fm = FileManager.default
        if fm.fileExists(atPath: directory.appendingPathComponent("checkpoint.safetensors").path) {
            throw TrainingError("\(directory.path) already holds a run; resume it with --resume or choose another --output")
        }
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(config.text.utf8).write(to: directory.appendingPathComponent("config.yaml"), options: .atomic)
            let info = RunInfo(seed: seed, precision: Self.precision, gauntletVersion: Gauntlet.version)
            try JSONEncoder.gauntlet().encode(info).write(to: directory.appendingPathComponent("run.json"), options: .atomic)
            try Data((Self.csvHeader(config, components: components) + "\n").utf8).write(
                to: directory.appendingPathComponent("progress.csv"), options: .atomic)
        } catch {
            throw TrainingError("cannot write the run directory \(directory.path): \(error.localizedDescription)")
        }
        self.config = config
        self.directory = directory
        self.seed = seed
        self.components = components
        learner = try Self.makeLearner(config, seed: seed, components: components, checkpoint: nil)
    }

    /// Continues the run in `directory` from its last checkpoint.
    public convenience init(resuming directory: URL, components: TrainingComponents = TrainingComponents())
        throws(TrainingError)
    {
        try self.init(lastCheckpointIn: directory, components: components, toResume: true)
        try truncateLog(toSteps: learner.steps)
    }

    /// The run in `directory` as its last checkpoint left it, its files untouched; `toResume`
    /// words the errors for continuing it (with what to do instead) rather than for reading it.
    private init(lastCheckpointIn directory: URL, components: TrainingComponents, toResume: Bool) throws(TrainingError) {
        let cannot = toResume ? "cannot resume \(directory.path)" : "cannot read the run in \(directory.path)"
        let info = try Self.info(directory, cannot: cannot)
        let config: TrainingConfig
        do {
            config = try TrainingConfig(
                contentsOf: directory.appendingPathComponent("config.yaml"), robustMethods: components.robustMethods)
        } catch {
            throw TrainingError("\(cannot): \(error.description)")
        }
        guard info.precision == Self.precision else {
            throw TrainingError(
                "the run in \(directory.path) computes in \(info.precision.rawValue); resume it with --precision \(info.precision.rawValue)"
            )
        }
        let checkpointURL = directory.appendingPathComponent("checkpoint.safetensors")
        guard FileManager.default.fileExists(atPath: checkpointURL.path) else {
            guard toResume else {
                throw TrainingError("\(cannot): no checkpoint yet (one is written every \(config.checkpointInterval) steps)")
            }
            throw TrainingError(
                "\(cannot): no checkpoint was written yet (the run stopped before its first one, due every \(config.checkpointInterval) steps); start it again with: gauntlet train --config \(directory.appendingPathComponent("config.yaml").path) --seed \(info.seed) --output \(directory.path)\(info.precision == .f32 ? "" : " --precision \(info.precision.rawValue)")"
            )
        }
        let checkpoint: CheckpointReader
        do { checkpoint = try CheckpointReader(contentsOf: checkpointURL) } catch {
            throw TrainingError("\(cannot): \(error.description)")
        }
        self.config = config
        self.directory = directory
        self.seed = info.seed
        self.components = components
        learner = try Self.makeLearner(config, seed: info.seed, components: components, checkpoint: checkpoint)
        wallSeconds = (try? checkpoint.float64("run.wall_seconds", count: 1)[0]) ?? 0
        // This process's kernel joins the list once it computes a step (`run`).
        let recorded = (try? checkpoint.json("run.blas_kernels", as: [String].self)) ?? []
        blasKernels = recorded.isEmpty ? [BLAS.coreName] : recorded
        if let last = recorded.last, last != BLAS.coreName, toResume, !learner.isFinished {
            kernelChange =
                "the run computed with OpenBLAS's \(last) kernel and this process has \(BLAS.coreName): its weights will differ in the last bits from an uninterrupted run's (the policy's provenance records both). To keep \(last), interrupt and resume with OPENBLAS_CORETYPE=\(last) (the CPU must support it)."
        }
    }

    /// The policy of the run in `directory` at its last checkpoint — while it trains, or after it
    /// stopped — as the policy file it would write if it ended there (provenance `steps` says
    /// where; `snapshot` says it is one). The run's files are left as they are. Any `Scalar` will
    /// do: the run's own precision is read from its `run.json`.
    public static func snapshot(ofRunIn directory: URL, components: TrainingComponents = TrainingComponents())
        throws(TrainingError) -> PolicyFile
    {
        switch try info(directory, cannot: "cannot read the run in \(directory.path)").precision {
        case .f32:
            try TrainingRun<Float>(lastCheckpointIn: directory, components: components, toResume: false).policyFile(
                snapshot: true)
        case .f64:
            try TrainingRun<Double>(lastCheckpointIn: directory, components: components, toResume: false).policyFile(
                snapshot: true)
        }
    }

    private static func info(_ directory: URL, cannot: String) throws(TrainingError) -> RunInfo {
        do {
            return try JSONDecoder.gauntlet().decode(
                RunInfo.self, from: Data(contentsOf: directory.appendingPathComponent("run.json")))
        } catch {
            throw TrainingError("\(cannot): no readable run.json (\(error.localizedDescription))")
        }
    }

    static func makeLearner(
        _ config: TrainingConfig, seed: UInt64, components: TrainingComponents,
        checkpoint: CheckpointReader?
    ) throws(TrainingError) -> any Learner<Scalar> {
        HeapRetention.enable()  // a training step's temporaries would otherwise be faulted in afresh every step
        let id = config.environment
        switch config.algorithm {
        case .dqn(let c):
            if let checkpoint {
                return try DQN<Scalar>(config: c, environment: id, seed: seed, components: components, resuming: checkpoint)
            }
            return try DQN<Scalar>(config: c, environment: id, seed: seed, components: components)
        case .ppo(let c):
            if let checkpoint {
                return try PPO<Scalar>(config: c, environment: id, seed: seed, components: components, resuming: checkpoint)
            }
            return try PPO<Scalar>(config: c, environment: id, seed: seed, components: components)
        case .td3(let c):
            if let checkpoint {
                return try TD3<Scalar>(config: c, environment: id, seed: seed, components: components, resuming: checkpoint)
            }
            return try TD3<Scalar>(config: c, environment: id, seed: seed, components: components)
        case .sac(let c):
            if let checkpoint {
                return try SAC<Scalar>(config: c, environment: id, seed: seed, components: components, resuming: checkpoint)
            }
            return try SAC<Scalar>(config: c, environment: id, seed: seed, components: components)
        }
    }

    /// Diagnostics logged per algorithm and robust-training method, in a fixed order so the
    /// CSV has fixed columns.
    static func diagnosticNames(_ config: TrainingConfig, components: TrainingComponents) -> [String] {
        let learner: [String] =
            switch config.algorithm {
            case .dqn: ["losses/td_loss", "rollout/exploration_rate"]
            case .ppo:
                [
                    "losses/policy_gradient_loss", "losses/value_loss", "losses/entropy_loss", "losses/approx_kl",
                    "losses/clip_fraction", "train/learning_rate", "train/clip_range", "train/std",
                ]
            case .td3: ["losses/critic_loss", "losses/actor_loss"]
            case .sac: ["losses/critic_loss", "losses/actor_loss", "losses/ent_coef_loss", "train/ent_coef"]
            }
        return learner + (config.robust.flatMap { components.robustMethod(named: $0.method)?.diagnostics } ?? [])
    }

    static func csvHeader(_ config: TrainingConfig, components: TrainingComponents) -> String {
        (["time/steps", "time/episodes", "rollout/ep_rew_mean", "time/fps", "train/updates"]
            + diagnosticNames(config, components: components))
            .joined(separator: ",")
    }

    /// Keeps the log rows up to `steps` (a resumed run rewrites the rows after its checkpoint).
    private func truncateLog(toSteps steps: Int) throws(TrainingError) {
        let url = directory.appendingPathComponent("progress.csv")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return }
        let kept = text.split(separator: "\n").enumerated().filter { index, line in
            index == 0 || (Int(line.split(separator: ",").first ?? "") ?? .max) <= steps
        }.map(\.element)
        do { try Data((kept.joined(separator: "\n") + "\n").utf8).write(to: url, options: .atomic) } catch {
            throw TrainingError("cannot rewrite \(url.path): \(error.localizedDescription)")
        }
    }

    /// Trains until the configured number of steps (or `maximumUnits` units, for tests that
    /// interrupt a run), logging and checkpointing on the way; returns the summary when finished.
    /// `shouldStop` is asked after every unit (a rollout and its update, or an environment
    /// step): when it says yes the run writes a checkpoint at that point and returns nil, and
    /// `resume` continues it bit for bit.
    @discardableResult
    public func run(
        maximumUnits: Int? = nil, shouldStop: () -> Bool = { false }, progress: (TrainingProgress) -> Void = { _ in }
    ) throws(TrainingError) -> TrainingSummary? {
        let csv: FileHandle
        do { csv = try FileHandle(forWritingTo: directory.appendingPathComponent("progress.csv")) } catch {
            throw TrainingError("cannot open progress.csv: \(error.localizedDescription)")
        }
        defer { try? csv.close() }
        _ = try? csv.seekToEnd()
        var nextLog = (learner.steps / config.logInterval + 1) * config.logInterval
        var nextCheckpoint = (learner.steps / config.checkpointInterval + 1) * config.checkpointInterval
        var units = 0
        var windowStart = (DispatchTime.now().uptimeNanoseconds, learner.steps)
        var speed = 0.0
        if !learner.isFinished, blasKernels.last != BLAS.coreName { blasKernels.append(BLAS.coreName) }
        while !learner.isFinished && units < (maximumUnits ?? .max) {
            let unitStart = DispatchTime.now().uptimeNanoseconds
            try learner.advance()
            wallSeconds += Double(DispatchTime.now().uptimeNanoseconds - unitStart) / 1e9
            units += 1
            let now = DispatchTime.now().uptimeNanoseconds
            if now - windowStart.0 > 500_000_000 || learner.isFinished {
                speed = Double(learner.steps - windowStart.1) / (Double(now - windowStart.0) / 1e9)
                windowStart = (now, learner.steps)
            }
            let statistics = learner.environment.statistics
            let report = TrainingProgress(
                steps: learner.steps, totalSteps: learner.totalSteps, episodes: statistics.completed.count,
                meanReturn: statistics.meanRecentReturn(), stepsPerSecond: speed, updates: learner.updates)
            if learner.steps >= nextLog || learner.isFinished {
                let diagnostics = Self.diagnosticNames(config, components: components).map {
                    learner.diagnostics[$0].map { "\($0)" } ?? ""
                }
                let row =
                    [
                        "\(report.steps)", "\(report.episodes)", report.meanReturn.isNaN ? "" : "\(report.meanReturn)",
                        String(format: "%.0f", report.stepsPerSecond), "\(report.updates)",
                    ] + diagnostics
                csv.write(Data((row.joined(separator: ",") + "\n").utf8))
                nextLog = (learner.steps / config.logInterval + 1) * config.logInterval
            }
            if learner.steps >= nextCheckpoint || learner.isFinished {
                try writeCheckpoint()
                nextCheckpoint = (learner.steps / config.checkpointInterval + 1) * config.checkpointInterval
            }
            progress(report)
            if !learner.isFinished, shouldStop() {
                try writeCheckpoint()
                return nil
            }
        }
        guard learner.isFinished else { return nil }
        return try finish()
    }

    /// Writes the checkpoint atomically.
    public func writeCheckpoint() throws(TrainingError) {
        var writer = CheckpointWriter()
        learner.writeCheckpoint(to: &writer)
        writer.put("run.wall_seconds", [wallSeconds])
        writer.putJSON("run.blas_kernels", blasKernels)
        do { try writer.write(to: directory.appendingPathComponent("checkpoint.safetensors")) } catch {
            throw TrainingError("cannot write the checkpoint: \(error.description)")
        }
    }

    /// The learner's policy as a file, with the run's provenance and training settings.
    private func policyFile(snapshot: Bool = false) -> PolicyFile {
        var provenance = [
            "seed": "\(seed)", "config_hash": config.hash, "gauntlet_version": Gauntlet.version, "steps": "\(learner.steps)",
            "training_precision": Self.precision.rawValue, "trained": ISO8601DateFormatter().string(from: Date()),
            "blas_kernel": blasKernels.joined(separator: ", "),
            "training_mean_return_last_100": "\(learner.environment.statistics.meanRecentReturn())",
        ]
        if snapshot { provenance["snapshot"] = "checkpoint at step \(learner.steps) of \(learner.totalSteps)" }
        var file = learner.policy().file(
            environment: config.environment, algorithm: config.algorithm.name, provenance: provenance)
        // The settings it was trained with: the config's, with the seed the run used (`--seed`).
        file.description.training = config.settings.merging(["seed": .number(Double(seed))]) { $1 }
        return file
    }

    private func finish() throws(TrainingError) -> TrainingSummary {
        let statistics = learner.environment.statistics
        let policyURL = directory.appendingPathComponent("policy.safetensors")
        do { try policyFile().write(to: policyURL) } catch {
            throw TrainingError("cannot write the policy: \(error.description)")
        }
        for (name, companion) in learner.companionPolicies(victim: policyURL.path) {
            do { try companion.write(to: directory.appendingPathComponent("\(name).safetensors")) } catch {
                throw TrainingError("cannot write the \(name) policy: \(error.description)")
            }
        }
        let summary = TrainingSummary(
            environment: config.environment, algorithm: config.algorithm.name, seed: seed, precision: Self.precision,
            steps: learner.steps,
            updates: learner.updates, episodes: statistics.completed.count, meanReturnLast100: statistics.meanRecentReturn(),
            wallSeconds: wallSeconds, policy: policyURL.path, configHash: config.hash)
        try? JSONEncoder.gauntlet(pretty: true).encode(summary).write(
            to: directory.appendingPathComponent("summary.json"), options: .atomic)
        return summary
    }
}

/// Gauntlet's version, recorded in policy provenance and runs.
public enum Gauntlet {
    public static let version = "0.1.0"
}

import Agents
import Defenses
import Evaluation
import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

/// Interrupting a run after some units and resuming it from its checkpoint ends with weights
/// bit-identical to an uninterrupted run of the same seed.
@Suite struct ResumeTests {
    static let ddpg = """
        env: Pendulum-v1
        algorithm: ddpg
        n_timesteps: 800
        net_arch: [16]
        learning_starts: 200
        batch_size: 16
        train_freq: episode
        gradient_steps: -1
        noise_std: 0.1
        checkpoint_interval: 300
        """
    static let configs: [(String, String)] = [
        (
            "dqn",
            """
            env: CartPole-v1
            algorithm: dqn
            n_timesteps: 3000
            net_arch: [32, 32]
            learning_starts: 500
            train_freq: 16
            gradient_steps: 8
            target_update_interval: 100
            batch_size: 32
            buffer_size: 5000
            checkpoint_interval: 700
            """
        ),
        (
            // A convolutional network on MinAtar's Breakout (its game state and NumPy stream resume),
            // with centred RMSProp and momentum (its running averages and buffer resume).
            "dqn-minatar",
            """
            env: MinAtar/Breakout-v1
            algorithm: dqn
            n_timesteps: 400
            features: minatar
            net_arch: [16]
            optimizer: centered_rmsprop
            rmsprop_alpha: 0.95
            optimizer_eps: 0.01
            rmsprop_momentum: 0.95
            max_grad_norm: 0
            learning_starts: 100
            train_freq: 4
            target_update_interval: 100
            batch_size: 8
            buffer_size: 1000
            checkpoint_interval: 150
            """
        ),
        (
            "ppo",
            """
            env: Pendulum-v1
            algorithm: ppo
            n_timesteps: 2048
            n_envs: 4
            n_steps: 64
            batch_size: 64
            n_epochs: 3
            net_arch: [16, 16]
            normalize: true
            learning_rate: lin_0.0003
            checkpoint_interval: 500
            """
        ),
        (
            "ppo-hopper",  // MuJoCo, with observation and reward normalisation
            """
            env: Hopper-v5
            algorithm: ppo
            n_timesteps: 1024
            n_envs: 2
            n_steps: 64
            batch_size: 64
            n_epochs: 2
            net_arch: [16]
            normalize: true
            normalize_reward: true
            checkpoint_interval: 300
            """
        ),
        (
            "sac",
            """
            env: Pendulum-v1
            algorithm: sac
            n_timesteps: 600
            learning_starts: 100
            batch_size: 16
            net_arch: [8]
            checkpoint_interval: 250
            """
        ),
        (
            "td3",
            """
            env: MountainCarContinuous-v0
            algorithm: td3
            n_timesteps: 1500
            net_arch: [32, 32]
            learning_starts: 300
            batch_size: 32
            noise_type: ornstein-uhlenbeck
            noise_std: 0.5
            checkpoint_interval: 400
            """
        ),
        ("ddpg", ddpg),
        (
            "ddpg-sa",
            ddpg + """

                robust_method: sa
                robust_eps: 0.1
                robust_eps_start: 0
                robust_steps: 2
                robust_kappa: 1
                """
        ),
        (
            "ddpg-adversarial",
            ddpg + """

                robust_method: adversarial
                robust_eps: 0.1
                robust_eps_start: 0
                robust_steps: 2
                """
        ),
        (
            "dqn-sa",
            """
            env: CartPole-v1
            algorithm: dqn
            n_timesteps: 1500
            net_arch: [16, 16]
            learning_starts: 300
            train_freq: 16
            gradient_steps: 4
            target_update_interval: 100
            batch_size: 16
            robust_method: sa
            robust_eps: 0.05
            robust_eps_start: 0
            robust_steps: 3
            checkpoint_interval: 500
            """
        ),
        (
            "ppo-adversarial",
            """
            env: CartPole-v1
            algorithm: ppo
            n_timesteps: 1024
            n_envs: 4
            n_steps: 32
            batch_size: 64
            n_epochs: 2
            net_arch: [16]
            robust_method: adversarial
            robust_eps: 0.1
            robust_eps_start: 0
            robust_steps: 2
            checkpoint_interval: 300
            """
        ),
        (
            "ppo-atla",
            """
            env: CartPole-v1
            algorithm: ppo
            n_timesteps: 1536
            n_envs: 4
            n_steps: 32
            batch_size: 64
            n_epochs: 2
            net_arch: [16]
            robust_method: atla
            robust_eps: 0.1
            robust_eps_start: 0
            robust_victim_updates: 2
            robust_adversary_updates: 3
            checkpoint_interval: 300
            """
        ),
        (
            "ppo-sa",
            """
            env: Pendulum-v1
            algorithm: ppo
            n_timesteps: 1024
            n_envs: 4
            n_steps: 64
            batch_size: 64
            n_epochs: 2
            net_arch: [16]
            normalize: true
            robust_method: sa
            robust_eps: 0.1
            robust_eps_start: 0
            robust_steps: 2
            robust_kappa: 1
            checkpoint_interval: 300
            """
        ),
        (
            "ppo-wocar",
            """
            env: Pendulum-v1
            algorithm: ppo
            n_timesteps: 1024
            n_envs: 4
            n_steps: 64
            batch_size: 64
            n_epochs: 2
            net_arch: [16]
            normalize: true
            normalize_reward: true
            robust_method: wocar
            robust_eps: 0.1
            robust_eps_units: normalized
            robust_eps_start: 0
            robust_steps: 2
            robust_worst_case_epochs: 2
            checkpoint_interval: 300
            """
        ),
        (
            "ppo-sa-ibp",
            """
            env: Pendulum-v1
            algorithm: ppo
            n_timesteps: 1024
            n_envs: 4
            n_steps: 64
            batch_size: 64
            n_epochs: 2
            net_arch: [16]
            normalize: true
            robust_method: sa
            robust_bound: ibp
            robust_eps: 0.1
            robust_eps_units: normalized
            robust_eps_start: 0
            robust_kappa: 1
            checkpoint_interval: 300
            """
        ),
    ]

    func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-resume-\(UUID())")
    }

    @Test(arguments: configs.map(\.0))
    func resumedRunEndsBitIdentical(_ name: String) throws {
        let yaml = Self.configs.first { $0.0 == name }!.1
        let config = try TrainingConfig(yaml: yaml, file: "\(name).yaml", robustMethods: Toolkit.standard.robustMethods)
        let straight = temporaryDirectory()
        let interrupted = temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: straight)
            try? FileManager.default.removeItem(at: interrupted)
        }
        let uninterrupted = try #require(
            try TrainingRun<Float>(config: config, directory: straight, seed: 7, components: Toolkit.standard.training).run())

        let first = try TrainingRun<Float>(config: config, directory: interrupted, seed: 7, components: Toolkit.standard.training)
        #expect(try first.run(maximumUnits: 3) == nil)
        try first.writeCheckpoint()
        let stepsAtInterruption = first.learner.steps
        let resumed = try TrainingRun<Float>(resuming: interrupted, components: Toolkit.standard.training)
        #expect(resumed.learner.steps == stepsAtInterruption && stepsAtInterruption > 0)
        let finished = try #require(try resumed.run())
        #expect(finished.steps == uninterrupted.steps && finished.updates == uninterrupted.updates)

        let a = try Data(contentsOf: straight.appendingPathComponent("checkpoint.safetensors"))
        let b = try Data(contentsOf: interrupted.appendingPathComponent("checkpoint.safetensors"))
        var left = try Safetensors(data: a)
        var right = try Safetensors(data: b)
        left.tensors["run.wall_seconds"] = nil
        right.tensors["run.wall_seconds"] = nil
        #expect(left == right, "\(name): checkpoints after resuming differ")
        let policyA = try PolicyFile.load(contentsOf: straight.appendingPathComponent("policy.safetensors"))
        let policyB = try PolicyFile.load(contentsOf: interrupted.appendingPathComponent("policy.safetensors"))
        #expect(policyA.network == policyB.network && policyA.extraTensors == policyB.extraTensors)
        if name == "dqn-minatar" {  // the optimiser the config names, with both running averages
            #expect(left.tensors["rmsprop.gradient_average"] != nil && left.tensors["rmsprop.momentum_buffer"] != nil)
            #expect(left.tensors["adam.m"] == nil)
        }
        if name == "ppo-atla" {  // the learned adversary resumes too
            #expect(left.tensors["atla.adversary.actor"] != nil)
            let adversaryA = try PolicyFile.load(contentsOf: straight.appendingPathComponent("adversary.safetensors"))
            let adversaryB = try PolicyFile.load(contentsOf: interrupted.appendingPathComponent("adversary.safetensors"))
            #expect(adversaryA.network == adversaryB.network)
        }
    }

    /// A run resumed on the kernel its checkpoint computed with says nothing and records that one
    /// kernel; resumed on another it says so, naming the way back (`OPENBLAS_CORETYPE`), and its
    /// policy's provenance lists both. (Another kernel is simulated by rewriting the checkpoint's
    /// record: one machine has one.)
    @Test func aResumeOnAnotherBLASKernelIsReportedAndRecorded() throws {
        let config = try TrainingConfig(
            yaml: Self.configs.first { $0.0 == "ppo" }!.1, file: "ppo.yaml", robustMethods: Toolkit.standard.robustMethods)
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try TrainingRun<Float>(config: config, directory: directory, seed: 2, components: Toolkit.standard.training)
        try first.run(maximumUnits: 1)
        try first.writeCheckpoint()
        let same = try TrainingRun<Float>(resuming: directory, components: Toolkit.standard.training)
        #expect(same.kernelChange == nil && same.blasKernels == [BLAS.coreName])

        let url = directory.appendingPathComponent("checkpoint.safetensors")
        var checkpoint = try Safetensors.read(contentsOf: url)
        #expect(checkpoint.metadata["run.blas_kernels"] == "[\"\(BLAS.coreName)\"]")
        checkpoint.metadata["run.blas_kernels"] = "[\"Elsewhere\"]"
        try checkpoint.write(to: url)
        let moved = try TrainingRun<Float>(resuming: directory, components: Toolkit.standard.training)
        #expect(moved.blasKernels == ["Elsewhere"])  // until it computes
        let change = try #require(moved.kernelChange)
        #expect(change.contains("Elsewhere kernel and this process has \(BLAS.coreName)"))
        #expect(change.contains("OPENBLAS_CORETYPE=Elsewhere"))
        _ = try #require(try moved.run())
        let policy = try PolicyFile.load(contentsOf: directory.appendingPathComponent("policy.safetensors"))
        #expect(policy.description.provenance["blas_kernel"] == "Elsewhere, \(BLAS.coreName)")
    }

    /// The Float64 reference precision trains, checkpoints in Float64 and resumes exactly too.
    @Test func float64RunsResumeBitIdentical() throws {
        let yaml = Self.configs.first { $0.0 == "ppo" }!.1
        let config = try TrainingConfig(yaml: yaml, file: "ppo.yaml", robustMethods: Toolkit.standard.robustMethods)
        let straight = temporaryDirectory()
        let interrupted = temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: straight)
            try? FileManager.default.removeItem(at: interrupted)
        }
        try TrainingRun<Double>(config: config, directory: straight, seed: 3, components: Toolkit.standard.training).run()
        let first = try TrainingRun<Double>(
            config: config, directory: interrupted, seed: 3, components: Toolkit.standard.training)
        try first.run(maximumUnits: 2)
        try first.writeCheckpoint()
        try TrainingRun<Double>(resuming: interrupted, components: Toolkit.standard.training).run()
        let a = try Safetensors(data: Data(contentsOf: straight.appendingPathComponent("checkpoint.safetensors")))
        let b = try Safetensors(data: Data(contentsOf: interrupted.appendingPathComponent("checkpoint.safetensors")))
        #expect(a.tensors["actor"]?.dtype == "F64")
        #expect(
            a.tensors["actor"] == b.tensors["actor"] && a.tensors["critic"] == b.tensors["critic"]
                && a.tensors["log_std"] == b.tensors["log_std"])
    }

    /// A snapshot is the policy at the run's last checkpoint — not the learner's later state —
    /// and leaves the run's files as they were (a resume would cut the log back to the checkpoint);
    /// it reads a Float64 run too, and a finished run's snapshot is its final policy.
    @Test func snapshotIsThePolicyAtTheLastCheckpoint() throws {
        let yaml = Self.configs.first { $0.0 == "ppo" }!.1 + "\nlog_interval: 256\n"
        let config = try TrainingConfig(yaml: yaml, file: "ppo.yaml", robustMethods: Toolkit.standard.robustMethods)
        let directory = temporaryDirectory()
        let float64 = temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: directory)
            try? FileManager.default.removeItem(at: float64)
        }
        #expect { try TrainingRun<Float>.snapshot(ofRunIn: directory) } throws: { "\($0)".contains("no readable run.json") }
        let run = try TrainingRun<Float>(config: config, directory: directory, seed: 4, components: Toolkit.standard.training)
        #expect { try TrainingRun<Float>.snapshot(ofRunIn: directory, components: Toolkit.standard.training) } throws: {
            "\($0)".contains("cannot read the run in \(directory.path): no checkpoint yet (one is written every 500 steps)")
        }
        try run.run(maximumUnits: 2)
        try run.writeCheckpoint()
        let atCheckpoint = run.learner.policy().network
        let checkpointSteps = run.learner.steps
        try run.run(maximumUnits: 1)  // logged past the checkpoint (the next is due at step 1000)
        let files = ["progress.csv", "checkpoint.safetensors", "config.yaml", "run.json"]
        let before = try files.map { try Data(contentsOf: directory.appendingPathComponent($0)) }

        let snapshot = try TrainingRun<Float>.snapshot(ofRunIn: directory, components: Toolkit.standard.training)
        #expect(snapshot.network == atCheckpoint && snapshot.network != run.learner.policy().network)
        #expect(snapshot.description.provenance["steps"] == "\(checkpointSteps)")
        #expect(snapshot.description.provenance["snapshot"] == "checkpoint at step \(checkpointSteps) of 2048")
        #expect(snapshot.description.normalization != nil && snapshot.description.training?["seed"] == .number(4))
        #expect(try files.map { try Data(contentsOf: directory.appendingPathComponent($0)) } == before)

        try TrainingRun<Double>(config: config, directory: float64, seed: 4, components: Toolkit.standard.training).run()
        let finished = try TrainingRun<Float>.snapshot(ofRunIn: float64, components: Toolkit.standard.training)
        let final = try PolicyFile.load(contentsOf: float64.appendingPathComponent("policy.safetensors"))
        #expect(finished.network == final.network && finished.description.provenance["training_precision"] == "f64")
    }

    @Test func sameSeedSameWeightsDifferentSeedDifferentWeights() throws {
        let config = try TrainingConfig(yaml: Self.configs[0].1, file: "dqn.yaml", robustMethods: Toolkit.standard.robustMethods)
        let directories = (0..<3).map { _ in temporaryDirectory() }
        defer { for d in directories { try? FileManager.default.removeItem(at: d) } }
        for (d, seed) in zip(directories, [1, 1, 2] as [UInt64]) {
            try TrainingRun<Float>(config: config, directory: d, seed: seed, components: Toolkit.standard.training).run()
        }
        let networks = try directories.map {
            try PolicyFile.load(contentsOf: $0.appendingPathComponent("policy.safetensors")).network
        }
        #expect(networks[0] == networks[1])
        #expect(networks[0] != networks[2])
    }

    /// `init_policy`: a run starts from the file's Q-network (online and target), refuses a file
    /// of other modules or of another kind, and a resumed run does not need the file any more.
    @Test func dqnStartsFromItsInitialPolicy() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let yaml = Self.configs[0].1
        let plain = try TrainingConfig(yaml: yaml, file: "dqn.yaml")
        guard case .dqn(var dqn) = plain.algorithm else {
            Issue.record("not a DQN config")
            return
        }
        let source = try DQN<Float>(config: dqn, environment: "CartPole-v1", seed: 1)
        let path = directory.appendingPathComponent("start.safetensors")
        try source.policy().file(environment: "CartPole-v1", algorithm: "dqn", provenance: [:]).write(to: path)

        let random = dqn
        dqn.initialPolicy = path.path
        let started = try DQN<Float>(config: dqn, environment: "CartPole-v1", seed: 2)
        let fresh = try DQN<Float>(config: random, environment: "CartPole-v1", seed: 2)
        #expect(started.online.parameters == source.online.parameters)
        #expect(started.target.parameters == source.online.parameters)
        #expect(fresh.online.parameters != source.online.parameters)

        var narrower = dqn
        narrower.hidden = [16]
        #expect { try DQN<Float>(config: narrower, environment: "CartPole-v1", seed: 2) } throws: {
            "\($0)".contains(
                "its network is Linear(4, 32) → relu → Linear(32, 32) → relu → Linear(32, 2); this config's is Linear(4, 16) → relu → Linear(16, 2)"
            )
        }
        var policy = source.policy()
        policy.kind = .categorical
        let ppoPath = directory.appendingPathComponent("categorical.safetensors")
        try policy.file(environment: "CartPole-v1", algorithm: "ppo", provenance: [:]).write(to: ppoPath)
        var wrongKind = dqn
        wrongKind.initialPolicy = ppoPath.path
        #expect { try DQN<Float>(config: wrongKind, environment: "CartPole-v1", seed: 2) } throws: {
            "\($0)".contains("a categorical policy, but this run trains a greedy-q one")
        }

        let (config, run, resumed) = try Self.resumedWithoutInitialPolicy(yaml, path: path, in: directory)
        #expect(resumed.learner.steps == run.learner.steps)
        #expect(config.settings["init_policy"] == .string(path.path))
    }

    /// PPO's `init_policy`: the run starts from the file's actor, log σ, critic and observation
    /// scaling — its policy acts exactly as the file's — keeps the scaling fixed while it trains,
    /// refuses a file that does not fit the config, and a resumed run does not need the file.
    @Test func ppoStartsFromItsInitialPolicy() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let yaml = Self.configs[2].1
        guard case .ppo(var ppo) = try TrainingConfig(yaml: yaml, file: "ppo.yaml").algorithm else {
            Issue.record("not a PPO config")
            return
        }
        let source = try PPO<Float>(config: ppo, environment: "Pendulum-v1", seed: 1)
        try source.advance()  // trained statistics and weights, not the initial ones
        let path = directory.appendingPathComponent("start.safetensors")
        try source.policy().file(environment: "Pendulum-v1", algorithm: "ppo", provenance: [:]).write(to: path)

        ppo.initialPolicy = path.path
        let started = try PPO<Float>(config: ppo, environment: "Pendulum-v1", seed: 2)
        #expect(started.actor.parameters == source.actor.parameters && started.logStd == source.logStd)
        #expect(started.critic.parameters == source.critic.parameters)
        let observations = Matrix<Float>(
            rows: 5, columns: 3, storage: (0..<15).map { Float(($0 * 37) % 11) / 3 - 1.5 })
        #expect(started.policy().outputs(observations) == source.policy().outputs(observations))
        let scaling = try #require(started.policy().scaling)
        #expect(scaling == source.policy().scaling)
        try started.advance()
        #expect(started.policy().scaling == scaling)
        #expect(started.actor.parameters != source.actor.parameters)

        func refusal(_ change: (inout PPOConfig) -> Void) -> String {
            var config = ppo
            change(&config)
            do {
                _ = try PPO<Float>(config: config, environment: "Pendulum-v1", seed: 2)
                return "accepted"
            } catch { return error.description }
        }
        #expect(
            refusal { $0.normalizeObservations = false }.contains("the policy scales its observations, but this config does not"))
        #expect(
            refusal { $0.hidden = [8] }.contains(
                "its network is Linear(3, 16) → tanh → Linear(16, 16) → tanh → Linear(16, 1); this config's is Linear(3, 8) → tanh → Linear(8, 1)"
            ))
        #expect(
            refusal { $0.criticHidden = [8] }.contains(
                "its critic is Linear(3, 16) → tanh → Linear(16, 16) → tanh → Linear(16, 1)"))
        let elsewhere = directory.appendingPathComponent("elsewhere.safetensors")
        try source.policy().file(environment: "InvertedPendulum-v5", algorithm: "ppo", provenance: [:]).write(to: elsewhere)
        #expect(
            refusal { $0.initialPolicy = elsewhere.path }.contains(
                "trained on InvertedPendulum-v5, but this run is on Pendulum-v1"))

        let (_, run, resumed) = try Self.resumedWithoutInitialPolicy(yaml, path: path, in: directory)
        #expect(resumed.learner.steps == run.learner.steps)
        #expect(resumed.learner.policy().network == run.learner.policy().network)
    }

    /// A run of `yaml` with `init_policy: path`, checkpointed after one unit and resumed once the
    /// file is gone.
    static func resumedWithoutInitialPolicy(_ yaml: String, path: URL, in directory: URL) throws -> (
        config: TrainingConfig, run: TrainingRun<Float>, resumed: TrainingRun<Float>
    ) {
        let config = try TrainingConfig(yaml: yaml + "\ninit_policy: \(path.path)\n", file: "config.yaml")
        let runDirectory = directory.appendingPathComponent("run")
        let run = try TrainingRun<Float>(config: config, directory: runDirectory, seed: 2)
        try run.run(maximumUnits: 1)
        try run.writeCheckpoint()
        try FileManager.default.removeItem(at: path)
        return (config, run, try TrainingRun<Float>(resuming: runDirectory))
    }

    @Test func anExistingRunIsNotOverwritten() throws {
        let config = try TrainingConfig(yaml: Self.configs[0].1, file: "dqn.yaml", robustMethods: Toolkit.standard.robustMethods)
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try TrainingRun<Float>(config: config, directory: directory, seed: 1, components: Toolkit.standard.training)
        try run.run(maximumUnits: 1)
        try run.writeCheckpoint()
        #expect(throws: TrainingError.self) {
            try TrainingRun<Float>(config: config, directory: directory, seed: 1, components: Toolkit.standard.training)
        }
        #expect { try TrainingRun<Double>(resuming: directory, components: Toolkit.standard.training) } throws: {
            ($0 as! TrainingError).description.contains("--precision f32")
        }
    }
}

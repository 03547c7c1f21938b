import Agents
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

/// Small budgets that still learn: each asserts a return far above a random policy's (≈ 22 on
/// CartPole), evaluated greedily on fresh seeds.
@Suite(.serialized) struct LearningTests {
    static let ppoConfig = """
        env: CartPole-v1
        algorithm: ppo
        n_timesteps: 20480
        n_envs: 8
        n_steps: 32
        batch_size: 64
        gae_lambda: 0.8
        gamma: 0.98
        n_epochs: 10
        learning_rate: 0.001
        clip_range: 0.2
        net_arch: [64, 64]
        """

    static let dqnConfig = """
        env: CartPole-v1
        algorithm: dqn
        n_timesteps: 15000
        net_arch: [64, 64]
        learning_rate: 1e-3
        batch_size: 64
        buffer_size: 20000
        learning_starts: 1000
        target_update_interval: 250
        train_freq: 4
        gradient_steps: 1
        exploration_fraction: 0.3
        exploration_final_eps: 0.02
        """

    func trainAndEvaluate(_ yaml: String, seed: UInt64) throws -> Double {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-learn-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try TrainingRun<Float>(
            config: TrainingConfig(yaml: yaml, file: "test.yaml", robustMethods: Toolkit.standard.robustMethods),
            directory: directory, seed: seed, components: Toolkit.standard.training)
        let summary = try #require(try run.run())
        let policy = try Policy.load(contentsOf: URL(fileURLWithPath: summary.policy))
        let episodes = try EpisodeRunner(policy: policy, environment: "CartPole-v1").run(episodes: 20, seed: 1000)
        return Statistics.mean(episodes.map(\.episodeReturn))
    }

    @Test func ppoLearnsCartPole() throws {
        let score = try trainAndEvaluate(Self.ppoConfig, seed: 1)
        #expect(score > 200, "PPO reached only \(score)")
    }

    @Test func dqnLearnsCartPole() throws {
        let score = try trainAndEvaluate(Self.dqnConfig, seed: 1)
        #expect(score > 100, "DQN reached only \(score)")
    }
}

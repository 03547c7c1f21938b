import Agents
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

@Suite(.serialized) struct SACTests {
    static func learner() throws -> SAC<Double> {
        var config = SACConfig()
        config.hidden = [8]
        return try SAC<Double>(config: config, environment: "MountainCarContinuous-v0", seed: 0)
    }

    /// Outputs of three rows for a one-dimensional action: μ, then log σ (the last beyond the
    /// clamp at 2, so its gradient must vanish).
    static let outputs = Matrix<Double>(rows: 3, columns: 2, storage: [0.3, -0.5, -1.2, 0.4, 0.8, 3.0])

    /// The log-probability of the squashed sample against its definition, computed here:
    /// `log N(u; μ, σ) − log(1 − tanh(u)² + 10⁻⁶)` with `u = μ + σξ`.
    @Test func logProbabilityIsTheSquashedGaussians() throws {
        let sac = try Self.learner()
        let drawn = sac.sample(Self.outputs, random: RandomStream(seed: 5))
        for r in 0..<3 {
            let mu = Self.outputs[r, 0]
            let sigma = Double.exp(min(max(Self.outputs[r, 1], -20), 2))
            let u = mu + sigma * drawn.noise[r, 0]
            let density = -0.5 * pow((u - mu) / sigma, 2) - Double.log(sigma) - 0.5 * Double.log(2 * Double.pi)
            #expect(abs(drawn.actions[r, 0] - tanh(u)) < 1e-15)
            #expect(abs(drawn.logProbability[r] - (density - Double.log(1 - tanh(u) * tanh(u) + 1e-6))) < 1e-12)
        }
    }

    /// The actor's gradient through the reparameterised sample, `α log π + c(a)` with a linear
    /// `c`, matches central finite differences on every output (ξ held fixed by reseeding).
    @Test func actorGradientMatchesFiniteDifferences() throws {
        let sac = try Self.learner()
        let alpha = 0.7
        let weights = Matrix<Double>(rows: 3, columns: 1, storage: [1.5, -2.0, 0.5])
        func loss(_ outputs: Matrix<Double>) -> Double {
            let drawn = sac.sample(outputs, random: RandomStream(seed: 5))
            return (0..<3).reduce(0) { $0 + alpha * drawn.logProbability[$1] + weights[$1, 0] * drawn.actions[$1, 0] } / 3
        }
        let drawn = sac.sample(Self.outputs, random: RandomStream(seed: 5))
        let analytic = sac.outputGradient(
            outputs: Self.outputs, actions: drawn.actions, noise: drawn.noise, temperature: alpha, actionGradient: weights)
        let numeric = numericalGradient(
            of: { loss(Matrix(rows: 3, columns: 2, storage: $0)) }, at: Self.outputs.storage)
        #expect(maximumRelativeError(analytic.storage, numeric) < 1e-6)
        #expect(analytic[2, 1] == 0)
    }

    /// SAC learns Pendulum in a few thousand steps (random ≈ −1200, SB3's SAC reaches ≈ −150).
    @Test func sacLearnsPendulum() throws {
        let yaml = """
            env: Pendulum-v1
            algorithm: sac
            n_timesteps: 5000
            learning_starts: 300
            batch_size: 32
            net_arch: [32, 32]
            learning_rate: 2e-3
            """
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-sac-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try TrainingRun<Float>(
            config: TrainingConfig(yaml: yaml, file: "sac.yaml", robustMethods: Toolkit.standard.robustMethods),
            directory: directory, seed: 1, components: Toolkit.standard.training)
        let summary = try #require(try run.run())
        let policy = try Policy.load(contentsOf: URL(fileURLWithPath: summary.policy))
        let episodes = try EpisodeRunner(policy: policy, environment: "Pendulum-v1").run(episodes: 10, seed: 1000)
        let score = Statistics.mean(episodes.map(\.episodeReturn))
        #expect(score > -500, "SAC reached only \(score)")
    }
}

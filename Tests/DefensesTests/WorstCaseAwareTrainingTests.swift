import Agents
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

@testable import Defenses

@Suite struct WorstCaseAwareTrainingTests {
    static let bounds = BoxSpace(low: [-5, -5], high: [5, 5])

    /// A WocaR method for a PPO learner on MountainCarContinuous (2 observation values, 1 action).
    static func method(epsilon: Double, weight: Double = 0.8, worstCaseEpsilon: Double? = nil) throws -> WorstCaseAwareTraining {
        var config = RobustTrainingConfig(method: "wocar", epsilon: epsilon)
        config.epsilonStart = 0
        config.epsilonEnd = 0
        config[WorstCaseAwareTraining.weight] = weight
        config[WorstCaseAwareTraining.radius] = worstCaseEpsilon
        var ppo = PPOConfig()
        ppo.batchSize = 8
        return try WorstCaseAwareTraining(
            config: config,
            context: RobustTrainingContext(
                environment: "MountainCarContinuous-v0", bounds: bounds, random: RandomStream(seed: 3), ppo: ppo, seed: 0,
                precision: .f64))
    }

    static func policy() throws -> Policy<Double> {
        Policy(
            network: try Sequential<Double>.mlp(sizes: [2, 16, 16, 1], activation: .tanh, random: RandomStream(seed: 4)),
            kind: .gaussian, actionSpace: .box(BoxSpace(symmetric: [1])), logStd: [-0.5],
            scaling: ObservationScaling(mean: [0, 0.5], std: [1, 0.5]))
    }

    /// `∂Q̲/∂a` of the worst-case critic equals central differences.
    @Test func actionGradientMatchesFiniteDifferences() throws {
        let critic = try Self.method(epsilon: 0.1).critic(Double.self)
        let states = randomMatrix(rows: 4, columns: 2, random: RandomStream(seed: 5))
        let actions = randomMatrix(rows: 4, columns: 1, random: RandomStream(seed: 6))
        let gradient = critic.actionGradient(states: states, actions: actions)
        for r in 0..<4 {
            for j in 0..<1 {
                var plus = actions
                var minus = actions
                plus[r, j] += 1e-6
                minus[r, j] -= 1e-6
                let numeric =
                    (critic.values(states.appendingColumns(plus), target: false)[r]
                        - critic.values(states.appendingColumns(minus), target: false)[r]) / 2e-6
                #expect(abs(numeric - gradient[r, j]) < 1e-7 * max(1, abs(numeric)))
            }
        }
    }

    /// The worst action lies in the interval box of the policy's mean over the ball, the critic
    /// values it no higher than the clean mean action, and with ε = 0 it is the clean mean.
    @Test func worstActionsStayReachableAndLowerTheWorstCaseValue() throws {
        let policy = try Self.policy()
        let observations = randomMatrix(rows: 12, columns: 2, random: RandomStream(seed: 7))
        for epsilon in [0.0, 0.05, 0.3] {
            let method = try Self.method(epsilon: epsilon)
            let model = ThreatModel(epsilon: epsilon, bounds: Self.bounds)
            let worst = method.worstActions(at: observations, policy: policy, threatModel: model)
            let clean = policy.outputs(observations)
            if epsilon == 0 {
                #expect(worst == clean)
                continue
            }
            let reachable = policy.network.intervalBounds(
                try IntervalCertificate(threatModel: model).inputBox(around: observations, policy: policy))
            let states = policy.scaled(observations)
            let critic = method.critic(Double.self)
            let worstValues = critic.values(states.appendingColumns(worst), target: false)
            let cleanValues = critic.values(states.appendingColumns(clean), target: false)
            for r in 0..<12 {
                for j in 0..<1 {
                    #expect(worst[r, j] >= reachable.lower[r, j] && worst[r, j] <= reachable.upper[r, j])
                }
                #expect(worstValues[r] <= cleanValues[r], "ε \(epsilon) row \(r)")
            }
            #expect(zip(worstValues, cleanValues).contains { $0 < $1 - 1e-6 })
        }
    }

    /// The critic's worst actions are sought in the training ball, or in the ball of
    /// `robust_worst_case_eps` (WocaR's code: 0.01) when it is set, whatever the training ε.
    @Test func worstCaseBallFollowsItsOwnRadiusWhenSet() throws {
        let policy = try Self.policy()
        for progress in [0.5, 1.0] {
            #expect(try Self.method(epsilon: 0.3).worstCaseThreatModel(atProgress: progress, policy: policy).epsilon == 0.3)
            let fixed = try Self.method(epsilon: 0.3, worstCaseEpsilon: 0.01)
            #expect(fixed.worstCaseThreatModel(atProgress: progress, policy: policy).epsilon == 0.01)
            #expect(fixed.threatModel(atProgress: progress, policy: policy).epsilon == 0.3)
        }
    }

    /// The surrogate's advantages: GAE's plus `w(progress) · (Q̲′ − mean)/(std + 1e-8)` over the
    /// minibatch, `w` rising linearly to `robust_worst_case_weight`; unchanged at w = 0.
    @Test func advantagesAddTheWeightedNormalisedWorstCaseValue() throws {
        let policy = try Self.policy()
        let method = try Self.method(epsilon: 0.1, weight: 0.6)
        let observations = randomMatrix(rows: 6, columns: 2, random: RandomStream(seed: 8))
        let actions = randomMatrix(rows: 6, columns: 1, random: RandomStream(seed: 9))
        let advantages = [0.5, -1, 0.25, 2, -0.3, 0.1]
        #expect(
            method.advantages(advantages, observations: observations, actions: actions, policy: policy, progress: 0) == advantages
        )
        let q = method.critic(Double.self).values(policy.scaled(observations).appendingColumns(actions), target: true)
        let mean = q.reduce(0, +) / 6
        let std = (q.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 5).squareRoot()
        let adjusted = method.advantages(advantages, observations: observations, actions: actions, policy: policy, progress: 0.5)
        for k in 0..<6 { #expect(abs(adjusted[k] - (advantages[k] + 0.3 * (q[k] - mean) / (std + 1e-8))) < 1e-12) }
    }

    /// After a rollout's worth of learning from transitions whose every step ends its episode with
    /// reward 1, the critic's target predicts about 1 for them (nothing to bootstrap).
    @Test func criticLearnsTerminalRewards() throws {
        let policy = try Self.policy()
        var config = RobustTrainingConfig(method: "wocar", epsilon: 0.1)
        config[WorstCaseAwareTraining.epochs] = 200
        config[WorstCaseAwareTraining.tau] = 1
        var ppo = PPOConfig()
        ppo.batchSize = 16
        let method = try WorstCaseAwareTraining(
            config: config,
            context: RobustTrainingContext(
                environment: "MountainCarContinuous-v0", bounds: Self.bounds, random: RandomStream(seed: 3), ppo: ppo, seed: 0,
                precision: .f64))
        let observations = randomMatrix(rows: 32, columns: 2, random: RandomStream(seed: 10))
        let transitions = Transitions(
            observations: observations, actions: randomMatrix(rows: 32, columns: 1, random: RandomStream(seed: 11)),
            rewards: Array(repeating: 1, count: 32), nextObservations: observations, terminal: Array(repeating: true, count: 32))
        let diagnostics = try method.learn(from: transitions, policy: policy, progress: 0)
        #expect(abs(diagnostics["robust/worst_case_value"]! - 1) < 0.05)
        #expect(diagnostics["robust/worst_case_loss"]! < 0.1)
    }

    /// In a PPO run the critic learns from every rollout: its loss fills progress.csv's column.
    @Test func ppoTrainsTheWorstCaseCritic() throws {
        let yaml = """
            env: Pendulum-v1
            algorithm: ppo
            n_timesteps: 512
            n_envs: 2
            n_steps: 64
            batch_size: 64
            n_epochs: 1
            net_arch: [8]
            normalize: true
            log_interval: 128
            robust_method: wocar
            robust_eps: 0.1
            robust_eps_start: 0
            robust_steps: 1
            robust_worst_case_epochs: 1
            """
        let config = try Toolkit.standard.trainingConfig(yaml: yaml, file: "w.yaml")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-wocar-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try #require(
            try TrainingRun<Float>(config: config, directory: directory, seed: 1, components: Toolkit.standard.training).run())
        let rows = try String(contentsOf: directory.appendingPathComponent("progress.csv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let column = try #require(rows[0].firstIndex(of: "robust/worst_case_loss"))
        #expect(rows.count > 2 && rows.dropFirst().allSatisfy { Double($0[column]) != nil })
    }

    @Test func discreteActionsAreRefused() {
        #expect {
            try WorstCaseAwareTraining(
                config: RobustTrainingConfig(method: "wocar", epsilon: 0.1),
                context: RobustTrainingContext(
                    environment: "CartPole-v1", bounds: BoxSpace(symmetric: [1, 1, 1, 1]), random: RandomStream(seed: 0),
                    ppo: PPOConfig(), seed: 0))
        } throws: {
            "\($0)".contains("the worst-case critic needs continuous actions")
        }
    }
}

import Agents
import Defenses
import Evaluation
import Linalg
import TestSupport
import Testing

/// The declarations are the reader: writing every declared key with its default value gives a
/// config that parses back to the defaults, for every algorithm and the robust keys; and every
/// declared key is in `gauntlet train --help`.
@Suite struct HyperparameterTests {
    func yaml<Config>(_ header: String, _ declarations: [Hyperparameter<Config>], _ config: Config) -> String {
        header + declarations.compactMap { p in p.value(config).map { "\(p.key): \($0.compactJSON)" } }.joined(separator: "\n")
            + "\n"
    }

    @Test func everyDeclaredKeyReadsBackItsDefault() throws {
        let dqn = try TrainingConfig(
            yaml: yaml("env: CartPole-v1\nalgorithm: dqn\n", DQNConfig.hyperparameters, DQNConfig()), file: "d.yaml")
        #expect(dqn.algorithm == .dqn(DQNConfig()))
        let ppo = try TrainingConfig(
            yaml: yaml("env: CartPole-v1\nalgorithm: ppo\n", PPOConfig.hyperparameters, PPOConfig()), file: "p.yaml")
        #expect(ppo.algorithm == .ppo(PPOConfig()))
        let td3 = try TrainingConfig(
            yaml: yaml("env: Pendulum-v1\nalgorithm: td3\n", TD3Config.hyperparameters, TD3Config()), file: "t.yaml")
        #expect(td3.algorithm == .td3(TD3Config()))

        var robust = RobustTrainingConfig(method: "sa", epsilon: 0.2)
        robust.kappa = 0.7
        robust.attacks = ["pgd", "uniform"]
        let text = yaml("env: CartPole-v1\nalgorithm: dqn\n", RobustTrainingConfig.hyperparameters, robust)
        let parsed = try TrainingConfig(yaml: text, file: "r.yaml", robustMethods: Toolkit.standard.robustMethods)
        #expect(parsed.robust == robust)
        for method in Toolkit.standard.robustMethods {
            let algorithm = method.learners[0]
            let defaults = RobustTrainingConfig(method: method.name, epsilon: 0.2)
            let text = yaml(
                "env: \(algorithm == "dqn" ? "CartPole-v1" : "Pendulum-v1")\nalgorithm: \(algorithm)\n",
                RobustTrainingConfig.hyperparameters + method.options, defaults)
            let parsed = try TrainingConfig(yaml: text, file: "m.yaml", robustMethods: Toolkit.standard.robustMethods)
            #expect(parsed.robust == defaults, "\(method.name)")
            #expect(method.options.allSatisfy { text.contains("\n\($0.key): ") || $0.value(defaults) == nil }, "\(method.name)")
        }
    }

    /// A method's own keys set its options and are recorded only for it (another method's keys
    /// are an error: `AlternatingAdversaryTrainingTests.theStateRegularizerIsATLAs`).
    @Test func methodOptionsAreTheirMethodsOwn() throws {
        let atla = try TrainingConfig(
            yaml: """
                env: Pendulum-v1
                algorithm: ppo
                robust_method: atla
                robust_eps: 0.1
                robust_victim_updates: 3
                robust_adversary_updates: 2
                robust_adversary_log_std: -1.5
                robust_state_regularizer: true
                robust_detach_std: true
                """, file: "a.yaml", robustMethods: Toolkit.standard.robustMethods)
        var expected = RobustTrainingConfig(method: "atla", epsilon: 0.1)
        expected[AlternatingAdversaryTraining.victimUpdates] = 3
        expected[AlternatingAdversaryTraining.adversaryUpdates] = 2
        expected[AlternatingAdversaryTraining.adversaryLogStd] = -1.5
        expected[AlternatingAdversaryTraining.stateRegularizer] = true
        expected[StateAdversarialRegularizer.detachStd] = true
        #expect(atla.robust == expected)
        #expect(atla.settings["robust_victim_updates"] == .number(3) && atla.settings["robust_margin"] == nil)

        let wocar = try TrainingConfig(
            yaml: """
                env: Pendulum-v1
                algorithm: ppo
                robust_method: wocar
                robust_eps: 0.1
                robust_worst_case_weight: 0.4
                robust_worst_case_learning_rate: 0.001
                robust_worst_case_epochs: 3
                robust_worst_case_tau: 0.5
                robust_worst_case_eps: 0.01
                """, file: "w.yaml", robustMethods: Toolkit.standard.robustMethods)
        var worst = RobustTrainingConfig(method: "wocar", epsilon: 0.1)
        worst[WorstCaseAwareTraining.weight] = 0.4
        worst[WorstCaseAwareTraining.learningRate] = 0.001
        worst[WorstCaseAwareTraining.epochs] = 3
        worst[WorstCaseAwareTraining.tau] = 0.5
        worst[WorstCaseAwareTraining.radius] = 0.01
        #expect(wocar.robust == worst)
        #expect(wocar.settings["robust_victim_updates"] == nil && wocar.settings["robust_detach_std"] == .bool(false))
    }

    /// Each key sets the field it names: every key given a value of its own, the parsed configs
    /// equal configs whose fields are set by hand (a declaration bound to the wrong field fails).
    @Test func everyKeySetsItsOwnField() throws {
        let dqnYAML = """
            env: CartPole-v1
            algorithm: dqn
            n_timesteps: 1001
            net_arch: [7, 5]
            activation: tanh
            n_envs: 3
            learning_rate: 0.0021
            buffer_size: 4001
            learning_starts: 51
            batch_size: 17
            tau: 0.31
            gamma: 0.91
            train_freq: 6
            gradient_steps: 9
            target_update_interval: 77
            exploration_fraction: 0.23
            exploration_initial_eps: 0.87
            exploration_final_eps: 0.07
            max_grad_norm: 3.5
            double_dqn: true
            robust_method: sa
            robust_eps: 0.21
            robust_eps_start: 0.15
            robust_eps_end: 0.45
            robust_attack: [fgsm, uniform]
            robust_steps: 4
            robust_fraction: 0.35
            robust_kappa: 0.6
            robust_bound: ibp
            robust_margin: 2.5
            """
        var dqn = DQNConfig()
        (dqn.totalSteps, dqn.hidden, dqn.activation, dqn.environments) = (1001, [7, 5], "tanh", 3)
        (dqn.learningRate, dqn.bufferSize, dqn.learningStarts, dqn.batchSize, dqn.tau, dqn.gamma) = (
            0.0021, 4001, 51, 17, 0.31, 0.91
        )
        (dqn.trainFrequency, dqn.gradientSteps, dqn.targetUpdateInterval) = (6, 9, 77)
        (dqn.explorationFraction, dqn.explorationInitialEpsilon, dqn.explorationFinalEpsilon) = (0.23, 0.87, 0.07)
        (dqn.maxGradNorm, dqn.doubleDQN) = (3.5, true)
        var robust = RobustTrainingConfig(method: "sa", epsilon: 0.21)
        (robust.epsilonStart, robust.epsilonEnd, robust.attacks, robust.steps, robust.fraction) = (
            0.15, 0.45, ["fgsm", "uniform"], 4, 0.35
        )
        (robust.kappa, robust.bound) = (0.6, "ibp")
        robust[StateAdversarialRegularizer.margin] = 2.5
        dqn.robust = robust
        let parsedDQN = try TrainingConfig(yaml: dqnYAML, file: "d.yaml", robustMethods: Toolkit.standard.robustMethods)
        #expect(parsedDQN.algorithm == .dqn(dqn))

        let ppoYAML = """
            env: CartPole-v1
            algorithm: ppo
            net_arch: {pi: [8], vf: [9, 9]}
            learning_rate: lin_0.002
            n_steps: 33
            batch_size: 11
            n_epochs: 4
            gamma: 0.97
            gae_lambda: 0.8
            clip_range: 0.15
            clip_range_vf: 0.4
            normalize_advantage: false
            ent_coef: 0.02
            vf_coef: 0.7
            max_grad_norm: 0.9
            log_std_init: -0.7
            normalize: true
            """
        var ppo = PPOConfig()
        (ppo.hidden, ppo.criticHidden, ppo.learningRate, ppo.nSteps, ppo.batchSize, ppo.nEpochs) =
            ([8], [9, 9], .linear(start: 0.002, end: 0, fraction: 1), 33, 11, 4)
        (ppo.gamma, ppo.gaeLambda, ppo.clipRange, ppo.clipRangeValue, ppo.normalizeAdvantage) = (
            0.97, 0.8, .constant(0.15), 0.4, false
        )
        (ppo.entropyCoefficient, ppo.valueCoefficient, ppo.maxGradNorm, ppo.logStdInit, ppo.normalizeObservations) =
            (0.02, 0.7, 0.9, -0.7, true)
        #expect(try TrainingConfig(yaml: ppoYAML, file: "p.yaml").algorithm == .ppo(ppo))

        let td3YAML = """
            env: Pendulum-v1
            algorithm: td3
            learning_rate: 0.0007
            buffer_size: 999
            learning_starts: 12
            batch_size: 13
            tau: 0.02
            gamma: 0.93
            train_freq: episode
            gradient_steps: -1
            policy_delay: 3
            target_policy_noise: 0.3
            target_noise_clip: 0.6
            noise_type: ornstein-uhlenbeck
            noise_std: 0.25
            """
        var td3 = TD3Config()
        (td3.learningRate, td3.bufferSize, td3.learningStarts, td3.batchSize, td3.tau, td3.gamma) = (
            0.0007, 999, 12, 13, 0.02, 0.93
        )
        (td3.trainFrequency, td3.trainPerEpisode, td3.gradientSteps, td3.policyDelay) = (1, true, -1, 3)
        (td3.targetPolicyNoise, td3.targetNoiseClip, td3.actionNoise) = (0.3, 0.6, .ornsteinUhlenbeck(0.25))
        #expect(try TrainingConfig(yaml: td3YAML, file: "t.yaml").algorithm == .td3(td3))
    }

    @Test func helpListsEveryDeclaredKey() {
        let help = TrainingConfig.help(methods: Toolkit.standard.robustMethods)
        let keys =
            DQNConfig.hyperparameters.map(\.key) + PPOConfig.hyperparameters.map(\.key) + TD3Config.hyperparameters.map(\.key)
            + RobustTrainingConfig.hyperparameters.map(\.key).filter { $0 != "robust_method" }
            + Toolkit.standard.robustMethods.flatMap { $0.options.map(\.key) }
        for key in keys { #expect(help.contains("  \(key) = "), "\(key)") }
        for method in Toolkit.standard.robustMethods { #expect(help.contains("  \(method.name): \(method.summary)")) }
    }
}

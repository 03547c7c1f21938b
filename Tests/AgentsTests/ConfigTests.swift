import Agents
import Evaluation
import Testing

private func expectConfigError(_ yaml: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try TrainingConfig(yaml: yaml, file: "c.yaml", robustMethods: Toolkit.standard.robustMethods)
        Issue.record("accepted a bad config (expected '\(expected)')", sourceLocation: sourceLocation)
    } catch {
        #expect(error.description.contains(expected), "\(error.description)", sourceLocation: sourceLocation)
    }
}

@Suite struct ConfigTests {
    @Test func rlZooKeysAreRead() throws {
        let config = try TrainingConfig(
            yaml: """
                env: CartPole-v1
                algorithm: ppo
                seed: 3
                n_timesteps: 1000
                n_envs: 8
                learning_rate: lin_0.001
                clip_range: 0.1
                net_arch: [32, 16]
                """, file: "c.yaml", robustMethods: Toolkit.standard.robustMethods)
        guard case .ppo(let ppo) = config.algorithm else {
            Issue.record("not PPO")
            return
        }
        #expect(config.seed == 3 && ppo.totalSteps == 1000 && ppo.environments == 8 && ppo.hidden == [32, 16])
        #expect(ppo.learningRate == .linear(start: 0.001, end: 0, fraction: 1) && ppo.clipRange == .constant(0.1))
        #expect(ppo.learningRate.value(atProgress: 0.25) == 0.00075)
    }

    /// A schedule rescaled to a new start keeps its shape: a constant stays constant, a linear one
    /// keeps its fraction and its end's share of its start.
    @Test func rescaledSchedulesKeepTheirShape() {
        #expect(Schedule.constant(3e-4).rescaled(toStart: 1e-3) == .constant(1e-3))
        #expect(
            Schedule.linear(start: 3e-4, end: 0, fraction: 1).rescaled(toStart: 3e-3) == .linear(start: 3e-3, end: 0, fraction: 1)
        )
        #expect(Schedule.linear(start: 2, end: 1, fraction: 0.5).rescaled(toStart: 4) == .linear(start: 4, end: 2, fraction: 0.5))
        #expect(Schedule.linear(start: 0, end: 1, fraction: 1).rescaled(toStart: 2) == .linear(start: 2, end: 1, fraction: 1))
    }

    @Test func ppoTakesSeparateActorAndCriticArchitecturesAsSB3Does() throws {
        let config = try TrainingConfig(
            yaml: "env: CartPole-v1\nalgorithm: ppo\nnet_arch: {pi: [], vf: [8, 8]}\n", file: "c.yaml",
            robustMethods: Toolkit.standard.robustMethods)
        guard case .ppo(let c) = config.algorithm else {
            Issue.record("not PPO")
            return
        }
        #expect(c.hidden == [] && c.criticHidden == [8, 8])
        let ppo = try PPO<Float>(config: c, environment: "CartPole-v1", seed: 0)
        #expect(ppo.actor.sizes == [4, 2] && ppo.critic.sizes == [4, 8, 8, 1])
        let shared = try TrainingConfig(
            yaml: "env: CartPole-v1\nalgorithm: ppo\nnet_arch: {vf: [8], pi: [8]}\n", file: "c.yaml",
            robustMethods: Toolkit.standard.robustMethods)
        guard case .ppo(let same) = shared.algorithm else { return }
        #expect(same.hidden == [8] && same.criticHidden == nil)
        expectConfigError(
            "env: CartPole-v1\nalgorithm: ppo\nnet_arch: {pi: [8]}\n", "c.yaml:3:11: 'net_arch' needs 'vf' (pi, vf)")
        expectConfigError(
            "env: CartPole-v1\nalgorithm: ppo\nnet_arch: {pi: [8], qf: [8]}\n",
            "c.yaml:3:21: 'net_arch' must be a list or a mapping with the keys pi, vf, each once, got 'qf'")
        expectConfigError(
            "env: CartPole-v1\nalgorithm: ppo\nnet_arch: {pi: [8], vf: [0]}\n",
            "'net_arch.vf' must be a list of integers in 1...100000")
        expectConfigError(
            "env: CartPole-v1\nalgorithm: dqn\nnet_arch: {pi: [8], vf: [8]}\n", "'net_arch' must be a list of integers")
    }

    @Test func valueLearningRateStepsOnlyTheCritic() throws {
        func trained(_ extra: String) throws -> PPO<Float> {
            let config = try TrainingConfig(
                yaml: "env: Pendulum-v1\nalgorithm: ppo\nn_timesteps: 64\nn_steps: 64\nbatch_size: 32\nn_epochs: 2\n\(extra)",
                file: "c.yaml", robustMethods: Toolkit.standard.robustMethods)
            guard case .ppo(let c) = config.algorithm else { throw TrainingError("not PPO") }
            let ppo = try PPO<Float>(config: c, environment: "Pendulum-v1", seed: 0)
            while !ppo.isFinished { try ppo.advance() }
            return ppo
        }
        let initial = try PPO<Float>(config: PPOConfig(), environment: "Pendulum-v1", seed: 0)
        let frozenCritic = try trained("value_learning_rate: 0\n")
        #expect(frozenCritic.critic == initial.critic && frozenCritic.actor != initial.actor)
        let frozenActor = try trained("learning_rate: 0\nvalue_learning_rate: 0.001\n")
        #expect(frozenActor.actor == initial.actor && frozenActor.critic != initial.critic)
        let same = try trained("value_learning_rate: 0.0003\n")
        let unset = try trained("")
        #expect(same.actor == unset.actor && same.critic == unset.critic)
    }

    @Test func unknownKeysAndWrongTypesNameTheKeyAndLine() {
        expectConfigError(
            "env: CartPole-v1\nalgorithm: dqn\nlearning_rat: 0.1\n",
            "c.yaml:3:15: unknown key 'learning_rat' (did you mean 'learning_rate'?)")
        expectConfigError("env: CartPole-v1\nalgorithm: dqn\nbatch_size: many\n", "c.yaml:3:13: 'batch_size' must be an integer")
        expectConfigError("env: CartPole-v1\nalgorithm: dqn\ngamma: 1.5\n", "c.yaml:3:8: 'gamma' must be a number in [0.0, 1.0]")
        expectConfigError("env: CartPole-v1\nalgorithm: ppo\nnormalize: perhaps\n", "'normalize' must be true or false")
        expectConfigError("env: CartPole-v1\nalgorithm: ppo\nnet_arch: 64\n", "'net_arch' must be a list of integers")
        expectConfigError("env: CartPole-v1\nalgorithm: a2c\n", "unknown algorithm 'a2c' (expected dqn, ppo, td3, ddpg or sac)")
        expectConfigError(
            "env: Pendulum-v1\nalgorithm: sac\nent_coef: often\n",
            "'ent_coef' must be auto, auto_<number> or a positive number, got 'often'")
        expectConfigError("env: Pendulum-v1\nalgorithm: sac\nrobust_method: sa\nrobust_eps: 0.1\n", "sac takes none")
        expectConfigError("algorithm: dqn\n", "missing required key 'env'")
        expectConfigError("env: CartPole-v1\nalgorithm: dqn\nn_envs: 1\nn_envs: 2\n", "key 'n_envs' given twice")
        expectConfigError("env: [unclosed\n", "invalid YAML")
        expectConfigError("- just\n- a list\n", "expected a mapping")
        expectConfigError(
            "env: CartPole-v1\nalgorithm: dqn\nexploration_final_eps: 1e9\n",
            "'exploration_final_eps' must be a number in [0.0, 1.0]")
        expectConfigError(
            "env: CartPole-v1\nalgorithm: td3\nnoise_type: pink\n", "'noise_type' must be normal or ornstein-uhlenbeck")
        expectConfigError(
            "env: CartPole-v1\nalgorithm: dqn\noptimizer: sgd\n",
            "c.yaml:3:12: 'optimizer' must be one of adam, rmsprop, centered_rmsprop, got 'sgd'")
        // Parsed without the robust-training methods, a method's own key is not called unknown.
        #expect {
            try TrainingConfig(
                yaml: "env: CartPole-v1\nalgorithm: dqn\nrobust_method: sa\nrobust_eps: 0.1\nrobust_margin: 2\n", file: "c.yaml")
        } throws: {
            "\($0)".hasPrefix("c.yaml:3:16: robust_method 'sa' needs the robust-training methods passed as robustMethods")
        }
    }

    /// RMSProp's keys are recorded for runs that use it, and stay out of Adam runs' records.
    @Test func dqnOptimizerKeysAreRecordedWhenUsed() throws {
        let adam = try TrainingConfig(yaml: "env: CartPole-v1\nalgorithm: dqn\n", file: "c.yaml")
        #expect(adam.settings["optimizer"] == nil && adam.settings["rmsprop_alpha"] == nil)
        let rmsprop = try TrainingConfig(
            yaml: "env: CartPole-v1\nalgorithm: dqn\noptimizer: centered_rmsprop\nrmsprop_alpha: 0.95\n", file: "c.yaml")
        #expect(rmsprop.settings["optimizer"] == .string("centered_rmsprop"))
        #expect(rmsprop.settings["rmsprop_alpha"] == .number(0.95) && rmsprop.settings["optimizer_eps"] == .number(1e-8))
        guard case .dqn(let config) = rmsprop.algorithm else {
            Issue.record("not a DQN config")
            return
        }
        #expect(config.optimizer == "centered_rmsprop" && config.rmspropAlpha == 0.95)
    }

    @Test func robustTrainingKeys() throws {
        let config = try TrainingConfig(
            yaml: "env: CartPole-v1\nalgorithm: dqn\nrobust_method: sa\nrobust_eps: 0.1\nrobust_bound: ibp\nrobust_kappa: 0.5\n",
            file: "c.yaml", robustMethods: Toolkit.standard.robustMethods)
        guard case .dqn(let dqn) = config.algorithm, let robust = dqn.robust else {
            Issue.record("no robust settings")
            return
        }
        #expect(
            robust.method == "sa" && robust.epsilon == 0.1 && robust.bound == "ibp" && robust.kappa == 0.5 && robust.steps == 10)
        expectConfigError("env: CartPole-v1\nalgorithm: dqn\nrobust_eps: 0.1\n", "'robust_eps' needs robust_method")
        expectConfigError(
            "env: CartPole-v1\nalgorithm: dqn\nrobust_method: magic\nrobust_eps: 0.1\n",
            "robust_method 'magic' is not one of adversarial, sa, radial")
        expectConfigError("env: CartPole-v1\nalgorithm: dqn\nrobust_method: sa\n", "robust_method needs robust_eps")
        expectConfigError(
            "env: CartPole-v1\nalgorithm: ppo\nrobust_method: radial\nrobust_eps: 0.1\n",
            "robust_method radial (worst-case loss from interval bounds, Oikarinen et al. 2021) is implemented for dqn; ppo takes adversarial, sa, atla"
        )
        expectConfigError(
            "env: Pendulum-v1\nalgorithm: td3\nrobust_method: radial\nrobust_eps: 0.1\n",
            "c.yaml:3:16: robust_method radial (worst-case loss from interval bounds, Oikarinen et al. 2021) is implemented for dqn; td3 takes adversarial, sa"
        )
        expectConfigError(
            "env: CartPole-v1\nalgorithm: dqn\nrobust_method: sa\nrobust_eps: -1\n", "'robust_eps' must be a number in")
        let mixed = try TrainingConfig(
            yaml:
                "env: Pendulum-v1\nalgorithm: td3\nrobust_method: adversarial\nrobust_eps: 0.3\nrobust_attack: [pgd, uniform]\n",
            file: "c.yaml", robustMethods: Toolkit.standard.robustMethods)
        guard case .td3(let mixedTD3) = mixed.algorithm else { return }
        #expect(mixedTD3.robust?.attacks == ["pgd", "uniform"] && robust.attacks == ["pgd"])
        expectConfigError(
            "env: CartPole-v1\nalgorithm: dqn\nrobust_method: adversarial\nrobust_eps: 0.1\nrobust_attack: [pgd, magic]\n",
            "c.yaml:5:16: robust_attack 'magic' is not one of uniform, gaussian, sign, fgsm, pgd, mad")
        expectConfigError(
            "env: CartPole-v1\nalgorithm: dqn\nrobust_method: adversarial\nrobust_eps: 0.1\nrobust_attack: []\n",
            "c.yaml:5:16: 'robust_attack' must be a name or a non-empty list of names")
        let td3 = try TrainingConfig(
            yaml: "env: Pendulum-v1\nalgorithm: td3\nrobust_method: sa\nrobust_eps: 0.1\nrobust_kappa: 2\n", file: "c.yaml",
            robustMethods: Toolkit.standard.robustMethods)
        guard case .td3(let actorCritic) = td3.algorithm, let robust = actorCritic.robust else {
            Issue.record("no robust settings for TD3")
            return
        }
        #expect(robust.method == "sa" && robust.epsilon == 0.1 && robust.kappa == 2)
    }

    @Test func theWrongAlgorithmForTheActionSpaceIsAClearError() throws {
        let dqnOnPendulum = try TrainingConfig(
            yaml: "env: Pendulum-v1\nalgorithm: dqn\n", file: "c.yaml", robustMethods: Toolkit.standard.robustMethods)
        guard case .dqn(let c) = dqnOnPendulum.algorithm else { return }
        #expect { try DQN<Float>(config: c, environment: "Pendulum-v1", seed: 0) } throws: {
            ($0 as! TrainingError).description.contains("DQN needs a discrete action space")
        }
        #expect { try SAC<Float>(config: SACConfig(), environment: "CartPole-v1", seed: 0) } throws: {
            ($0 as! TrainingError).description.contains("SAC takes continuous actions; CartPole-v1 has Discrete(2)")
        }
        #expect { try TD3<Float>(config: TD3Config(), environment: "CartPole-v1", seed: 0) } throws: {
            ($0 as! TrainingError).description.contains("TD3/DDPG takes continuous actions")
        }
    }
}

/// `max_grad_norm: 0` turns clipping off for DQN and PPO alike: the same run as with an
/// unreachable norm, and not the run a tight clip gives.
@Suite struct GradientClippingOffTests {
    @Test func zeroMaxGradNormIsNoClipping() throws {
        func ppo(_ norm: Double) throws -> [Float] {
            var config = PPOConfig()
            (config.totalSteps, config.nSteps, config.batchSize, config.nEpochs, config.hidden) = (128, 64, 32, 2, [8])
            config.maxGradNorm = norm
            let learner = try PPO<Float>(config: config, environment: "CartPole-v1", seed: 3)
            try learner.advance()
            return learner.actor.parameters
        }
        #expect(try ppo(0) == ppo(1e9) && ppo(0) != ppo(1e-4))
        func dqn(_ norm: Double) throws -> [Float] {
            var config = DQNConfig()
            (config.totalSteps, config.learningStarts, config.batchSize, config.hidden, config.trainFrequency) = (
                200, 16, 8, [8], 64
            )
            config.maxGradNorm = norm
            let learner = try DQN<Float>(config: config, environment: "CartPole-v1", seed: 3)
            try learner.advance()
            return learner.online.parameters
        }
        #expect(try dqn(0) == dqn(1e9) && dqn(0) != dqn(1e-4))
    }
}

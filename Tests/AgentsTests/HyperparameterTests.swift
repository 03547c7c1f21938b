import Agents
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
    }

    @Test func helpListsEveryDeclaredKey() {
        let help = TrainingConfig.help(methods: Toolkit.standard.robustMethods)
        let keys =
            DQNConfig.hyperparameters.map(\.key) + PPOConfig.hyperparameters.map(\.key) + TD3Config.hyperparameters.map(\.key)
            + RobustTrainingConfig.hyperparameters.map(\.key).filter { $0 != "robust_method" }
        for key in keys { #expect(help.contains("  \(key) = "), "\(key)") }
        for method in Toolkit.standard.robustMethods { #expect(help.contains("  \(method.name): \(method.summary)")) }
    }
}

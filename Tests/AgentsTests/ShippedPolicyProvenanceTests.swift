import Agents
import Defenses
import Evaluation
import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

/// Every shipped policy file carries the training settings of the config next to it (as
/// Gauntlet reads that config), and its provenance hash is that config's.
@Suite struct ShippedPolicyProvenanceTests {
    static let policies = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
        "policies")

    @Test func shippedPoliciesCarryTheirTrainingConfiguration() throws {
        // Every policy file has its config; a config without a file is a policy still in training.
        let configs = try FileManager.default.contentsOfDirectory(atPath: Self.policies.path).filter {
            $0.hasSuffix(".safetensors")
        }
        .sorted().map { $0.replacingOccurrences(of: ".safetensors", with: ".yaml") }
        #expect(configs.count >= 20)
        for name in configs {
            let config = try Toolkit.standard.trainingConfig(contentsOf: Self.policies.appendingPathComponent(name))
            let file = try PolicyFile.load(
                contentsOf: Self.policies.appendingPathComponent(name.replacingOccurrences(of: ".yaml", with: ".safetensors")))
            #expect(file.description.provenance["config_hash"] == config.hash, "\(name)")
            #expect(file.description.training == config.settings, "\(name)")
        }
    }

    /// A run's policy file records the run's settings, robust training included.
    @Test func trainedPolicyFilesRecordTheirSettings() throws {
        let yaml =
            "env: CartPole-v1\nalgorithm: dqn\nn_timesteps: 200\nlearning_starts: 100\nbatch_size: 8\nnet_arch: [8]\nrobust_method: sa\nrobust_eps: 0.05\nrobust_eps_start: 0\nlog_interval: 50\n"
        let config = try Toolkit.standard.trainingConfig(yaml: yaml, file: "p.yaml")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-provenance-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let summary = try #require(
            try TrainingRun<Float>(config: config, directory: directory, seed: 2, components: Toolkit.standard.training).run())
        let description = try PolicyFile.load(contentsOf: URL(fileURLWithPath: summary.policy)).description
        #expect(description.provenance["blas_kernel"] == BLAS.coreName && BLAS.coreName != "unknown")
        // The method's diagnostics are columns of progress.csv, filled once it regularises.
        let rows = try String(contentsOf: directory.appendingPathComponent("progress.csv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let column = try #require(rows[0].firstIndex(of: "robust/regularizer"))
        #expect(rows.count > 2 && Double(rows.last![column]) != nil && rows[0].contains("robust/eps"))
        let training = try #require(description.training)
        #expect(
            training["algorithm"] == .string("dqn") && training["robust_method"] == .string("sa")
                && training["robust_eps"] == .number(0.05))
        #expect(training["net_arch"] == .array([.number(8)]))
        // Defaults are recorded too: every declared key of DQN and of robust training, the
        // method's own included (but `features` and `init_policy`, which have no default: an MLP
        // has none, a run from random weights none; the RMSProp keys, which an Adam run does not
        // use; and other methods' keys, such as WocaR's and ATLA's).
        #expect(training["gamma"] == .number(0.99) && training["robust_kappa"] == .number(0.1))
        #expect(training["robust_margin"] == .number(1) && training["robust_detach_std"] == .bool(false))
        #expect(
            training["robust_worst_case_weight"] == nil && training["robust_state_regularizer"] == nil
                && training["optimizer"] == nil && training["rmsprop_alpha"] == nil)
        // The run's seed (2, as `--seed` would give it) replaces the config's (0 by default).
        #expect(config.settings["seed"] == .number(0) && training["seed"] == .number(2))
        #expect(
            training == config.settings.merging(["seed": .number(2)]) { $1 }
                && training["features"] == nil && training["init_policy"] == nil
                && training.count
                    == 5 + DQNConfig.hyperparameters.count - 6 + RobustTrainingConfig.hyperparameters.count
                    + StateAdversarialRegularizer.method.options.count
        )
    }
}

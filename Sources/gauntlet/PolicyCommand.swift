import Agents
import ArgumentParser
import Evaluation
import Foundation
import Linalg
import NeuralNet

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Inspect, import and export policy files.",
        subcommands: [PolicyInfo.self, PolicyImportCommand.self, PolicyExport.self, PolicySnapshot.self])
}

extension PolicyKind: ExpressibleByArgument {}

struct PolicyInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Architecture, environment, algorithm, training configuration, provenance, size and hash of a policy file.")
    @Argument(help: "Policy file.") var file: String
    @OptionGroup var format: JSONOption

    struct Info: Encodable {
        var file: String
        var hash: String
        var description: PolicyDescription
        var parameterCount: Int
        var sizes: [Int]
        var extraTensors: [String]
    }

    func run() throws {
        let (policyFile, loaded) = try loadPolicy(file)
        let info = Info(
            file: file, hash: FNV1a.hex(fileAt: URL(fileURLWithPath: file)) ?? "", description: policyFile.description,
            parameterCount: policyFile.network.parameterCount, sizes: policyFile.network.sizes,
            extraTensors: policyFile.extraTensors.keys.sorted())
        if format.json {
            try printJSON(info)
            return
        }
        let d = policyFile.description
        let layers = policyFile.network.modules.map(\.name)
        let provenance = d.provenance.keys.sorted().map { "\($0)=\(d.provenance[$0]!)" }.joined(separator: ", ")
        print(file)
        print("  environment:  \(d.environment ?? "—")")
        print("  algorithm:    \(d.algorithm ?? "—"), kind \(d.kind ?? "—")")
        print("  network:      " + layers.joined(separator: " → "))
        print("  parameters:   \(policyFile.network.parameterCount)" + (d.critic != nil ? " (+ critic)" : ""))
        print("  normalised:   " + (d.normalization != nil ? "yes" : "no"))
        if !loaded.defenses.isEmpty { print("  defenses:     " + loaded.defenses.map(\.spec).joined(separator: ", then ")) }
        if let training = d.training {
            let settings = training.keys.sorted().map { key in "\(key)=\(training[key]!.string ?? training[key]!.compactJSON)" }
            print("  training:     " + settings.joined(separator: ", "))
        }
        print("  provenance:   " + provenance)
        print("  hash:         " + info.hash)
    }
}

struct PolicyImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn a PyTorch nn.Sequential state dict or a Stable-Baselines3 model zip into a Gauntlet policy file.",
        discussion: """
            FILE is one of:
              - a state dict of an nn.Sequential of Linear layers (tensors 0.weight, 0.bias, 2.weight, …) saved with
                safetensors.torch.save_file or torch.save; --kind and --activation say how to use it;
              - a Stable-Baselines3 model zip (model.save): DQN, PPO/A2C, TD3/DDPG or SAC with an MLP policy. Kind,
                activation, critic and architecture are read from the zip; --activation overrides the saved one.
            A model trained inside SB3's VecNormalize needs the observation statistics the wrapper saved
            (VecNormalize.save, rl-zoo's vecnormalize.pkl): --vec-normalize FILE, or a vec_normalize.pkl or
            vecnormalize.pkl beside the zip (used and reported), or --obs-mean/--obs-std/--obs-clip by hand.
            No Python runs and no pickle code executes: the pickle readers accept only the globals a state dict or a
            VecNormalize names.
            """)

    @Argument(help: "State dict (.safetensors or torch.save .pth) or SB3 model (.zip).") var file: String
    @Option(help: "Environment id the policy acts in.") var env: String
    @Option(help: "greedy-q, categorical, gaussian or deterministic (state dicts; SB3 models say it themselves).") var kind:
        PolicyKind?
    @Option(
        help:
            "Activation between the Linear layers: relu, tanh, leaky_relu (default: relu for state dicts, the saved one for SB3)."
    )
    var activation: String?
    @Option(name: .customLong("obs-mean"), help: "Observation mean for normalisation, comma-separated.") var observationMean:
        String?
    @Option(name: .customLong("obs-std"), help: "Observation standard deviation, comma-separated.") var observationStd: String?
    @Option(name: .customLong("obs-clip"), help: "Bound of the normalised observations (with --obs-mean/--obs-std).")
    var observationClip: Double?
    @Option(
        name: .customLong("vec-normalize"),
        help: "Stable-Baselines3 VecNormalize statistics (vec_normalize.pkl) the model was trained with.")
    var vecNormalize: String?
    @Option(help: "Output policy file.") var output: String

    func validate() throws {
        if let activation, Activation(name: activation) == nil {
            throw ValidationError("--activation: unknown activation '\(activation)'")
        }
        guard (observationMean == nil) == (observationStd == nil) else {
            throw ValidationError("--obs-mean and --obs-std go together")
        }
        if observationClip != nil, observationMean == nil {
            throw ValidationError("--obs-clip needs --obs-mean and --obs-std")
        }
        if let observationClip, !(observationClip > 0 && observationClip.isFinite) {
            throw ValidationError("--obs-clip must be a positive number")
        }
        if vecNormalize != nil, observationMean != nil {
            throw ValidationError("--vec-normalize and --obs-mean/--obs-std both give the statistics; pass one")
        }
    }

    static func numbers(_ text: String, option: String) throws -> [Double] {
        let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0!.isFinite }) else {
            throw ValidationError("\(option): expected comma-separated numbers")
        }
        return values.map { $0! }
    }

    func run() throws {
        var normalization: PolicyDescription.Normalization? = nil
        if let observationMean, let observationStd {
            let std = try Self.numbers(observationStd, option: "--obs-std")
            guard std.allSatisfy({ $0 > 0 }) else { throw ValidationError("--obs-std: standard deviations must be positive") }
            normalization = .init(
                mean: try Self.numbers(observationMean, option: "--obs-mean"), std: std, clip: observationClip)
        }
        let url = URL(fileURLWithPath: file)
        let imported: PolicyFile
        do throws(PolicyFileError) {
            if let statistics = try vecNormalizeStatistics(model: url) {
                normalization = statistics.normalization
                print(
                    statistics.normalization == nil
                        ? "note: \(statistics.source.path) says observations were not normalised (norm_obs=False)"
                        : "observation statistics from \(statistics.source.path) (clip ±\(statistics.clip))")
            }
            if try PolicyImport.isStableBaselines3Model(at: url) {
                imported = try StableBaselines3Model(contentsOf: url).policyFile(
                    environment: env, activation: activation.flatMap(Activation.init(name:)), normalization: normalization,
                    source: url)
            } else {
                guard let kind else {
                    throw PolicyFileError(
                        "--kind is required for a state dict (greedy-q, categorical, gaussian or deterministic)")
                }
                imported = try PolicyImport.stateDict(
                    at: url, environment: env, kind: kind,
                    activation: Activation(name: activation ?? "relu")!, normalization: normalization)
            }
            try imported.write(to: URL(fileURLWithPath: output))
        } catch {
            throw ValidationError(error.description)
        }
        let d = imported.description
        let modules = imported.network.modules
        let isMLP = modules.allSatisfy { if case .linear = $0 { true } else if case .activation = $0 { true } else { false } }
        // An MLP as its widths and activation (4-64-64-2 tanh), anything else module by module.
        let architecture =
            isMLP
            ? "\(imported.network.sizes.map(String.init).joined(separator: "-")) \(d.architecture.modules.first { $0.type != "linear" }?.type ?? "linear")"
            : modules.map(\.name).joined(separator: " → ")
        print("imported \(file) → \(output): \(architecture), \(d.kind ?? "") on \(env)" + (d.critic != nil ? " (+ critic)" : ""))
    }
}

extension PolicyImportCommand {
    /// The VecNormalize statistics given with --vec-normalize, or saved beside an SB3 model zip
    /// under SB3's or rl-zoo's name when no statistics were given.
    func vecNormalizeStatistics(model: URL) throws(PolicyFileError) -> (
        normalization: PolicyDescription.Normalization?, clip: Double, source: URL
    )? {
        var source = vecNormalize.map { URL(fileURLWithPath: $0) }
        if source == nil, observationMean == nil, try PolicyImport.isStableBaselines3Model(at: model) {
            let folder = model.deletingLastPathComponent()
            source = ["vec_normalize.pkl", "vecnormalize.pkl"].map { folder.appendingPathComponent($0) }
                .first { FileManager.default.fileExists(atPath: $0.path) }
        }
        guard let source else { return nil }
        let statistics = try VecNormalizeStatistics(contentsOf: source)
        return (statistics.normalization, statistics.clip, source)
    }
}

struct PolicyExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a policy's network as a plain state dict that torch.nn.Sequential.load_state_dict takes as it is.")

    @Argument(help: "Gauntlet policy file.") var file: String
    @Option(help: "Output state dict (.safetensors).") var output: String

    func run() throws {
        let (policyFile, _) = try loadPolicy(file)
        do { try PolicyImport.stateDict(of: policyFile).write(to: URL(fileURLWithPath: output)) } catch {
            throw ValidationError(error.description)
        }
        print("exported \(file) → \(output)")
    }
}

struct PolicySnapshot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Write the policy of a training run's last checkpoint, while it trains or after it stopped.",
        discussion: """
            The file is the policy the run would write if it ended at that checkpoint: evaluate, \
            attack or certify it like any other. Its provenance records the step ('snapshot'); the run's \
            own files are not touched, so a run in progress goes on undisturbed.
            """)

    @Argument(help: "Run directory (as given to gauntlet train --output).") var directory: String
    @Option(help: "Output policy file (.safetensors).") var output: String

    func run() throws {
        let file: PolicyFile
        do {
            file = try TrainingRun<Float>.snapshot(
                ofRunIn: URL(fileURLWithPath: directory), components: Toolkit.standard.training)
            try file.write(to: URL(fileURLWithPath: output))
        } catch let error as TrainingError {
            throw ValidationError(error.description)
        } catch let error as PolicyFileError {
            throw ValidationError(error.description)
        }
        print("\(directory) at step \(file.description.provenance["steps"] ?? "?") → \(output)")
    }
}

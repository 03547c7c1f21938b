import Foundation
import Linalg
import NeuralNet

/// A Stable-Baselines3 model zip (`model.save("model")`) read without Python.
///
/// The zip holds `data` (JSON: hyperparameters, spaces, `policy_kwargs` with `net_arch` and
/// `activation_fn` written out as text beside their pickled form) and `policy.pth` (the policy's
/// state dict, a `torch.save` archive read by `TorchCheckpoint`). The algorithm is recognised by
/// the state dict's module names:
///
/// | SB3 policy | tensors | Gauntlet policy |
/// |---|---|---|
/// | DQN `QNetwork` | `q_net.q_net.{i}` | greedy-q |
/// | PPO/A2C `ActorCriticPolicy` | `mlp_extractor.policy_net.{i}`, `action_net` (+ `log_std`) | categorical or gaussian; critic `mlp_extractor.value_net.{i}` + `value_net` |
/// | TD3/DDPG | `actor.mu.{i}` (ending in tanh) | deterministic; critic `critic.qf0.{i}` on `[s, a]` |
/// | SAC | `actor.latent_pi.{i}`, `actor.mu` | deterministic `tanh(μ(s))` (SAC's mode); critic `critic.qf0.{i}` |
///
/// The activation is `policy_kwargs.activation_fn` when saved, else SB3's default (tanh for
/// actor-critic policies, ReLU otherwise). Hidden sizes come from the tensors and are checked
/// against `net_arch`. Observation normalisation (`VecNormalize`) lives outside the zip: pass
/// the statistics `VecNormalizeStatistics` reads from its pickle, or a mean and std.
///
/// `CnnPolicy` models of DQN and PPO/A2C put SB3's `NatureCNN` in front
/// (`q_net.features_extractor.*`; `pi_features_extractor.*` for the actor and
/// `vf_features_extractor.*` for the critic): convolutions over the saved observation shape
/// `[channels, height, width]` — the layout SB3's `VecTransposeImage` gives it — then its
/// Linear layer and ReLU. SB3 divides image observations (a uint8 space of 0…255) by 255 before
/// any network unless `normalize_images=False`; the imported policy does the same through its
/// observation scaling (mean 0, std 255), so it takes the frames as the environment gives them.
public struct StableBaselines3Model {
    /// `dqn`, `actor-critic` (PPO/A2C), `td3` (also DDPG) or `sac`.
    public var family: String
    /// The policy class's module as saved (`stable_baselines3.dqn.policies`), if readable.
    public var policyModule: String?
    /// The saved `activation_fn`, if any.
    public var activation: Activation?
    public var stateDict: [String: Safetensors.Tensor]
    /// `net_arch` from `policy_kwargs`, if saved.
    public var netArch: JSONValue?
    /// The observation space's shape as saved.
    public var observationShape: [Int]?
    /// Whether the model used generalised state-dependent exploration (not supported).
    public var usesSDE: Bool
    /// Whether SB3 divides observations by 255 before the network: the saved observation space
    /// is a 3-D uint8 box of 0…255 (SB3's `is_image_space`) and `normalize_images` was not
    /// turned off.
    public var scalesImages: Bool
    /// `policy_kwargs.features_extractor_class` as saved (absent: the policy's default).
    public var featuresExtractorClass: String?
    public var version: String?

    public init(contentsOf url: URL) throws(PolicyFileError) {
        let bytes: Data
        do { bytes = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw PolicyFileError("cannot read \(url.path): \(readProblem(at: url, error))")
        }
        do { try self.init(zip: bytes) } catch { throw PolicyFileError("\(url.path): \(error.description)") }
    }

    /// Reads the bytes of a model zip.
    public init(zip bytes: Data) throws(PolicyFileError) {
        do throws(StateDictFormatError) {
            let archive = try ZipArchive(data: bytes)
            guard archive.paths.contains("policy.pth") else {
                throw StateDictFormatError(
                    "no policy.pth: not a Stable-Baselines3 model zip (members: \(archive.paths.prefix(8).joined(separator: ", ")))"
                )
            }
            stateDict = try TorchCheckpoint.stateDict(data: try archive.contents(of: "policy.pth"))
            if archive.paths.contains("_stable_baselines3_version") {
                version = String(decoding: try archive.contents(of: "_stable_baselines3_version"), as: UTF8.self)
            }
            var data: [String: JSONValue] = [:]
            if archive.paths.contains("data") {
                let text = try archive.contents(of: "data")
                do { data = try JSONValue.parse(text).object ?? [:] } catch {
                    throw StateDictFormatError("member 'data' is not valid JSON (\(error.description))")
                }
            }
            policyModule = data["policy_class"]?.object?["__module__"]?.string
            let kwargs = data["policy_kwargs"]?.object
            netArch = kwargs?["net_arch"]
            if let text = kwargs?["activation_fn"]?.string {
                activation = try Self.activation(fromClass: text)
            }
            let space = data["observation_space"]?.object
            observationShape = space?["_shape"]?.integers
            usesSDE = data["use_sde"] == .bool(true)
            scalesImages =
                observationShape?.count == 3 && space?["dtype"]?.string == "uint8" && space?["low_repr"]?.string == "0"
                && space?["high_repr"]?.string == "255" && kwargs?["normalize_images"] != .bool(false)
            featuresExtractorClass = kwargs?["features_extractor_class"]?.string
        } catch {
            throw PolicyFileError(error.description)
        }
        let names = stateDict.keys
        if names.contains(where: { $0.hasPrefix("q_net.q_net.") }) {
            family = "dqn"
        } else if names.contains(where: { $0.hasPrefix("mlp_extractor.") || $0 == "action_net.weight" }) {
            family = "actor-critic"
        } else if names.contains(where: { $0.hasPrefix("actor.latent_pi.") }) {
            family = "sac"
        } else if names.contains(where: { $0.hasPrefix("actor.mu.") }) {
            family = "td3"
        } else {
            throw PolicyFileError(
                "policy.pth has none of the module names of SB3's DQN, PPO/A2C, TD3/DDPG or SAC policies (found \(names.sorted().prefix(6).joined(separator: ", "))); convert it with scripts/export_sb3.py"
            )
        }
    }

    /// `"<class 'torch.nn.modules.activation.ReLU'>"` → ReLU.
    static func activation(fromClass text: String) throws(StateDictFormatError) -> Activation {
        let name = text.split(separator: ".").last.map { $0.replacingOccurrences(of: "'>", with: "") } ?? text
        switch name {
        case "ReLU": return .relu
        case "Tanh": return .tanh
        case "LeakyReLU": return .leakyReLU(slope: 0.01)
        default: throw StateDictFormatError("activation_fn \(text) is not one Gauntlet has (ReLU, Tanh, LeakyReLU)")
        }
    }

    /// The model as a Gauntlet policy file acting in `environment`. `activation` overrides the
    /// saved (or default) activation.
    public func policyFile(
        environment: String, activation override: Activation? = nil,
        normalization: PolicyDescription.Normalization? = nil, source: URL
    ) throws(PolicyFileError) -> PolicyFile {
        guard !usesSDE else { throw PolicyFileError("\(source.path): models trained with gSDE (use_sde=True) are not supported") }
        let activation = override ?? self.activation ?? (family == "actor-critic" ? .tanh : .relu)
        var actor = NetworkAssembly(source: source.path)
        var critic = NetworkAssembly(source: source.path)
        let kind: PolicyKind
        var extra: [String: Safetensors.Tensor] = [:]
        var criticTakesAction = false
        if let featuresExtractorClass, !featuresExtractorClass.hasSuffix(".NatureCNN'>"),
            stateDict.keys.contains(where: { $0.contains("features_extractor.") })
        {
            throw PolicyFileError(
                "\(source.path): the features extractor \(featuresExtractorClass) is not SB3's NatureCNN, the one Gauntlet reads; convert the model with scripts/export_sb3.py"
            )
        }
        /// Linear layers of the feature extractors, which `net_arch` does not count.
        var featureLayers = 0
        switch family {
        case "dqn":
            kind = .greedyQ
            if try actor.appendNatureCNN(stateDict, prefix: "q_net.features_extractor.", imageShape: observationShape) {
                featureLayers = 1
            }
            try actor.appendSequential(stateDict, prefix: "q_net.q_net.", activation: activation, activationAfterLast: false)
        case "actor-critic":
            if stateDict.keys.contains(where: { $0.hasPrefix("mlp_extractor.shared_net.") }) {
                throw PolicyFileError("\(source.path): shared layers (mlp_extractor.shared_net, SB3 < 1.8) are not supported")
            }
            // Shared extractors are saved under all three names, separate ones under the last two.
            let shared = stateDict["pi_features_extractor.cnn.0.weight"] == nil ? "features_extractor." : nil
            if try actor.appendNatureCNN(stateDict, prefix: shared ?? "pi_features_extractor.", imageShape: observationShape) {
                featureLayers = 1
                _ = try critic.appendNatureCNN(
                    stateDict, prefix: shared ?? "vf_features_extractor.", imageShape: observationShape)
            }
            try actor.appendSequential(
                stateDict, prefix: "mlp_extractor.policy_net.", activation: activation, activationAfterLast: true)
            try actor.appendLinear(stateDict, weight: "action_net.weight", bias: "action_net.bias")
            try critic.appendSequential(
                stateDict, prefix: "mlp_extractor.value_net.", activation: activation, activationAfterLast: true)
            try critic.appendLinear(stateDict, weight: "value_net.weight", bias: "value_net.bias")
            if let logStd = stateDict["log_std"] {
                guard let values = logStd.floatingPoint(as: Float.self), logStd.shape.count == 1 else {
                    throw PolicyFileError("\(source.path): 'log_std' must be a float vector")
                }
                kind = .gaussian
                extra["log_std"] = .init(shape: logStd.shape, float32: values)
            } else {
                kind = .categorical
            }
        case _ where stateDict.keys.contains(where: { $0.contains("features_extractor.cnn.") }):
            throw PolicyFileError(
                "\(source.path): \(family.uppercased()) with a CNN feature extractor is not supported (its critic joins image features and actions, which a Sequential cannot); DQN and PPO/A2C CnnPolicy models are"
            )
        case "td3":
            kind = .deterministic
            try actor.appendSequential(stateDict, prefix: "actor.mu.", activation: activation, activationAfterLast: false)
            actor.append(.tanh)
            try critic.appendSequential(stateDict, prefix: "critic.qf0.", activation: activation, activationAfterLast: false)
            criticTakesAction = true
        default:  // sac: the mode of its squashed Gaussian is tanh(μ(s))
            kind = .deterministic
            try actor.appendSequential(stateDict, prefix: "actor.latent_pi.", activation: activation, activationAfterLast: true)
            try actor.appendLinear(stateDict, weight: "actor.mu.weight", bias: "actor.mu.bias")
            actor.append(.tanh)
            try critic.appendSequential(stateDict, prefix: "critic.qf0.", activation: activation, activationAfterLast: false)
            criticTakesAction = true
        }
        let network = try actor.network()
        let criticNetwork = critic.modules.isEmpty ? nil : try critic.network()
        try checkNetArch(network: network, critic: criticNetwork, featureLayers: featureLayers, source: source)
        if let observationShape, observationShape.reduce(1, *) != network.inputDimensions {
            throw PolicyFileError(
                "\(source.path): the saved observation space has shape \(observationShape) but the network takes \(network.inputDimensions) inputs"
            )
        }
        var normalization = normalization
        if scalesImages {
            guard normalization == nil else {
                throw PolicyFileError(
                    "\(source.path): SB3 divides this model's image observations by 255 (normalize_images); observation statistics cannot be given as well"
                )
            }
            let inputs = network.inputDimensions
            normalization = .init(mean: Array(repeating: 0, count: inputs), std: Array(repeating: 255, count: inputs))
        }
        var provenance = ["sb3_family": family]
        if let policyModule { provenance["sb3_policy_module"] = policyModule }
        if let version { provenance["sb3_version"] = version }
        return try PolicyImport.policyFile(
            network: network, kind: kind, environment: environment, algorithm: "sb3-\(family)",
            normalization: normalization, extraTensors: extra, critic: criticNetwork,
            criticTakesAction: criticTakesAction, source: source, provenance: provenance)
    }

    /// The hidden sizes of the actor (and critic) after their first `featureLayers` Linear
    /// layers against `net_arch` when it was saved: a list for both, or `{pi: […], vf: […]}` /
    /// `{pi: […], qf: […]}`.
    func checkNetArch(network: Sequential<Float>, critic: Sequential<Float>?, featureLayers: Int, source: URL)
        throws(PolicyFileError)
    {
        guard let netArch else { return }
        func hidden(_ net: Sequential<Float>) -> [Int] { Array(net.sizes.dropFirst(1 + featureLayers).dropLast()) }
        let actorHidden = hidden(network)
        let criticHidden = critic.map(hidden)
        let expected: (actor: [Int]?, critic: [Int]?)
        if let list = netArch.integers {
            expected = (list, list)
        } else if let object = netArch.object {
            expected = (object["pi"]?.integers, (object["vf"] ?? object["qf"])?.integers)
        } else {
            return
        }
        if let actor = expected.actor, actor != actorHidden {
            throw PolicyFileError(
                "\(source.path): net_arch says the policy's hidden layers are \(actor), the tensors have \(actorHidden)")
        }
        if let criticSizes = expected.critic, let criticHidden, criticSizes != criticHidden {
            throw PolicyFileError(
                "\(source.path): net_arch says the critic's hidden layers are \(criticSizes), the tensors have \(criticHidden)")
        }
    }
}

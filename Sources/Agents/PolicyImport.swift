import Environments
import Foundation
import Linalg
import NeuralNet

/// Policies from elsewhere: a PyTorch `nn.Sequential` state dict of Linear layers (saved with
/// `safetensors.torch.save_file` or `torch.save`, names `0.weight`, `0.bias`, `2.weight`, …)
/// becomes a Gauntlet policy file; a Gauntlet policy file becomes a plain state dict again.
/// Stable-Baselines3 model zips are read by `StableBaselines3Model`.
public enum PolicyImport {
    /// Reads the state dict at `url` and describes it as a policy acting in `environment`.
    /// Layer sizes come from the tensor shapes and must chain and fit the environment's spaces;
    /// `activation` goes between the Linear layers (their indices must step by two, as
    /// `nn.Sequential(Linear, act, Linear, act, …, Linear)` numbers them). A deterministic
    /// actor's final `nn.Tanh` (which has no tensors) is appended.
    public static func stateDict(
        at url: URL, environment: String, kind: PolicyKind, activation: Activation,
        normalization: PolicyDescription.Normalization? = nil
    ) throws(PolicyFileError) -> PolicyFile {
        let tensors = try readStateDict(at: url)
        var assembly = NetworkAssembly(source: url.path)
        try assembly.appendSequential(tensors, prefix: "", activation: activation, activationAfterLast: false)
        let unused = Set(tensors.keys).subtracting(assembly.consumed)
        if let name = unused.sorted().first {
            throw PolicyFileError(
                "\(url.path): tensor '\(name)' is not an nn.Sequential Linear parameter (expected names like 0.weight, 0.bias)")
        }
        if kind == .deterministic { assembly.append(.tanh) }  // the actor's final nn.Tanh has no tensors
        var extra: [String: Safetensors.Tensor] = [:]
        let network = try assembly.network()
        if kind == .gaussian {
            extra["log_std"] = .init(
                shape: [network.outputDimensions], float32: Array(repeating: 0, count: network.outputDimensions))
        }
        return try policyFile(
            network: network, kind: kind, environment: environment, algorithm: "imported", normalization: normalization,
            extraTensors: extra, source: url)
    }

    /// A state dict from a safetensors file or a `torch.save` zip, told apart by their first bytes.
    public static func readStateDict(at url: URL) throws(PolicyFileError) -> [String: Safetensors.Tensor] {
        let isZip = (try? FileHandle(forReadingFrom: url).read(upToCount: 2)) == Data([0x50, 0x4B])
        if isZip {
            do { return try TorchCheckpoint.stateDict(contentsOf: url) } catch { throw PolicyFileError(error.description) }
        }
        do { return try Safetensors.read(contentsOf: url).tensors } catch { throw PolicyFileError(error.description) }
    }

    /// A policy file for an imported network, checked against the environment's spaces.
    static func policyFile(
        network: Sequential<Float>, kind: PolicyKind, environment: String, algorithm: String,
        normalization: PolicyDescription.Normalization?, extraTensors: [String: Safetensors.Tensor],
        critic: Sequential<Float>? = nil, criticTakesAction: Bool = false,
        source: URL, provenance: [String: String] = [:]
    ) throws(PolicyFileError) -> PolicyFile {
        let space: BoxSpace
        do { space = try Registry.make(environment).base.observationSpace } catch { throw PolicyFileError(error.description) }
        guard network.inputDimensions == space.dimension else {
            throw PolicyFileError(
                "\(source.path): the network takes \(network.inputDimensions) inputs but \(environment) observations have \(space.dimension)"
            )
        }
        if let normalization, normalization.mean.count != space.dimension || normalization.std.count != space.dimension {
            throw PolicyFileError("observation mean and std need \(space.dimension) values each")
        }
        var extra = extraTensors
        var description = PolicyDescription(
            environment: environment, algorithm: algorithm, kind: kind.rawValue, normalization: normalization,
            provenance: provenance.merging([
                "source": source.path, "source_hash": FNV1a.hex(fileAt: source) ?? "", "gauntlet_version": Gauntlet.version,
            ]) { $1 })
        if let critic {
            description.critic = PolicyDescription.Architecture(critic.modules)
            description.criticTakesAction = criticTakesAction
            extra.merge(PolicyFile.stateDict(of: critic, prefix: "critic.")) { $1 }
        }
        let imported = PolicyFile(network: network, description: description, extraTensors: extra)
        _ = try Policy(file: imported)  // checks the outputs against the action space, and the critic
        return imported
    }

    /// The network of a policy file as a plain state dict (no extra tensors), which
    /// `torch.nn.Sequential(...).load_state_dict` takes as it is. Its metadata carries what else
    /// acting needs: under `gauntlet` the policy's description without the critic (architecture,
    /// kind, action space, and the observation normalisation `clip((s − mean) / std, ±clip)` the
    /// network's input needs — the space in which `--eps-units normalized` measures ε), and under
    /// `log_std` a Gaussian policy's log σ as a JSON array.
    public static func stateDict(of file: PolicyFile) -> Safetensors {
        var description = file.description
        description.critic = nil
        description.criticTakesAction = nil
        var metadata = [PolicyFile.metadataKey: String(decoding: try! JSONEncoder.gauntlet().encode(description), as: UTF8.self)]
        if let logStd = file.extraTensors["log_std"]?.float32 {
            metadata["log_std"] = String(decoding: try! JSONEncoder().encode(logStd.map(Double.init)), as: UTF8.self)
        }
        return Safetensors(tensors: PolicyFile.stateDict(of: file.network), metadata: metadata)
    }
}

/// Builds a `Sequential` from Linear layers found in a state dict under the names of another
/// framework's modules, keeping track of the tensors it used.
struct NetworkAssembly {
    let source: String
    private(set) var modules: [Sequential<Float>.Module] = []
    private var tensors: [String: Safetensors.Tensor] = [:]
    private(set) var consumed: Set<String> = []

    init(source: String) { self.source = source }

    /// Appends the Linear layers of the `nn.Sequential` under `prefix` (`{prefix}0.weight`,
    /// `{prefix}2.weight`, …, consecutive indices two apart), `activation` between them and, if
    /// `activationAfterLast`, after the last one. An absent sequential appends nothing.
    mutating func appendSequential(
        _ stateDict: [String: Safetensors.Tensor], prefix: String, activation: Activation,
        activationAfterLast: Bool
    ) throws(PolicyFileError) {
        var indices: [Int] = []
        for name in stateDict.keys where name.hasPrefix(prefix) {
            let parts = name.dropFirst(prefix.count).split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 2, let index = Int(parts[0]), index >= 0, parts[1] == "weight" { indices.append(index) }
        }
        indices.sort()
        for (position, index) in indices.enumerated() {
            if position > 0 {
                guard index == indices[position - 1] + 2 else {
                    throw PolicyFileError(
                        "\(source): Linear layers \(prefix)\(indices[position - 1]) and \(prefix)\(index); expected one activation between consecutive Linear layers"
                    )
                }
                modules.append(.activation(activation))
            }
            try appendLinear(stateDict, weight: "\(prefix)\(index).weight", bias: "\(prefix)\(index).bias")
        }
        if activationAfterLast, !indices.isEmpty { modules.append(.activation(activation)) }
    }

    /// Appends the Linear layer with parameters `weight` `[out, in]` and `bias` `[out]`.
    mutating func appendLinear(_ stateDict: [String: Safetensors.Tensor], weight: String, bias: String) throws(PolicyFileError) {
        guard let w = stateDict[weight], w.shape.count == 2, w.shape.allSatisfy({ $0 > 0 }) else {
            throw PolicyFileError("\(source): '\(weight)' must be a matrix [out, in]")
        }
        guard let b = stateDict[bias] else {
            throw PolicyFileError("\(source): '\(bias)' is missing (Linear layers without bias are not supported)")
        }
        if let previousOutputs = modules.last(where: { $0.outputWidth != nil })?.outputWidth, previousOutputs != w.shape[1] {
            throw PolicyFileError(
                "\(source): '\(weight)' takes \(w.shape[1]) inputs but the layer before gives \(previousOutputs)")
        }
        tensors["\(modules.count).weight"] = w
        tensors["\(modules.count).bias"] = b
        consumed.formUnion([weight, bias])
        modules.append(.linear(inputs: w.shape[1], outputs: w.shape[0]))
    }

    mutating func append(_ activation: Activation) { modules.append(.activation(activation)) }

    /// Appends Stable-Baselines3's `NatureCNN` stored under `prefix` — convolutions
    /// `{prefix}cnn.{0,2,4}` (Nature DQN's, over `[channels, height, width]` images), ReLU after
    /// each, flatten, then `{prefix}linear.0` and ReLU — and returns true; returns false when
    /// there is no `{prefix}cnn.0.weight` (an MLP policy's extractor has no tensors).
    mutating func appendNatureCNN(_ stateDict: [String: Safetensors.Tensor], prefix: String, imageShape: [Int]?)
        throws(PolicyFileError) -> Bool
    {
        guard let first = stateDict["\(prefix)cnn.0.weight"] else { return false }
        guard let imageShape, imageShape.count == 3 else {
            throw PolicyFileError(
                "\(source): a NatureCNN needs the saved observation space's shape [channels, height, width], found \(imageShape.map { "\($0)" } ?? "none")"
            )
        }
        let cnn: [Sequential<Float>.Module]
        do {
            cnn = try FeatureExtractor.natureCNN.modules(channels: imageShape[0], height: imageShape[1], width: imageShape[2])
        } catch { throw PolicyFileError("\(source): observations \(imageShape): \(error.description)") }
        for (index, module) in cnn.enumerated() {
            if let shapes = module.parameterShapes {
                let weight = "\(prefix)cnn.\(index).weight"
                let bias = "\(prefix)cnn.\(index).bias"
                guard stateDict[weight]?.shape == shapes.weight, stateDict[bias]?.shape == shapes.bias else {
                    throw PolicyFileError(
                        "\(source): '\(weight)' has shape \(stateDict[weight]?.shape ?? []), NatureCNN over \(imageShape) observations needs \(shapes.weight) (first convolution: \(first.shape)); only SB3's NatureCNN extractor is read"
                    )
                }
                tensors["\(modules.count).weight"] = stateDict[weight]
                tensors["\(modules.count).bias"] = stateDict[bias]
                consumed.formUnion([weight, bias])
            }
            modules.append(module)
        }
        try appendLinear(stateDict, weight: "\(prefix)linear.0.weight", bias: "\(prefix)linear.0.bias")
        append(.relu)
        return true
    }

    /// The assembled network (shapes, dtypes and finiteness checked).
    func network() throws(PolicyFileError) -> Sequential<Float> {
        guard modules.contains(where: { if case .linear = $0 { true } else { false } }) else {
            throw PolicyFileError("\(source): no Linear weights found")
        }
        var remaining = tensors
        do { return try PolicyFile.network(modules: modules, takingFrom: &remaining) } catch {
            throw PolicyFileError("\(source): \(error.description)")
        }
    }
}

extension PolicyImport {
    /// Whether `url` is a zip holding `policy.pth` (a Stable-Baselines3 model) rather than a
    /// state dict.
    public static func isStableBaselines3Model(at url: URL) throws(PolicyFileError) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { throw PolicyFileError("cannot read \(url.path)") }
        defer { try? handle.close() }
        guard (try? handle.read(upToCount: 2)) == Data([0x50, 0x4B]) else { return false }
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch { throw PolicyFileError("cannot read \(url.path)") }
        do { return try ZipArchive(data: data).paths.contains("policy.pth") } catch {
            throw PolicyFileError("\(url.path): \(error.description)")
        }
    }
}

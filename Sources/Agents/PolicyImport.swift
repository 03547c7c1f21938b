import Environments
import Foundation
import Linalg
import NeuralNet

/// Policies from elsewhere: a PyTorch `nn.Sequential` state dict of Linear layers saved with
/// `safetensors.torch.save_file` (names `0.weight`, `0.bias`, `2.weight`, …) becomes a Gauntlet
/// policy file; a Gauntlet policy file becomes a plain state dict again.
public enum PolicyImport {
    /// Reads the state dict at `url` and describes it as a policy acting in `environment`.
    /// Layer sizes come from the tensor shapes and must chain and fit the environment's spaces;
    /// `activation` goes between the Linear layers (their indices must step by two, as
    /// `nn.Sequential(Linear, act, Linear, act, …, Linear)` numbers them).
    public static func stateDict(at url: URL, environment: String, kind: PolicyKind, activation: Activation,
                                 normalization: PolicyDescription.Normalization? = nil) throws(PolicyFileError) -> PolicyFile {
        let file: Safetensors
        do { file = try Safetensors.read(contentsOf: url) } catch { throw PolicyFileError(error.description) }
        var indices: [Int] = []
        for name in file.tensors.keys.sorted() {
            let parts = name.split(separator: ".")
            guard parts.count == 2, let index = Int(parts[0]), parts[1] == "weight" || parts[1] == "bias" else {
                throw PolicyFileError("\(url.path): tensor '\(name)' is not an nn.Sequential Linear parameter (expected names like 0.weight, 0.bias)")
            }
            if parts[1] == "weight" { indices.append(index) }
        }
        indices.sort()
        guard !indices.isEmpty else { throw PolicyFileError("\(url.path): no Linear weights (0.weight, 2.weight, …)") }
        var modules: [Sequential<Float>.Module] = []
        for (position, index) in indices.enumerated() {
            guard let shape = file.tensors["\(index).weight"]?.shape, shape.count == 2 else {
                throw PolicyFileError("\(url.path): '\(index).weight' must be a matrix [out, in]")
            }
            if position > 0 {
                guard index == indices[position - 1] + 2 else {
                    throw PolicyFileError("\(url.path): Linear layers at \(indices[position - 1]) and \(index); expected one activation between consecutive Linear layers")
                }
                modules.append(.activation(activation))
            }
            modules.append(.linear(inputs: shape[1], outputs: shape[0]))
        }
        var tensors = file.tensors
        let network = try PolicyFile.network(modules: modules, takingFrom: &tensors)
        let space: BoxSpace
        do { space = try Registry.make(environment).base.observationSpace } catch { throw PolicyFileError(error.description) }
        guard network.inputDimensions == space.dimension else {
            throw PolicyFileError("\(url.path): the network takes \(network.inputDimensions) inputs but \(environment) observations have \(space.dimension)")
        }
        if let normalization, normalization.mean.count != space.dimension || normalization.std.count != space.dimension {
            throw PolicyFileError("observation mean and std need \(space.dimension) values each")
        }
        var extra: [String: Safetensors.Tensor] = [:]
        if kind == .gaussian {
            extra["log_std"] = .init(shape: [network.outputDimensions], float32: Array(repeating: 0, count: network.outputDimensions))
        }
        let hash = FNV1a.hex(fileAt: url) ?? ""
        let imported = PolicyFile(network: network, description: PolicyDescription(
            environment: environment, algorithm: "imported", kind: kind.rawValue, normalization: normalization,
            provenance: ["source": url.path, "source_hash": hash, "gauntlet_version": Gauntlet.version]), extraTensors: extra)
        _ = try Policy(file: imported)  // checks the outputs against the action space
        return imported
    }

    /// The network of a policy file as a plain state dict (no metadata, no extra tensors), which
    /// `torch.nn.Sequential(...).load_state_dict` takes as it is.
    public static func stateDict(of file: PolicyFile) -> Safetensors {
        var plain = file.safetensors
        plain.tensors = plain.tensors.filter { name, _ in name.split(separator: ".").first.map { Int($0) != nil } ?? false }
        plain.metadata = [:]
        return plain
    }
}

import Foundation
import Linalg

/// A policy network on disk: a safetensors file whose tensors are named as PyTorch's
/// `nn.Sequential` state dict (`0.weight` `[out, in]`, `0.bias`, `2.weight`, …), so
/// `torch.nn.Sequential(...).load_state_dict(safetensors.torch.load_file(path))` loads it, and
/// whose `__metadata__["gauntlet"]` is a JSON description: architecture, environment,
/// algorithm, observation normalisation, provenance.
///
/// Weights are stored as F32 (or F64 for a network kept in the reference precision); loading
/// returns a `Sequential<Float>`, and `converted(to: Double.self)` makes the reference copy.
/// Tensors beyond the network (a Gaussian policy's `log_std`, a critic, ensemble members) travel
/// in `extraTensors`, under names that do not collide with the network's.
public struct PolicyFile: Equatable, Sendable {
    public var network: Sequential<Float>
    public var description: PolicyDescription
    public var extraTensors: [String: Safetensors.Tensor]

    /// The metadata key holding the JSON description.
    public static let metadataKey = "gauntlet"

    public init(network: Sequential<Float>, description: PolicyDescription, extraTensors: [String: Safetensors.Tensor] = [:]) {
        self.network = network
        self.description = description
        self.extraTensors = extraTensors
        self.description.architecture = PolicyDescription.Architecture(network.modules)
    }

    /// Reads a policy file, validating tensors against the described architecture.
    public static func load(contentsOf url: URL) throws(PolicyFileError) -> PolicyFile {
        let file: Safetensors
        do { file = try Safetensors.read(contentsOf: url) } catch { throw PolicyFileError(error.description) }
        do { return try PolicyFile(file) } catch { throw PolicyFileError("\(url.path): \(error.description)") }
    }

    /// Interprets a parsed safetensors file as a policy.
    public init(_ file: Safetensors) throws(PolicyFileError) {
        guard let json = file.metadata[Self.metadataKey] else {
            throw PolicyFileError(
                "no '\(Self.metadataKey)' entry in __metadata__: not a Gauntlet policy file (use `gauntlet policy import` for a plain PyTorch state dict)"
            )
        }
        let description: PolicyDescription
        do { description = try JSONDecoder.gauntlet().decode(PolicyDescription.self, from: Data(json.utf8)) } catch {
            throw PolicyFileError("metadata '\(Self.metadataKey)' is not a valid policy description: \(error)")
        }
        let modules = try description.architecture.sequentialModules()
        var tensors = file.tensors
        let network = try Self.network(modules: modules, takingFrom: &tensors)
        self.network = network
        self.description = description
        self.extraTensors = tensors
    }

    /// The critic network stored with the policy, if any.
    public func critic() throws(PolicyFileError) -> Sequential<Float>? {
        guard let architecture = description.critic else { return nil }
        var tensors = [String: Safetensors.Tensor]()
        for (name, tensor) in extraTensors where name.hasPrefix("critic.") { tensors[String(name.dropFirst(7))] = tensor }
        return try Self.network(modules: try architecture.sequentialModules(), takingFrom: &tensors)
    }

    /// Builds a network of `modules` from state-dict tensors `{i}.weight`/`{i}.bias`, removing
    /// them from `tensors`.
    public static func network(modules: [Sequential<Float>.Module], takingFrom tensors: inout [String: Safetensors.Tensor])
        throws(PolicyFileError) -> Sequential<Float>
    {
        var parameters: [Float] = []
        for (index, module) in modules.enumerated() {
            guard let shapes = module.parameterShapes else { continue }
            for (suffix, shape) in zip(["weight", "bias"], [shapes.weight, shapes.bias]) {
                let name = "\(index).\(suffix)"
                guard let tensor = tensors.removeValue(forKey: name) else {
                    throw PolicyFileError("missing tensor '\(name)' (shape \(shape)) for the module \(index), \(module.name)")
                }
                guard tensor.shape == shape else {
                    throw PolicyFileError("tensor '\(name)' has shape \(tensor.shape), the architecture needs \(shape)")
                }
                guard let values = tensor.floatingPoint(as: Float.self) else {
                    throw PolicyFileError("tensor '\(name)' has dtype \(tensor.dtype), expected F32 or F64")
                }
                guard values.allSatisfy(\.isFinite) else {
                    throw PolicyFileError("tensor '\(name)' contains NaN or infinite values")
                }
                parameters += values
            }
        }
        do { return try Sequential(modules: modules, parameters: parameters) } catch {
            throw PolicyFileError("invalid architecture: \(error.description)")
        }
    }

    /// A network's parameters named as PyTorch's `nn.Sequential` state dict
    /// (`{prefix}{i}.weight` `[out, in]` or `[out, in, k, k]`, `{prefix}{i}.bias`).
    public static func stateDict(of network: Sequential<Float>, prefix: String = "") -> [String: Safetensors.Tensor] {
        var tensors: [String: Safetensors.Tensor] = [:]
        for (module, layout) in zip(network.modules, network.parameterLayouts) {
            guard let layout, let shapes = module.parameterShapes else { continue }
            let p = network.parameters
            tensors["\(prefix)\(layout.moduleIndex).weight"] = .init(
                shape: shapes.weight, float32: Array(p[layout.weightOffset..<layout.biasOffset]))
            tensors["\(prefix)\(layout.moduleIndex).bias"] = .init(
                shape: shapes.bias, float32: Array(p[layout.biasOffset..<(layout.biasOffset + layout.biasCount)]))
        }
        return tensors
    }

    /// The safetensors form of this policy.
    public var safetensors: Safetensors {
        let tensors = extraTensors.merging(Self.stateDict(of: network)) { $1 }
        let json = String(decoding: try! JSONEncoder.gauntlet().encode(description), as: UTF8.self)
        return Safetensors(tensors: tensors, metadata: [Self.metadataKey: json])
    }

    /// Writes the policy atomically.
    public func write(to url: URL) throws(PolicyFileError) {
        do { try safetensors.write(to: url) } catch { throw PolicyFileError(error.description) }
    }
}

/// The JSON description stored in a policy file's metadata.
public struct PolicyDescription: Equatable, Sendable, Codable {
    /// The network's modules in order, as PyTorch's `nn.Sequential` would list them.
    public struct Architecture: Equatable, Sendable, Codable {
        public struct Module: Equatable, Sendable, Codable {
            /// `linear`, `conv2d`, `max_pool2d`, `flatten`, or an activation name (`relu`,
            /// `tanh`, `leaky_relu`, …).
            public var type: String
            /// A Linear module's sizes.
            public var inputs: Int?
            public var outputs: Int?
            /// A convolution's or pooling's: channels in (and out), square kernel, stride,
            /// padding, and the height and width of the images it takes.
            public var inChannels: Int?
            public var outChannels: Int?
            public var kernelSize: Int?
            public var stride: Int?
            public var padding: Int?
            public var height: Int?
            public var width: Int?

            init(type: String, inputs: Int? = nil, outputs: Int? = nil) {
                self.type = type
                self.inputs = inputs
                self.outputs = outputs
            }
        }
        public var modules: [Module]

        public init(modules: [Module]) { self.modules = modules }

        public init(_ modules: [Sequential<Float>.Module]) {
            self.modules = modules.map { module in
                switch module {
                case .linear(let i, let o): return Module(type: "linear", inputs: i, outputs: o)
                case .activation(let a): return Module(type: a.name)
                case .conv2d(let conv):
                    var m = Module(type: "conv2d")
                    (m.inChannels, m.outChannels, m.kernelSize) = (conv.inputChannels, conv.outputChannels, conv.kernelSize)
                    (m.stride, m.padding, m.height, m.width) = (conv.stride, conv.padding, conv.inputHeight, conv.inputWidth)
                    return m
                case .maxPool2d(let pool):
                    var m = Module(type: "max_pool2d")
                    (m.inChannels, m.kernelSize, m.stride) = (pool.channels, pool.kernelSize, pool.stride)
                    (m.height, m.width) = (pool.inputHeight, pool.inputWidth)
                    return m
                case .flatten: return Module(type: "flatten")
                }
            }
        }

        public func sequentialModules() throws(PolicyFileError) -> [Sequential<Float>.Module] {
            var result: [Sequential<Float>.Module] = []
            for (index, module) in modules.enumerated() {
                func required(_ value: Int?, _ key: String) throws(PolicyFileError) -> Int {
                    guard let value else {
                        throw PolicyFileError("architecture module \(index): a \(module.type) module needs '\(key)'")
                    }
                    return value
                }
                func checked<T>(_ make: () throws(NetworkError) -> T) throws(PolicyFileError) -> T {
                    do { return try make() } catch { throw PolicyFileError("architecture module \(index): \(error.description)") }
                }
                switch module.type {
                case "linear":
                    guard let i = module.inputs, let o = module.outputs, i > 0, o > 0 else {
                        throw PolicyFileError(
                            "architecture module \(index): a linear module needs positive 'inputs' and 'outputs'")
                    }
                    result.append(.linear(inputs: i, outputs: o))
                case "conv2d":
                    let (i, o, k) = (
                        try required(module.inChannels, "in_channels"), try required(module.outChannels, "out_channels"),
                        try required(module.kernelSize, "kernel_size")
                    )
                    let (h, w) = (try required(module.height, "height"), try required(module.width, "width"))
                    result.append(
                        .conv2d(
                            try checked { () throws(NetworkError) in
                                try Conv2d(
                                    inputChannels: i, outputChannels: o, kernelSize: k, stride: module.stride ?? 1,
                                    padding: module.padding ?? 0, inputHeight: h, inputWidth: w)
                            }))
                case "max_pool2d":
                    let (c, k) = (try required(module.inChannels, "in_channels"), try required(module.kernelSize, "kernel_size"))
                    let (h, w) = (try required(module.height, "height"), try required(module.width, "width"))
                    result.append(
                        .maxPool2d(
                            try checked { () throws(NetworkError) in
                                try MaxPool2d(channels: c, kernelSize: k, stride: module.stride, inputHeight: h, inputWidth: w)
                            }))
                case "flatten":
                    result.append(.flatten)
                default:
                    guard let activation = Activation(name: module.type) else {
                        throw PolicyFileError("architecture module \(index): unknown module type '\(module.type)'")
                    }
                    result.append(.activation(activation))
                }
            }
            return result
        }
    }

    /// Observation normalisation applied before the network: `clip((s − mean) / std, ±clip)`.
    public struct Normalization: Equatable, Sendable, Codable {
        public var mean: [Double]
        public var std: [Double]
        /// Bound of the normalised values (none when absent).
        public var clip: Double?
        public init(mean: [Double], std: [Double], clip: Double? = nil) {
            self.mean = mean
            self.std = std
            self.clip = clip
        }
    }

    /// The actions the outputs select from: `discrete` actions, or a box `low`…`high`.
    public struct ActionSpace: Equatable, Sendable, Codable {
        public var discrete: Int?
        public var low: [Double]?
        public var high: [Double]?
        public init(discrete: Int? = nil, low: [Double]? = nil, high: [Double]? = nil) {
            self.discrete = discrete
            self.low = low
            self.high = high
        }
    }

    /// Format version of this description.
    public var format: Int = 1
    public var architecture: Architecture
    /// The value network trained with the policy (tensors `critic.{i}.weight`/`.bias`), if kept:
    /// V(s) for PPO, Q(s, a) on `[s, a]` for TD3/DDPG.
    public var critic: Architecture?
    /// Whether the critic's input is `[observation, action]` (a Q-function) rather than `s`.
    public var criticTakesAction: Bool?
    /// Environment id the policy acts in (`CartPole-v1`).
    public var environment: String?
    /// Training algorithm (`dqn`, `ppo`, `td3`, …).
    public var algorithm: String?
    /// How outputs become actions (`greedy-q`, `categorical`, `gaussian`, `deterministic`).
    public var kind: String?
    public var normalization: Normalization?
    /// Free-form provenance: training seed, config hash, Gauntlet version, date.
    public var provenance: [String: String]
    /// Defenses wrapped around the network, innermost first (absent: none).
    public var defenses: [DefenseDescription]?
    /// The action space (absent in files written before it was recorded: the environment's then).
    public var actionSpace: ActionSpace?
    /// The training configuration that produced the policy, every key with the value used
    /// (robust training included); absent for imported policies.
    public var training: [String: JSONValue]?

    public init(
        architecture: Architecture = Architecture([]), environment: String? = nil, algorithm: String? = nil,
        kind: String? = nil, normalization: Normalization? = nil, provenance: [String: String] = [:]
    ) {
        self.architecture = architecture
        self.environment = environment
        self.algorithm = algorithm
        self.kind = kind
        self.normalization = normalization
        self.provenance = provenance
    }
}

/// A defense stored in a policy file: its `type` and the parameters that type keeps, which the
/// defense itself writes and reads (in JSON, side by side with `type`:
/// `{"type": "quantize", "step": 0.5, "scale": [...]}`). Tensors a defense keeps (ensemble
/// members) travel in the file's extra tensors.
public struct DefenseDescription: Equatable, Sendable, Codable {
    public var type: String
    public var parameters: [String: JSONValue]

    public init(type: String, parameters: [String: JSONValue] = [:]) {
        self.type = type
        self.parameters = parameters
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        type = try container.decode(String.self, forKey: Key(stringValue: "type"))
        parameters = [:]
        for key in container.allKeys where key.stringValue != "type" {
            parameters[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(type, forKey: Key(stringValue: "type"))
        for (key, value) in parameters { try container.encode(value, forKey: Key(stringValue: key)) }
    }

    public func number(_ key: String) -> Double? { parameters[key]?.number }
    public func integer(_ key: String) -> Int? { parameters[key]?.integer }
    public func numbers(_ key: String) -> [Double]? { parameters[key]?.numbers }
    public func string(_ key: String) -> String? { parameters[key]?.string }

    /// Network architectures stored under `key` (ensemble members).
    public func architectures(_ key: String) throws(PolicyFileError) -> [PolicyDescription.Architecture]? {
        guard let value = parameters[key] else { return nil }
        do { return try JSONDecoder().decode([PolicyDescription.Architecture].self, from: JSONEncoder().encode(value)) } catch {
            throw PolicyFileError("'\(key)' is not a list of architectures: \(error)")
        }
    }
}

/// A policy file that cannot be used; the description says what is wrong.
public struct PolicyFileError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

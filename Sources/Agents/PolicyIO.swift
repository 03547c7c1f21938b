import Environments
import Foundation
import Linalg
import NeuralNet

extension Policy {
    /// This policy as a policy file (weights in float32; a Float64 run's reference weights stay
    /// in its checkpoint) with its description.
    public func file(environment: String, algorithm: String, provenance: [String: String]) -> PolicyFile {
        var extra: [String: Safetensors.Tensor] = [:]
        if kind == .gaussian { extra["log_std"] = .init(shape: [logStd.count], float32: logStd.map { Float($0) }) }
        let normalization = scaling.map {
            PolicyDescription.Normalization(
                mean: $0.mean.map { Double($0) }, std: $0.std.map { Double($0) }, clip: Double($0.clip))
        }
        var description = PolicyDescription(
            environment: environment, algorithm: algorithm, kind: kind.rawValue,
            normalization: normalization, provenance: provenance)
        switch actionSpace {
        case .discrete(let n): description.actionSpace = .init(discrete: n)
        case .box(let box) where (box.low + box.high).allSatisfy(\.isFinite):
            description.actionSpace = .init(low: box.low.map(Double.init), high: box.high.map(Double.init))
        case .box: break
        }
        if let critic {
            let stored = critic.converted(to: Float.self)
            description.critic = PolicyDescription.Architecture(stored.modules)
            description.criticTakesAction = criticTakesAction
            extra.merge(PolicyFile.stateDict(of: stored, prefix: "critic.")) { $1 }
        }
        if !defenses.isEmpty {
            description.defenses = defenses.map(\.stored.description)
            for defense in defenses { extra.merge(defense.stored.tensors) { $1 } }
        }
        return PolicyFile(network: network.converted(to: Float.self), description: description, extraTensors: extra)
    }
}

extension Policy where Scalar == Float {
    /// The policy stored in a policy file. The file must name its kind and environment; its
    /// action space is the recorded one, or the environment's for older files. Stored defenses
    /// are read by the decoders `decoding` gives.
    public init(file: PolicyFile, decoding: PolicyDecoding = .plain) throws(PolicyFileError) {
        let description = file.description
        guard let kindName = description.kind, let kind = PolicyKind(rawValue: kindName) else {
            throw PolicyFileError(
                "policy kind '\(description.kind ?? "")' unknown (expected \(PolicyKind.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        guard let id = description.environment else { throw PolicyFileError("the policy file names no environment") }
        let space: ActionSpace
        if let stored = description.actionSpace {
            if let n = stored.discrete, n > 0, stored.low == nil, stored.high == nil {
                space = .discrete(n)
            } else if stored.discrete == nil, let low = stored.low, let high = stored.high, !low.isEmpty, low.count == high.count,
                zip(low, high).allSatisfy({ $0.isFinite && $1.isFinite && $0 <= $1 })
            {
                space = .box(BoxSpace(low: low.map(Float.init), high: high.map(Float.init)))
            } else {
                throw PolicyFileError(
                    "actionSpace must be {discrete: N > 0} or {low, high} of equal, non-empty lengths with low ≤ high")
            }
        } else {
            do { space = try decoding.environments.make(id).base.actionSpace } catch {
                throw PolicyFileError("policy environment: \(error.description)")
            }
        }
        let outputs = file.network.outputDimensions
        switch (kind, space) {
        case (.greedyQ, .discrete(let n)), (.categorical, .discrete(let n)):
            guard outputs == n else { throw PolicyFileError("the network has \(outputs) outputs but \(id) has \(n) actions") }
        case (.gaussian, .box(let box)), (.deterministic, .box(let box)):
            guard outputs == box.dimension else {
                throw PolicyFileError("the network has \(outputs) outputs but \(id)'s actions have \(box.dimension) dimensions")
            }
        default:
            throw PolicyFileError("a \(kind.rawValue) policy does not fit \(id)'s \(space.description)")
        }
        var logStd: [Float] = []
        if kind == .gaussian {
            guard let values = file.extraTensors["log_std"]?.float32, values.count == outputs else {
                throw PolicyFileError("a gaussian policy needs an F32 tensor 'log_std' of \(outputs) values")
            }
            logStd = values
        }
        var scaling: ObservationScaling<Float>? = nil
        if let n = description.normalization {
            guard n.mean.count == file.network.inputDimensions, n.std.count == n.mean.count,
                n.std.allSatisfy({ $0 > 0 && $0.isFinite })
            else {
                throw PolicyFileError(
                    "normalization needs \(file.network.inputDimensions) means and positive standard deviations")
            }
            scaling = ObservationScaling(
                mean: n.mean.map(Float.init), std: n.std.map(Float.init), clip: Float(n.clip ?? .infinity))
        }
        let critic = try file.critic()
        let takesAction = description.criticTakesAction ?? false
        if let critic {
            let expected = file.network.inputDimensions + (takesAction ? outputs : 0)
            guard critic.inputDimensions == expected, critic.outputDimensions == 1 else {
                throw PolicyFileError(
                    "the critic maps \(critic.inputDimensions) inputs to \(critic.outputDimensions) outputs, expected \(expected) to 1"
                )
            }
        }
        self.init(
            network: file.network, kind: kind, actionSpace: space, logStd: logStd, scaling: scaling, critic: critic,
            criticTakesAction: takesAction)
        for stored in description.defenses ?? [] {
            defenses.append(try decoding.decode(stored, file: file, inner: self))
        }
    }

    /// Loads a policy file.
    public static func load(contentsOf url: URL, decoding: PolicyDecoding = .plain) throws(PolicyFileError) -> Policy<Float> {
        try Policy(file: PolicyFile.load(contentsOf: url), decoding: decoding)
    }
}

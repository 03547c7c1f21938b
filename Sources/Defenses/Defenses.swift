import Agents
import Attacks
import Linalg
import NeuralNet

/// Robust training objectives, ensembles, input transformations, certification and detection.
public enum Defenses {
    /// The robust-training methods, `adversarial` making its attacks from `attacks`.
    public static func robustTrainingMethods(attacks: AttackRegistry) -> [RobustTrainingMethod] {
        [
            AdversarialTraining.method(attacks: attacks), StateAdversarialRegularizer.method, RadialLoss.method,
            AlternatingAdversaryTraining.method,
        ]
    }

    /// Decoders of every defense a policy file can hold.
    public static let decoders = ["ensemble", "quantize", "clip", "noise", "smoothing"].map { type in
        DefenseDecoder(type: type) { stored, file, inner throws(PolicyFileError) in try decode(stored, file: file, inner: inner) }
    }

    static func decode(_ stored: DefenseDescription, file: PolicyFile, inner: Policy<Float>) throws(PolicyFileError)
        -> any PolicyDefense
    {
        let dimension = inner.observationDimension
        let scale = stored.scale ?? Array(repeating: 1, count: dimension)
        do throws(DefenseError) {
            guard scale.count == dimension else { throw DefenseError("'scale' needs \(dimension) values") }
            switch stored.type {
            case "ensemble":
                guard inner.defenses.isEmpty else { throw DefenseError("an ensemble must be the innermost defense") }
                var members: [Sequential<Float>] = []
                for (m, architecture) in (stored.members ?? []).enumerated() {
                    var tensors: [String: Safetensors.Tensor] = [:]
                    let prefix = "member\(m + 1)."
                    for (name, tensor) in file.extraTensors where name.hasPrefix(prefix) {
                        tensors[String(name.dropFirst(prefix.count))] = tensor
                    }
                    do {
                        members.append(
                            try PolicyFile.network(modules: try architecture.sequentialModules(), takingFrom: &tensors))
                    } catch {
                        throw DefenseError("ensemble member \(m + 1): \(error.description)")
                    }
                }
                return try Ensemble(
                    members: members, aggregation: try Aggregation(name: stored.aggregation ?? "mean", trim: stored.trim),
                    kind: inner.kind, base: inner.network)
            case "quantize":
                return try Quantization(step: stored.step ?? 0, scale: scale)
            case "clip":
                guard let lower = stored.lower, let upper = stored.upper, lower.count == dimension else {
                    throw DefenseError("clip needs 'lower' and 'upper', \(dimension) values each")
                }
                return try RangeClipping(lower: lower, upper: upper)
            case "noise":
                return try NoiseInjection(sigma: stored.sigma ?? 0, scale: scale)
            case "smoothing":
                return try SmoothedPolicy(
                    sigma: stored.sigma ?? 0, samples: stored.samples ?? 0,
                    aggregation: try Aggregation(name: stored.aggregation ?? "vote", trim: stored.trim), scale: scale,
                    discrete: inner.actionSpace.actionCount != nil)
            default:
                throw DefenseError(
                    "unknown defense type '\(stored.type)' (expected ensemble, quantize, clip, noise or smoothing)")
            }
        } catch {
            throw PolicyFileError("defense '\(stored.type)': \(error.description)")
        }
    }

    /// An ensemble of policy files acting in the same environment with the same kind and
    /// observation scaling: the first file's policy with the others' networks as members.
    public static func ensemble(_ files: [PolicyFile], aggregation: Aggregation) throws(DefenseError) -> Policy<Float> {
        guard let first = files.first, files.count >= 2 else { throw DefenseError("an ensemble needs at least two policies") }
        var policy: Policy<Float>
        do { policy = try Policy(file: first) } catch { throw DefenseError(error.description) }
        guard policy.defenses.isEmpty else { throw DefenseError("ensemble members must be undefended policies") }
        for (m, file) in files.enumerated().dropFirst() {
            let d = file.description
            guard d.environment == first.description.environment, d.kind == first.description.kind,
                d.normalization == first.description.normalization, (d.defenses ?? []).isEmpty
            else {
                throw DefenseError(
                    "member \(m + 1) differs from the first in environment, kind or observation normalisation, or holds defenses")
            }
        }
        policy.defenses = [
            try Ensemble(
                members: files.dropFirst().map(\.network), aggregation: aggregation, kind: policy.kind, base: policy.network)
        ]
        return policy
    }

    /// An input transformation from its spec — `quantize:step=S`, `noise:sigma=S`,
    /// `smoothing:sigma=S,samples=K,aggregation=vote|mean|median`, or `clip` (to `range`) —
    /// with `scale` the per-dimension unit of steps and σ.
    public static func transformation(_ text: String, scale: [Double], range: (lower: [Double], upper: [Double])?, discrete: Bool)
        throws(DefenseError) -> any PolicyDefense
    {
        let spec: AttackSpec
        do { spec = try AttackSpec(parsing: text) } catch { throw DefenseError("'\(text)': \(error.description)") }
        do {
            switch spec.name {
            case "quantize":
                try spec.requireKnown(["step"])
                return try Quantization(step: try spec.double("step", default: 0.05, in: 1e-12...1e12), scale: scale)
            case "noise":
                try spec.requireKnown(["sigma"])
                return try NoiseInjection(sigma: try spec.double("sigma", default: 0.1, in: 1e-12...1e12), scale: scale)
            case "smoothing":
                try spec.requireKnown(["sigma", "samples", "aggregation", "trim"])
                let trim = spec.parameters["trim"] == nil ? nil : try spec.int("trim", default: 1, in: 1...10_000)
                return try SmoothedPolicy(
                    sigma: try spec.double("sigma", default: 0.1, in: 1e-12...1e12),
                    samples: try spec.int("samples", default: 16, in: 1...10_000),
                    aggregation: try Aggregation(
                        name: try spec.choice(
                            "aggregation", default: discrete ? "vote" : "mean", from: ["mean", "median", "trimmed", "vote"]),
                        trim: trim),
                    scale: scale, discrete: discrete)
            case "clip":
                try spec.requireKnown([String]())
                guard let range else { throw DefenseError("clip needs the clean observation range") }
                return try RangeClipping(lower: range.lower, upper: range.upper)
            default:
                throw DefenseError("unknown transformation '\(spec.name)' (expected quantize, noise, smoothing or clip)")
            }
        } catch let error as DefenseError {
            throw DefenseError("'\(text)': \(error.description)")
        } catch let error as AttackError {
            throw DefenseError("'\(text)': \(error.description)")
        } catch {
            throw DefenseError("'\(text)': \(error)")
        }
    }
}

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
            AlternatingAdversaryTraining.method, WorstCaseAwareTraining.method,
        ]
    }

    /// Every inference-time defense Gauntlet has.
    public static let kinds = [Ensemble.kind, Quantization.kind, RangeClipping.kind, NoiseInjection.kind, SmoothedPolicy.kind]

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
                members: files.dropFirst().map(\.network), aggregation: aggregation, discrete: policy.head.isDiscrete,
                base: policy.network)
        ]
        return policy
    }

    /// An input transformation from its spec (`quantize:step=S`, `noise:sigma=S`,
    /// `smoothing:sigma=S,samples=K,aggregation=…`, `clip`), made by the kind of `kinds` it names.
    public static func transformation(_ text: String, context: TransformationContext, kinds: [DefenseKind] = kinds)
        throws(DefenseError) -> any PolicyDefense
    {
        let transformations = kinds.filter(\.isTransformation)
        do throws(DefenseError) {
            let spec: AttackSpec
            do throws(AttackError) {
                spec = try AttackSpec(parsing: text)
            } catch { throw DefenseError(error.description) }
            guard let kind = transformations.first(where: { $0.type == spec.name }), let make = kind.makeTransformation else {
                throw DefenseError(
                    "unknown transformation '\(spec.name)' (expected \(transformations.map(\.type).joined(separator: ", ")))")
            }
            do throws(AttackError) { try spec.requireKnown(kind.transformParameters) } catch {
                throw DefenseError(error.description)
            }
            return try make(spec, context)
        } catch {
            throw DefenseError("'\(text)': \(error.description)")
        }
    }
}

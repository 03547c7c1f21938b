import Agents
import Attacks
import Linalg
import NeuralNet

/// A kind of inference-time defense, declared next to the defense: its type as policy files
/// store it, what it does, how it is read back from a file, and — for input transformations —
/// the parameters of its `--transform` spec and how the spec makes it. `Defenses.kinds` lists
/// Gauntlet's; the decoders, `gauntlet defend --help` and `--transform` parsing read them.
public struct DefenseKind: Sendable {
    public var type: String
    public var summary: String
    /// The `--transform TYPE:key=value,…` parameters (empty for defenses made otherwise).
    public var transformParameters: [AttackParameter]
    let decode: @Sendable (DefenseDescription, PolicyFile, Policy<Float>) throws(DefenseError) -> any PolicyDefense
    let makeTransformation: (@Sendable (AttackSpec, TransformationContext) throws(DefenseError) -> any PolicyDefense)?

    public init(
        type: String, summary: String, transformParameters: [AttackParameter] = [],
        decode: @escaping @Sendable (DefenseDescription, PolicyFile, Policy<Float>) throws(DefenseError) -> any PolicyDefense,
        makeTransformation: (@Sendable (AttackSpec, TransformationContext) throws(DefenseError) -> any PolicyDefense)? = nil
    ) {
        self.type = type
        self.summary = summary
        self.transformParameters = transformParameters
        self.decode = decode
        self.makeTransformation = makeTransformation
    }

    /// Reads the defense back from a policy file; errors name the defense.
    public var decoder: DefenseDecoder {
        DefenseDecoder(type: type) { stored, file, inner throws(PolicyFileError) in
            do throws(DefenseError) { return try decode(stored, file, inner) } catch {
                throw PolicyFileError("defense '\(type)': \(error.description)")
            }
        }
    }

    /// Whether `--transform` can make it.
    public var isTransformation: Bool { makeTransformation != nil }

    /// One line for `--help`.
    public var helpLine: String { AttackParameter.helpLine(type, summary, transformParameters) }
}

extension DefenseKind {
    /// An input transformation with one number `parameter` in units of a per-dimension scale,
    /// stored as that number and `scale`.
    static func scaledTransformation(
        type: String, summary: String, parameter: AttackParameter,
        make: @escaping @Sendable (Double, [Double]) throws(DefenseError) -> any PolicyDefense
    ) -> DefenseKind {
        DefenseKind(
            type: type, summary: summary, transformParameters: [parameter],
            decode: { stored, _, inner throws(DefenseError) in
                try make(stored.number(parameter.key) ?? 0, try stored.scale(dimension: inner.observationDimension))
            },
            makeTransformation: { spec, context throws(DefenseError) in
                try make(try attackSpecValue { () throws(AttackError) in try spec.double(parameter) }, context.scale)
            })
    }
}

/// What an input transformation made from a spec is fitted to: the per-dimension unit of its
/// steps and σ, the clean observation range (clipping), and whether actions are discrete.
public struct TransformationContext: Sendable {
    public var scale: [Double]
    public var range: (lower: [Double], upper: [Double])?
    public var discrete: Bool

    public init(scale: [Double], range: (lower: [Double], upper: [Double])?, discrete: Bool) {
        self.scale = scale
        self.range = range
        self.discrete = discrete
    }
}

extension DefenseDescription {
    /// The stored per-dimension unit (1 when absent), checked against the policy's dimension.
    func scale(dimension: Int) throws(DefenseError) -> [Double] {
        let scale = numbers("scale") ?? Array(repeating: 1, count: dimension)
        guard scale.count == dimension else { throw DefenseError("'scale' needs \(dimension) values") }
        return scale
    }
}

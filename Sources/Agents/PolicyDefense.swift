import Environments
import Linalg
import NeuralNet

/// A defense that stands between the observation and a policy's network — an ensemble, an
/// input transformation, randomised smoothing — seen by attacks through the policy's usual
/// surface (`Policy.outputs`, `Policy.outputsAndInputGradient`). The implementations live in
/// the `Defenses` module; `Policy.defenses` holds them.
///
/// The gradient a defense passes back is the one an adaptive attacker would use: exact where
/// the defense is differentiable, the straight-through (BPDA, Athalye et al. 2018) gradient
/// where it is not, and one draw of the randomness for randomised defenses (attacks average
/// several with `eot=K`).
public protocol PolicyDefense: Sendable {
    /// The defense as a spec string, its parameters included.
    var spec: String { get }
    /// Whether its outputs depend on `random`.
    var isRandomized: Bool { get }
    /// How it is stored in a policy file, and any tensors it keeps there.
    var stored: (description: DefenseDescription, tensors: [String: Safetensors.Tensor]) { get }
    /// The defended outputs, `inner` being the policy it wraps.
    func outputs<S: BLASScalar>(_ observations: Matrix<S>, inner: Policy<S>, random: RandomStream) -> Matrix<S>
    /// The defended outputs and `∂L/∂observation` for the output gradient `lossGradient`
    /// computes from them.
    func outputsAndInputGradient<S: BLASScalar>(
        _ observations: Matrix<S>, inner: Policy<S>, random: RandomStream,
        lossGradient: (Matrix<S>) -> Matrix<S>
    ) -> (outputs: Matrix<S>, gradient: Matrix<S>)
    /// The box the defense hands on for the input box `[lower, upper]` (row by row), where it
    /// has an exact interval form — a deterministic transformation that is monotone in each
    /// dimension maps the box to the box of its ends. Nil otherwise (randomised defenses,
    /// ensembles): interval bounds of the bare network would not be the defended policy's.
    func transformedBox<S: BLASScalar>(lower: Matrix<S>, upper: Matrix<S>) -> (lower: Matrix<S>, upper: Matrix<S>)?
}

extension PolicyDefense {
    public func transformedBox<S: BLASScalar>(lower: Matrix<S>, upper: Matrix<S>) -> (lower: Matrix<S>, upper: Matrix<S>)? { nil }
}

/// A random stream shared by the copies of one policy value (randomised defenses draw from it).
/// Give each concurrently used policy its own.
public final class DefenseRandomness: @unchecked Sendable {
    public let stream: RandomStream
    public init(_ stream: RandomStream) { self.stream = stream }
}

/// Turns a stored defense of one `type` back into a `PolicyDefense` around the policy `inner`.
public struct DefenseDecoder: Sendable {
    public var type: String
    public var decode: @Sendable (DefenseDescription, PolicyFile, Policy<Float>) throws(PolicyFileError) -> any PolicyDefense

    public init(
        type: String,
        decode: @escaping @Sendable (DefenseDescription, PolicyFile, Policy<Float>) throws(PolicyFileError) -> any PolicyDefense
    ) {
        self.type = type
        self.decode = decode
    }
}

/// What reading a policy file needs beyond the file: the decoders of the defenses it may hold
/// (a file holding a defense no decoder reads is an error, never loaded without it), and the
/// environments that give the action space of files written before it was recorded.
public struct PolicyDecoding: Sendable {
    public var defenses: [DefenseDecoder]
    public var environments: EnvironmentRegistry

    public init(defenses: [DefenseDecoder] = [], environments: EnvironmentRegistry = .builtIn) {
        self.defenses = defenses
        self.environments = environments
    }

    /// Undefended policies of the built-in environments.
    public static let plain = PolicyDecoding()

    func decode(_ description: DefenseDescription, file: PolicyFile, inner: Policy<Float>) throws(PolicyFileError)
        -> any PolicyDefense
    {
        guard let decoder = defenses.first(where: { $0.type == description.type }) else {
            let known = defenses.isEmpty ? "none were given" : "known: " + defenses.map(\.type).joined(separator: ", ")
            throw PolicyFileError(
                "the policy file holds a '\(description.type)' defense and no decoder for it was given (\(known)); Toolkit.standard.policies in the Evaluation module reads every Gauntlet defense"
            )
        }
        return try decoder.decode(description, file, inner)
    }
}

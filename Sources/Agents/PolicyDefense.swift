import Linalg
import NeuralNet
import Synchronization

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
    func outputsAndInputGradient<S: BLASScalar>(_ observations: Matrix<S>, inner: Policy<S>, random: RandomStream,
                                                lossGradient: (Matrix<S>) -> Matrix<S>) -> (outputs: Matrix<S>, gradient: Matrix<S>)
}

/// A random stream shared by the copies of one policy value (randomised defenses draw from it).
/// Give each concurrently used policy its own.
public final class DefenseRandomness: @unchecked Sendable {
    public let stream: RandomStream
    public init(_ stream: RandomStream) { self.stream = stream }
}

/// How stored defenses become `PolicyDefense` values again. The `Defenses` module installs the
/// decoder (`Defenses.register()`); until then a policy file holding defenses cannot be loaded —
/// never silently loaded without them.
public enum PolicyDefenseDecoding {
    public typealias Decoder = @Sendable (DefenseDescription, PolicyFile, Policy<Float>) throws(PolicyFileError) -> any PolicyDefense

    private static let decoder = Mutex<Decoder?>(nil)

    public static func install(_ decode: @escaping Decoder) { decoder.withLock { $0 = decode } }

    static func decode(_ description: DefenseDescription, file: PolicyFile, inner: Policy<Float>) throws(PolicyFileError) -> any PolicyDefense {
        guard let decode = decoder.withLock({ $0 }) else {
            throw PolicyFileError("the policy file holds a '\(description.type)' defense; call Defenses.register() before loading it")
        }
        return try decode(description, file, inner)
    }
}

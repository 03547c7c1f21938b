import Agents
import Linalg
import NeuralNet

/// Complete verification of a discrete policy's action in one box of raw observations (an L∞
/// ball intersected with the observation bounds): `CompleteVerifier` on the network over the
/// box's image under the observation scaling (monotone and continuous per dimension, so the
/// image of a box is the box of the images), with each witness mapped back to a raw observation
/// and confirmed by the policy itself, in its own precision.
public struct CompleteVerification<Scalar: BLASScalar> {
    public let verifier: CompleteVerifier
    public let policy: Policy<Scalar>
    public let lower: [Double]
    public let upper: [Double]
    public let problem: CompleteVerifier.Problem

    /// Refuses what complete verification cannot answer exactly: continuous actions, defenses
    /// (their transformations are not part of the encoding), networks that are not piecewise linear.
    public static func check(_ policy: Policy<Scalar>) throws(VerificationError) {
        guard policy.head.isDiscrete else {
            throw VerificationError("complete verification needs a policy with discrete actions")
        }
        guard policy.defenses.isEmpty else {
            throw VerificationError(
                "complete verification encodes the bare network; this policy carries defenses (\(policy.defenses.map(\.spec).joined(separator: ", ")))"
            )
        }
        _ = try CompleteVerifier.layers(of: policy.network.converted(to: Double.self))
    }

    /// The box `[lower, upper]` of raw observations (one row each).
    public init(verifier: CompleteVerifier, policy: Policy<Scalar>, lower: Matrix<Scalar>, upper: Matrix<Scalar>)
        throws(VerificationError)
    {
        try Self.check(policy)
        self.verifier = verifier
        self.policy = policy
        self.lower = lower.row(0).map { Double($0) }
        self.upper = upper.row(0).map { Double($0) }
        let (low, high) = (policy.scaled(lower).row(0), policy.scaled(upper).row(0))
        problem = try verifier.problem(
            network: policy.network.converted(to: Double.self), lower: low.map { Double($0) }, upper: high.map { Double($0) })
    }

    /// Whether some observation of the box makes the policy take `action`: a witness is a raw
    /// observation, confirmed by the policy (otherwise the answer is undecided).
    public func canForce(_ action: Int) throws(VerificationError) -> CompleteVerifier.Verdict {
        let verdict = try verifier.canForce(action, in: problem)
        guard case .witness(let input) = verdict else { return verdict }
        var observation = input
        if let scaling = policy.scaling {
            for j in observation.indices { observation[j] = input[j] * Double(scaling.std[j]) + Double(scaling.mean[j]) }
        }
        observation = observation.indices.map { min(max(observation[$0], lower[$0]), upper[$0]) }
        let outputs = policy.outputs(Matrix(row: observation.map { Scalar($0) })).row(0)
        guard CompleteVerifier.isStrictlyLargest(action, in: outputs) else {
            return .undecided("the solver's witness does not make the policy (in \(Scalar.self)) take the action")
        }
        return .witness(observation.map { Double(Scalar($0)) })
    }
}

import Agents
import Attacks
import Linalg
import NeuralNet

/// Action certification by interval bound propagation (Gowal et al. 2018), as SA-DQN reports
/// it (Zhang et al. 2020): a state's greedy action is *certified* at ε when no observation in
/// the threat model's box around it can make another action's output exceed it.
///
/// The box is the L∞ ball of radius `ε·u_j` on the free dimensions (for an L2 threat model,
/// the L∞ box that contains its ball), intersected with the observation bounds, mapped through
/// the policy's observation scaling (monotone per dimension). Bounds go through every module but
/// the last Linear layer; the last layer is applied to the *difference* of two actions' rows,
/// `(w_a* − w_a)·h + (b_a* − b_a)`, whose lower bound over the box of `h` is exact for that layer
/// and much tighter than subtracting two separately bounded outputs.
///
/// For continuous policies there is no action to certify; `outputDeviation` bounds how far any
/// output (Gaussian mean or squashed action) can move inside the box.
public struct IntervalCertificate: Sendable {
    public var threatModel: ThreatModel

    public init(threatModel: ThreatModel) { self.threatModel = threatModel }

    /// The per-state result.
    public struct Result: Equatable, Sendable {
        /// The clean greedy action (discrete policies).
        public var action: Int?
        /// A lower bound on `min_{a ≠ a*} [out_a*(s′) − out_a(s′)]` over the box (discrete);
        /// positive means certified.
        public var marginLowerBound: Double?
        /// An upper bound on `max_j |out_j(s′) − out_j(s)|` over the box (continuous).
        public var outputDeviation: Double?
        public var isCertified: Bool { (marginLowerBound ?? -1) > 0 }
    }

    /// The box of network inputs around each row of raw `observations`: the threat model's box,
    /// through the policy's defenses (where they have an exact interval form; otherwise an error
    /// naming the defense) and its observation scaling.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func inputBox<S: BLASScalar>(around observations: Matrix<S>, policy: Policy<S>) throws(DefenseError) -> IntervalBounds<
        S
    > {
        let (lower, upper) = threatModel.box(around: observations)
        switch policy.networkInputBox(lower: lower, upper: upper) {
        case .success(let box): return box
        case .failure(let error): throw DefenseError("cannot certify: \(error.description)")
        }
    }

    /// Certifies each row of `observations`; a policy whose defenses have no exact interval form
    /// is refused.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func certify<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>) throws(DefenseError) -> [Result] {
        let network = policy.network
        let outputs = policy.outputs(observations)
        let box = try inputBox(around: observations, policy: policy)
        if policy.head.isDiscrete {
            guard let lastLinear = network.modules.lastIndex(where: { if case .linear = $0 { true } else { false } }) else {
                return []
            }
            let hidden = network.intervalBounds(box, moduleCount: lastLinear)
            let weight = network.weight(network.linearLayers.count - 1)
            let bias = network.bias(network.linearLayers.count - 1)
            var results: [Result] = []
            for r in 0..<observations.rows {
                let best = argmax(outputs.row(r))
                var margin = Double.infinity
                for a in 0..<outputs.columns where a != best {
                    var bound = Double(bias[best] - bias[a])
                    for k in 0..<weight.columns {
                        let d = Double(weight[best, k] - weight[a, k])
                        let center = (Double(hidden.lower[r, k]) + Double(hidden.upper[r, k])) / 2
                        let radius = (Double(hidden.upper[r, k]) - Double(hidden.lower[r, k])) / 2
                        bound += d * center - abs(d) * radius
                    }
                    margin = min(margin, bound)
                }
                results.append(Result(action: best, marginLowerBound: margin))
            }
            return results
        } else {
            let bounds = network.intervalBounds(box)
            return (0..<observations.rows).map { r in
                let deviation =
                    (0..<outputs.columns).map { j in
                        max(Double(bounds.upper[r, j] - outputs[r, j]), Double(outputs[r, j] - bounds.lower[r, j]))
                    }.max() ?? 0
                return Result(outputDeviation: deviation)
            }
        }
    }
}

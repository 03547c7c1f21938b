import Environments
import Linalg

/// What depends on the kind of policy, one type per kind: how a row of network outputs becomes
/// an action, and how outputs at two observations are compared. Attacks, certification and
/// regularisers ask the head (`Policy.head`) instead of switching on `PolicyKind`, which stays
/// the tag a policy file stores.
public protocol PolicyHead<Scalar>: Sendable {
    associatedtype Scalar: BLASScalar
    /// Outputs are one score per action and the mode is their argmax (Q-values, logits): the
    /// default attack objective is the cross-entropy of the clean action, and certificates are
    /// action margins.
    var isDiscrete: Bool { get }
    /// Outputs are Q-values, so `max_a Q(s, a)` is the policy's own value (the critic attack,
    /// RADIAL and SA-DQN's bounds need that).
    var outputsAreActionValues: Bool { get }
    /// The weights `w` of the divergence between outputs `μ` and `μ′` at two observations,
    /// `KL = Σ_j w_j (μ_j − μ′_j)² / 2` (a Gaussian's `1/σ_j²`); nil for the KL between the
    /// softmax distributions of the outputs read as logits.
    var divergenceWeights: [Double]? { get }
    /// The action for one row of outputs.
    func action(_ outputs: [Scalar], selection: ActionSelection, random: RandomStream?) -> Action
    /// The actions for a batch of outputs, one per row (a requirement, so that heads with a
    /// cheap batch form — the argmax of each row — give it through the existential).
    func actions(_ outputs: Matrix<Scalar>, selection: ActionSelection, random: RandomStream?) -> [Action]
}

extension PolicyHead {
    public func actions(_ outputs: Matrix<Scalar>, selection: ActionSelection, random: RandomStream?) -> [Action] {
        (0..<outputs.rows).map { action(outputs.row($0), selection: selection, random: random) }
    }
}

/// The argmax of each row (the first of equal maxima, as `argmax`), read from the storage.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func rowArgmaxActions<Scalar: BLASScalar>(_ outputs: Matrix<Scalar>) -> [Action] {
    outputs.storage.withUnsafeBufferPointer { values in
        (0..<outputs.rows).map { r in
            let row = r * outputs.columns
            var best = 0
            for j in 0..<outputs.columns where values[row + j] > values[row + best] { best = j }
            return .discrete(best)
        }
    }
}

/// Q-values; the action is their argmax (DQN).
public struct GreedyQHead<Scalar: BLASScalar>: PolicyHead {
    public init() {}
    public var isDiscrete: Bool { true }
    public var outputsAreActionValues: Bool { true }
    public var divergenceWeights: [Double]? { nil }
    public func action(_ outputs: [Scalar], selection: ActionSelection, random: RandomStream?) -> Action {
        .discrete(argmax(outputs))
    }
    public func actions(_ outputs: Matrix<Scalar>, selection: ActionSelection, random: RandomStream?) -> [Action] {
        rowArgmaxActions(outputs)
    }
}

/// Logits of a categorical distribution (PPO, discrete actions): the mode is their argmax; a
/// sample draws from their softmax.
public struct CategoricalHead<Scalar: BLASScalar>: PolicyHead {
    public init() {}
    public var isDiscrete: Bool { true }
    public var outputsAreActionValues: Bool { false }
    public var divergenceWeights: [Double]? { nil }
    public func action(_ outputs: [Scalar], selection: ActionSelection, random: RandomStream?) -> Action {
        guard selection == .sample, let random else { return .discrete(argmax(outputs)) }
        let maximum = outputs.max()!
        return .discrete(random.categorical(outputs.map { Scalar.exp($0 - maximum) }))
    }
    public func actions(_ outputs: Matrix<Scalar>, selection: ActionSelection, random: RandomStream?) -> [Action] {
        guard selection == .sample, random != nil else { return rowArgmaxActions(outputs) }
        return (0..<outputs.rows).map { action(outputs.row($0), selection: selection, random: random) }
    }
}

/// The mean of a diagonal Gaussian with state-independent log standard deviations (PPO,
/// continuous actions): the mode is the mean, a sample adds `σ_j ξ_j`; either is clipped to the
/// action bounds before it reaches the environment, as SB3 does.
public struct GaussianHead<Scalar: BLASScalar>: PolicyHead {
    public var logStd: [Scalar]
    public var bounds: BoxSpace?

    public init(logStd: [Scalar], bounds: BoxSpace?) {
        self.logStd = logStd
        self.bounds = bounds
    }

    public var isDiscrete: Bool { false }
    public var outputsAreActionValues: Bool { false }
    public var divergenceWeights: [Double]? { logStd.map { Double.exp(-2 * Double($0)) } }
    public func action(_ outputs: [Scalar], selection: ActionSelection, random: RandomStream?) -> Action {
        var action = outputs.map { Double($0) }
        if selection == .sample, let random {
            for j in action.indices { action[j] += Double(Scalar.exp(logStd[j])) * random.normal() }
        }
        return .continuous(bounds?.clip(action) ?? action.map(Float.init))
    }
}

/// A tanh-squashed action `y ∈ [−1, 1]`, mapped affinely onto the action bounds (TD3 / DDPG
/// actors); the divergence between two outputs is their squared distance over two.
public struct SquashedActionHead<Scalar: BLASScalar>: PolicyHead {
    public var bounds: BoxSpace?
    public let outputCount: Int

    public init(bounds: BoxSpace?, outputCount: Int) {
        self.bounds = bounds
        self.outputCount = outputCount
    }

    public var isDiscrete: Bool { false }
    public var outputsAreActionValues: Bool { false }
    public var divergenceWeights: [Double]? { Array(repeating: 1, count: outputCount) }
    public func action(_ outputs: [Scalar], selection: ActionSelection, random: RandomStream?) -> Action {
        let y = outputs.map { Double($0) }
        guard let bounds else { return .continuous(y.map(Float.init)) }
        return .continuous(bounds.clip(bounds.unsquash(y)))
    }
}

extension PolicyKind {
    /// The head of a policy of this kind.
    public func head<Scalar: BLASScalar>(logStd: [Scalar], actionSpace: ActionSpace, outputCount: Int) -> any PolicyHead<Scalar> {
        let bounds: BoxSpace? = if case .box(let box) = actionSpace { box } else { nil }
        return switch self {
        case .greedyQ: GreedyQHead<Scalar>()
        case .categorical: CategoricalHead<Scalar>()
        case .gaussian: GaussianHead(logStd: logStd, bounds: bounds)
        case .deterministic: SquashedActionHead<Scalar>(bounds: bounds, outputCount: outputCount)
        }
    }
}

import Linalg

/// A box of Float32 vectors with per-dimension bounds (±∞ where unbounded), as Gymnasium's
/// `spaces.Box` with `dtype=np.float32`.
public struct BoxSpace: Equatable, Sendable, Codable {
    public var low: [Float]
    public var high: [Float]

    public init(low: [Float], high: [Float]) {
        precondition(low.count == high.count && zip(low, high).allSatisfy { $0 <= $1 }, "invalid box bounds")
        self.low = low
        self.high = high
    }

    /// The box `[-high, high]`.
    public init(symmetric high: [Float]) { self.init(low: high.map { -$0 }, high: high) }

    public var dimension: Int { low.count }

    /// Whether every value lies within its bounds.
    public func contains(_ values: [Float]) -> Bool {
        values.count == dimension && values.indices.allSatisfy { low[$0] <= values[$0] && values[$0] <= high[$0] }
    }

    /// The action clipped to the bounds, in the environments' Float32.
    public func clip(_ action: [Double]) -> [Float] {
        action.indices.map { Float(min(max(action[$0], Double(low[$0])), Double(high[$0]))) }
    }

    /// Maps a squashed value `y ∈ [−1, 1]` onto the bounds: `low + (y + 1)/2 · (high − low)`.
    public func unsquash(_ y: [Double]) -> [Double] {
        y.indices.map { Double(low[$0]) + (y[$0] + 1) / 2 * Double(high[$0] - low[$0]) }
    }
}

/// An action space: `n` discrete actions, or a box of continuous ones.
public enum ActionSpace: Equatable, Sendable {
    case discrete(Int)
    case box(BoxSpace)

    /// Number of discrete actions, or nil for a continuous space.
    public var actionCount: Int? {
        if case .discrete(let n) = self { n } else { nil }
    }

    /// Dimension of a continuous action, or nil for a discrete space.
    public var dimension: Int? {
        if case .box(let box) = self { box.dimension } else { nil }
    }

    /// Whether an environment accepts `action`: an index in range for discrete spaces; a vector
    /// of the right length with finite values for boxes (values beyond the bounds are clipped by
    /// the environment, as in Gymnasium).
    public func isValid(_ action: Action) -> Bool {
        switch (self, action) {
        case (.discrete(let n), .discrete(let a)): (0..<n).contains(a)
        case (.box(let box), .continuous(let a)): a.count == box.dimension && a.allSatisfy(\.isFinite)
        default: false
        }
    }

    /// A uniformly random action (Gymnasium's `action_space.sample()`).
    public func sample(_ random: RandomStream) -> Action {
        switch self {
        case .discrete(let n): .discrete(random.integer(below: n))
        case .box(let box): .continuous(zip(box.low, box.high).map { Float(random.uniform(Double($0), Double($1))) })
        }
    }

    public var description: String {
        switch self {
        case .discrete(let n): "Discrete(\(n))"
        case .box(let box): "Box(\(box.low), \(box.high), (\(box.dimension),), float32)"
        }
    }
}

/// A value that changes with training progress, as SB3's schedules: `progress` runs from 0 at
/// the start of training to 1 at the end.
public enum Schedule: Equatable, Sendable, Codable {
    case constant(Double)
    /// From `start` to `end` linearly over the first `fraction` of training, then `end`
    /// (SB3's `get_linear_fn`; `linear(start: x, end: 0, fraction: 1)` is rl-zoo's `lin_x`).
    case linear(start: Double, end: Double, fraction: Double)

    public func value(atProgress progress: Double) -> Double {
        switch self {
        case .constant(let v): return v
        case .linear(let start, let end, let fraction):
            if progress > fraction { return end }
            return start + progress * (end - start) / fraction
        }
    }
}

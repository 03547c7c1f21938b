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

    /// The same shape starting at `value`: a constant becomes `value`, a linear schedule keeps its
    /// fraction and its end's ratio to its start (`lin_3e-4` rescaled to 3e-3 is `lin_3e-3`).
    public func rescaled(toStart value: Double) -> Schedule {
        switch self {
        case .constant: return .constant(value)
        case .linear(let start, let end, let fraction):
            return .linear(start: value, end: start == 0 ? end : end * value / start, fraction: fraction)
        }
    }
}

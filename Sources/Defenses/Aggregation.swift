import Agents
import Linalg

/// How an ensemble (over members) or a smoothed policy (over noisy copies) combines K output
/// matrices into one, and the weight each of the K gets in the backward pass.
///
/// - `mean`: the average; exact gradient `1/K` each.
/// - `median`: the elementwise median (the mean of the two middle values for even K); the
///   gradient flows to the selected value(s), which is exact almost everywhere.
/// - `trimmed(t)`: the mean after dropping the `t` smallest and `t` largest values per element.
/// - `vote`: per row, the fraction of the K whose argmax is each action (discrete policies); it
///   has no useful gradient, so the backward pass is that of `mean` — BPDA (Athalye et al.
///   2018) with the mean of the outputs as the differentiable stand-in.
public enum Aggregation: Equatable, Sendable {
    case mean, median
    case trimmed(Int)
    case vote

    public init(name: String, trim: Int? = nil) throws(DefenseError) {
        switch name {
        case "mean": self = .mean
        case "median": self = .median
        case "vote": self = .vote
        case "trimmed":
            guard let trim, trim >= 1 else { throw DefenseError("a trimmed mean needs trim ≥ 1") }
            self = .trimmed(trim)
        default: throw DefenseError("unknown aggregation '\(name)' (expected mean, median, trimmed or vote)")
        }
    }

    public var name: String {
        switch self {
        case .mean: "mean"
        case .median: "median"
        case .trimmed: "trimmed"
        case .vote: "vote"
        }
    }

    public var trim: Int? { if case .trimmed(let t) = self { t } else { nil } }

    /// Checks that `count` outputs can be aggregated this way.
    public func validate(count: Int, discrete: Bool) throws(DefenseError) {
        if case .trimmed(let t) = self, count <= 2 * t {
            throw DefenseError("trimming \(t) from each end needs more than \(2 * t) values, not \(count)")
        }
        if self == .vote, !discrete { throw DefenseError("a vote needs discrete actions") }
    }

    /// The aggregated outputs and, for each of the K inputs, the weight matrix of the backward
    /// pass (`∂aggregate/∂output_k`, elementwise).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func combine<S: BLASScalar>(_ outputs: [Matrix<S>]) -> (aggregate: Matrix<S>, weights: [Matrix<S>]) {
        let count = outputs.count
        let rows = outputs[0].rows
        let columns = outputs[0].columns
        var aggregate = Matrix<S>(rows: rows, columns: columns)
        let uniform = Matrix<S>(rows: rows, columns: columns, repeating: 1 / S(count))
        switch self {
        case .mean:
            for output in outputs { aggregate = aggregate + output }
            return (aggregate.map { $0 / S(count) }, Array(repeating: uniform, count: count))
        case .vote:
            for output in outputs {
                for r in 0..<rows { aggregate[r, argmax(output.row(r))] += 1 / S(count) }
            }
            return (aggregate, Array(repeating: uniform, count: count))
        case .median, .trimmed:
            let trim = trim ?? (count - 1) / 2
            let kept = self == .median && count % 2 == 0 ? 2 : count - 2 * trim
            let first = self == .median && count % 2 == 0 ? count / 2 - 1 : trim
            var weights = Array(repeating: Matrix<S>(rows: rows, columns: columns), count: count)
            for r in 0..<rows {
                for j in 0..<columns {
                    let order = (0..<count).sorted { (outputs[$0][r, j], $0) < (outputs[$1][r, j], $1) }
                    var sum: S = 0
                    for k in order[first..<(first + kept)] {
                        sum += outputs[k][r, j]
                        weights[k][r, j] = 1 / S(kept)
                    }
                    aggregate[r, j] = sum / S(kept)
                }
            }
            return (aggregate, weights)
        }
    }
}

/// A defense that cannot be built or stored as asked.
public struct DefenseError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

import Agents
import Linalg

/// When an attacker strikes within an episode: at every step, at most `budget` steps per
/// episode, and/or only at steps where the policy cares which action it takes — the
/// strategically-timed attack of Lin et al. 2017 ("Tactics of adversarial attack on deep
/// reinforcement learning agents"), which attacks when the preference
/// `c(s) = max_a π(a|s) − min_a π(a|s)` (π the softmax of the outputs) exceeds a threshold.
/// Both wrap any attack; continuous policies have no preference and are attacked by budget only.
public struct AttackSchedule: Equatable, Sendable, Codable, CustomStringConvertible {
    public var budget: Int?
    public var threshold: Double?

    public init(budget: Int? = nil, threshold: Double? = nil) {
        precondition(budget.map { $0 >= 0 } ?? true, "a budget cannot be negative")
        self.budget = budget
        self.threshold = threshold
    }

    public static let everyStep = AttackSchedule()

    public var description: String {
        var parts: [String] = []
        if let budget { parts.append("at most \(budget) steps per episode") }
        if let threshold { parts.append("when preference > \(threshold)") }
        return parts.isEmpty ? "every step" : parts.joined(separator: ", ")
    }

    /// `max softmax − min softmax` of one row of outputs.
    public static func preference<S: BLASScalar>(_ outputs: [S]) -> Double {
        let maximum = Double(outputs.max()!)
        let weights = outputs.map { Double.exp(Double($0) - maximum) }
        let total = weights.reduce(0, +)
        return (weights.max()! - weights.min()!) / total
    }

    /// Whether to attack a step, given the attacked steps so far and the clean outputs.
    /// The preference threshold applies to discrete policies only.
    public func shouldAttack<S: BLASScalar>(attackedSoFar: Int, cleanOutputs: [S], discrete: Bool) -> Bool {
        if let budget, attackedSoFar >= budget { return false }
        if let threshold, discrete { return Self.preference(cleanOutputs) > threshold }
        return true
    }
}

import Agents
import Attacks
import Environments
import Linalg

/// Perturbations crafted on policy A (PGD on A) applied to policy B, for every pair of a set of
/// policies of one environment: entry [a][b] is B's mean attacked return, the diagonal the
/// white-box case. Rows that hurt every column show attacks that transfer.
public struct TransferMatrix: Sendable, Encodable {
    public var policies: [String]
    public var epsilon: Double
    public var cleanReturns: [Double]
    /// `attackedReturns[source][target]`.
    public var attackedReturns: [[Double]]

    public static func run(
        policies: [(name: String, policy: Policy<Float>)], environment: String, epsilon: Double, episodes: Int, seed: UInt64,
        pgd: PGD = PGD()
    ) throws -> TransferMatrix {
        var clean: [Double] = []
        var matrix = Array(repeating: [Double](repeating: 0, count: policies.count), count: policies.count)
        for (b, target) in policies.enumerated() {
            let evaluation = AttackEvaluation(policy: target.policy, environment: environment, episodes: episodes, seed: seed)
            let cleanEpisodes = try evaluation.cleanEpisodes()
            clean.append(Statistics.mean(cleanEpisodes.map(\.episodeReturn)))
            for (a, source) in policies.enumerated() {
                let attack = TransferAttack(surrogate: source.policy, path: source.name, pgd: pgd)
                matrix[a][b] = try evaluation.run(attack, epsilon: epsilon, clean: cleanEpisodes).attacked.meanReturn
            }
        }
        return TransferMatrix(policies: policies.map(\.name), epsilon: epsilon, cleanReturns: clean, attackedReturns: matrix)
    }

    /// The matrix as a Markdown table (rows: source of the perturbation; columns: victim).
    public var table: String {
        var lines = [
            "| crafted on ↓ / applied to → | " + policies.joined(separator: " | ") + " |",
            "|---|" + String(repeating: "---|", count: policies.count),
            "| (clean) | " + cleanReturns.map { String(format: "%.1f", $0) }.joined(separator: " | ") + " |",
        ]
        for (a, row) in attackedReturns.enumerated() {
            lines.append("| \(policies[a]) | " + row.map { String(format: "%.1f", $0) }.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }
}

import Environments
import Foundation

/// The comparison of defended or robustly trained policies with a vanilla baseline at the ε
/// where the baseline breaks: ε* is the smallest ε of the sweep at which the baseline's
/// strongest-attack return (the per-episode minimum over every attack) falls below half its
/// clean return. Every policy of the baseline's environment is then read at ε*: its clean
/// return, its strongest-attack return, and the targets of a useful defense — at least 80% of
/// its own clean return kept, at least twice the baseline's attacked return, and a clean return
/// at least 95% of the baseline's.
///
/// Returns are measured above the uniformly random policy's mean return `R₀` (100 episodes,
/// `TimeLimit.randomPolicyReturn`; ≈ 22 for CartPole, −500 for Acrobot, −200 for MountainCar,
/// ≈ −1200 for Pendulum), as normalised scores are: "half the clean return" is
/// `R₀ + (clean − R₀)/2` and every ratio is of `R − R₀`, so the targets mean the same for
/// negative rewards as for CartPole's positive ones.
public struct DefenseTable: Codable, Equatable, Sendable {
    public struct Row: Codable, Equatable, Sendable {
        public var policy: String
        public var environment: String
        public var isBaseline: Bool
        public var clean: Double
        public var attacked: Double?
        public var keptFraction: Double?
        public var timesBaseline: Double?
        public var cleanVersusBaseline: Double?
        public var meetsTargets: Bool?
    }

    public var baseline: String
    public var environment: String
    /// Nil when the baseline keeps half its clean return at every ε of the sweep.
    public var epsilonStar: Double?
    /// `R₀`, the random policy's return every ratio is measured above.
    public var randomReturn: Double
    public var rows: [Row]

    /// One table per baseline.
    public static func compute(store: ResultsStore, baselines: [String]) throws -> [DefenseTable] {
        let all = try store.rows()
        var tables: [DefenseTable] = []
        for baseline in baselines {
            guard let first = all.first(where: { $0.policy == baseline }) else {
                throw ReportError("baseline \(baseline) has no cells in the database")
            }
            let environment = first.environment
            func strongest(_ policy: String) throws -> [Double: Double] {
                var means: [Double: Double] = [:]
                for (epsilon, returns) in try store.strongestPerEpisode(policy: policy) {
                    means[epsilon] = returns.reduce(0, +) / Double(returns.count)
                }
                return means
            }
            let randomReturn: Double
            do { randomReturn = try Registry.make(environment).randomPolicyReturn() } catch {
                throw ReportError("baseline \(baseline): \(error.description)")
            }
            /// `a / b` of returns above the random policy's.
            func ratio(_ a: Double, _ b: Double) -> Double? { b != randomReturn ? (a - randomReturn) / (b - randomReturn) : nil }
            let baselineClean = first.cleanMean
            let baselineStrongest = try strongest(baseline)
            let epsilonStar = baselineStrongest.keys.sorted().first {
                baselineStrongest[$0]! - randomReturn < (baselineClean - randomReturn) / 2
            }
            let policies =
                [baseline]
                + Array(Set(all.filter { $0.environment == environment && $0.policy != baseline }.map(\.policy))).sorted()
            var rows: [Row] = []
            for policy in policies {
                let clean = all.first { $0.policy == policy }!.cleanMean
                var row = Row(policy: policy, environment: environment, isBaseline: policy == baseline, clean: clean)
                if let epsilonStar, let attacked = try strongest(policy)[epsilonStar],
                    let baselineAttacked = baselineStrongest[epsilonStar]
                {
                    row.attacked = attacked
                    row.keptFraction = ratio(attacked, clean)
                    row.timesBaseline = ratio(attacked, baselineAttacked)
                    row.cleanVersusBaseline = ratio(clean, baselineClean)
                    if policy != baseline {
                        row.meetsTargets =
                            (row.keptFraction ?? 0) >= 0.8 && (row.timesBaseline ?? 0) >= 2
                            && (row.cleanVersusBaseline ?? 0) >= 0.95
                    }
                }
                rows.append(row)
            }
            tables.append(
                DefenseTable(
                    baseline: baseline, environment: environment, epsilonStar: epsilonStar, randomReturn: randomReturn, rows: rows
                ))
        }
        return tables
    }

    public static let header = [
        "policy", "clean", "strongest attack at ε*", "kept", "× baseline", "clean vs baseline", "targets met",
    ]

    public var title: String {
        "\(environment): baseline \(baseline), ε* = " + (epsilonStar.map { String(format: "%g", $0) } ?? "not reached")
            + String(format: ", returns measured above the random policy's %.1f", randomReturn)
    }

    /// The rows as text cells, in `header`'s order.
    public var cells: [[String]] {
        func f(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "—" }
        /// A percentage, without the "-0%" of a value that rounds to zero from below.
        func percent(_ v: Double?) -> String { v.map { String(format: "%.0f%%", (100 * $0).rounded() + 0) } ?? "—" }
        return rows.map { r in
            [
                r.policy + (r.isBaseline ? " (baseline)" : ""), f(r.clean, "%.1f"), f(r.attacked, "%.1f"),
                percent(r.keptFraction),
                f(r.timesBaseline, "%.2f×"), percent(r.cleanVersusBaseline), r.meetsTargets.map { $0 ? "yes" : "no" } ?? "—",
            ]
        }
    }

    /// The table in Markdown.
    public var markdown: String {
        var text =
            "### \(title)\n\n| " + Self.header.joined(separator: " | ") + " |\n|"
            + String(repeating: "---|", count: Self.header.count) + "\n"
        for row in cells { text += "| " + row.joined(separator: " | ") + " |\n" }
        return text + "\n"
    }
}

/// A report that cannot be written as asked.
public struct ReportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

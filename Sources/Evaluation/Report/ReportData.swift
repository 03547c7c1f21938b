import Environments
import Foundation
import GRDB
import Linalg

/// What a report shows, read once from a results database: per curve (a policy under one norm
/// and unit of ε) each attack's attacked return at each ε with its 95% interval, the strongest
/// attack per episode, and the ε at which that strongest attack halves the return.
struct ReportData {
    struct Curve {
        var policy: String
        var environment: String
        var norm: String
        var units: String
        var clean: Double
        /// Episodes per point (episodes per cell × seeds).
        var episodes: Int
        var attacks: [(spec: String, points: [LineChart.Point])]
        var strongest: [LineChart.Point]
        /// The uniformly random policy's mean return, `R₀`: "half the return" is half of the
        /// return above it, as `DefenseTable` measures (so it means the same for negative rewards).
        var randomReturn: Double?

        /// `R₀ + (clean − R₀)/2`.
        var halfReturn: Double? { randomReturn.map { $0 + (clean - $0) / 2 } }

        /// The ε at which the strongest attack's mean return falls to half the return, and the
        /// ε at which the lower and the upper end of its 95% band do (an interval for it), each
        /// linear between the sweep's ε; nil where the curve stays above half.
        var halvingEpsilon: (estimate: Double?, low: Double?, high: Double?)? {
            guard let half = halfReturn else { return nil }
            let points =
                strongest.first.map { $0.x > 0 } ?? true
                ? [LineChart.Point(x: 0, mean: clean, low: clean, high: clean)] + strongest : strongest
            return (
                Self.crossing(points.map { ($0.x, $0.mean) }, below: half),
                Self.crossing(points.map { ($0.x, $0.low) }, below: half),
                Self.crossing(points.map { ($0.x, $0.high) }, below: half)
            )
        }

        /// The first x where `points` (ordered by x) fall below `level`, linear between points.
        static func crossing(_ points: [(x: Double, y: Double)], below level: Double) -> Double? {
            guard let i = points.firstIndex(where: { $0.y < level }) else { return nil }
            guard i > 0 else { return points[0].x }
            let (a, b) = (points[i - 1], points[i])
            return a.x + (a.y - level) / (a.y - b.y) * (b.x - a.x)
        }
    }

    var rows: [ResultsStore.Row]
    var curves: [Curve]

    init(store: ResultsStore) throws {
        let rows = try store.rows()
        self.rows = rows
        let episodes = try store.database.read { db in
            try GRDB.Row.fetchAll(
                db,
                sql: """
                    SELECT c.policy AS policy, c.attack AS attack, c.epsilon AS epsilon, c.norm AS norm, c.units AS units,
                           c.seed AS seed, e.episode AS episode, e.attacked_return AS attacked
                    FROM cells c JOIN episodes e ON e.cell_key = c.key ORDER BY c.seed, e.episode
                    """)
        }
        struct CurveKey: Hashable, Comparable {
            var policy: String
            var norm: String
            var units: String
            static func < (a: Self, b: Self) -> Bool { (a.policy, a.norm, a.units) < (b.policy, b.norm, b.units) }
        }
        struct PointKey: Hashable {
            var attack: String
            var epsilon: Double
        }
        struct EpisodeKey: Hashable {
            var epsilon: Double
            var seed: Int64
            var episode: Int
        }
        var returns: [CurveKey: [PointKey: [Double]]] = [:]
        var worst: [CurveKey: [EpisodeKey: Double]] = [:]
        for row in episodes {
            let key = CurveKey(policy: row["policy"], norm: row["norm"], units: row["units"])
            let attacked: Double = row["attacked"]
            returns[key, default: [:]][PointKey(attack: row["attack"], epsilon: row["epsilon"]), default: []].append(attacked)
            let episode = EpisodeKey(epsilon: row["epsilon"], seed: row["seed"], episode: row["episode"])
            worst[key, default: [:]][episode] = min(worst[key]?[episode] ?? .infinity, attacked)
        }
        var randomReturns: [String: Double?] = [:]
        func point(_ x: Double, _ values: [Double], seed: String) -> LineChart.Point {
            let interval = ConfidenceInterval.bootstrapMean(values, resamples: 2_000, random: RandomStream(seed: 0).child(seed))
            return LineChart.Point(x: x, mean: Statistics.mean(values), low: interval.lower, high: interval.upper)
        }
        curves = returns.keys.sorted().map { key in
            let mine = rows.filter { $0.policy == key.policy && $0.norm == key.norm && $0.units == key.units }
            let environment = mine.first?.environment ?? ""
            if randomReturns[environment] == nil {
                randomReturns[environment] = try? Registry.make(environment).randomPolicyReturn()
            }
            let points = returns[key]!
            let attacks = Array(Set(points.keys.map(\.attack))).sorted().map { attack in
                (
                    attack,
                    points.filter { $0.key.attack == attack }.sorted { $0.key.epsilon < $1.key.epsilon }.map {
                        point($0.key.epsilon, $0.value, seed: "\(key.policy)|\(attack)|\($0.key.epsilon)")
                    }
                )
            }
            var strongest: [Double: [Double]] = [:]
            for (episode, value) in worst[key]!.sorted(by: { ($0.key.seed, $0.key.episode) < ($1.key.seed, $1.key.episode) }) {
                strongest[episode.epsilon, default: []].append(value)
            }
            let cleanReturns = mine.map { ($0.cleanMean, $0.episodes) }
            let clean =
                cleanReturns.map { $0.0 * Double($0.1) }.reduce(0, +) / Double(max(1, cleanReturns.map(\.1).reduce(0, +)))
            return Curve(
                policy: key.policy, environment: environment, norm: key.norm, units: key.units,
                clean: mine.isEmpty ? .nan : clean, episodes: points.values.first?.count ?? 0, attacks: attacks,
                strongest: strongest.keys.sorted().map { point($0, strongest[$0]!, seed: "\(key.policy)|strongest|\($0)") },
                randomReturn: randomReturns[environment] ?? nil)
        }
    }
}

extension ReportData.Curve {
    /// "ε (raw units, L∞)".
    var epsilonTitle: String { "ε (\(Self.unitsName(units)), \(Self.normName(norm)))" }

    static func normName(_ norm: String) -> String { ["linf": "L∞", "l2": "L2"][norm] ?? norm }
    static func unitsName(_ units: String) -> String {
        ["raw": "raw units", "std": "state std", "normalized": "normalised units"][units] ?? units
    }

    /// The policy file's base name.
    var shortPolicy: String { ReportData.shortName(policy) }
}

extension ReportData {
    /// A policy path's file name without its extension.
    /// The file's name without extension; a training run's `RUN/policy.safetensors` is named by
    /// its run directory.
    static func shortName(_ path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let stem = url.deletingPathExtension().lastPathComponent
        return stem == "policy" ? url.deletingLastPathComponent().lastPathComponent : stem
    }
}

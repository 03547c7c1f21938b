import Agents
import Attacks
import Environments
import Linalg

/// A policy evaluated clean and under a suite of attacks at one or more ε, on the same seeds:
/// every attack's paired report, the strongest attack per episode at each ε, and the sanity
/// checks. This is `gauntlet evaluate --json`.
public struct StudyResult: Sendable, Encodable {
    /// The worst case over the suite, per episode (AutoAttack's worst case applied to episodes).
    public struct Strongest: Sendable, Encodable {
        public var epsilon: Double
        public var attacked: ReturnSummary
        /// The attack that achieved each episode's minimum.
        public var attackPerEpisode: [String]
        public var rewardDrop: AttackReport.Drop
    }

    public var environment: String
    public var episodes: Int
    public var seed: UInt64
    public var selection: ActionSelection
    /// ε-greedy evaluation's probability of a random action (0: the policy's actions only).
    public var exploration: Double
    public var clean: ReturnSummary
    public var lengths: [Int]
    public var attacks: [AttackReport]
    public var strongest: [Strongest]
    /// Per attack (and "strongest"), the area under its return-vs-ε curve divided by the ε range
    /// (the mean return over the range, trapezoidal), when several ε were evaluated; its interval
    /// bootstraps the per-episode curves.
    public var returnCurveArea: [String: AttackReport.Drop]
    public var sanity: [SanityWarning]
}

extension AttackEvaluation {
    /// Runs every attack at every ε. `record` receives each attacked run (report and episodes
    /// with traces) as it finishes, for replay files; `progress` a line per run.
    public func study(
        attacks: [any Attack], epsilons: [Double], record: ((AttackReport, [EpisodeOutcome]) throws -> Void)? = nil,
        progress: (String) -> Void = { _ in }
    ) throws -> StudyResult {
        let clean = try cleanEpisodes()
        var reports: [AttackReport] = []
        var strongest: [StudyResult.Strongest] = []
        for epsilon in epsilons {
            var atThisEpsilon: [AttackReport] = []
            for attack in attacks {
                progress("\(attack.spec) at ε = \(epsilon)")
                let (report, outcomes) = try runRecorded(attack, epsilon: epsilon, clean: clean, traces: record != nil)
                try record?(report, outcomes)
                atThisEpsilon.append(report)
            }
            reports += atThisEpsilon
            if !atThisEpsilon.isEmpty {
                var worst = [Double](repeating: .infinity, count: episodes)
                var which = [String](repeating: "", count: episodes)
                for report in atThisEpsilon {
                    for (e, value) in report.attacked.returns.enumerated() where value < worst[e] {
                        worst[e] = value
                        which[e] = report.attack
                    }
                }
                let cleanReturns = clean.map(\.episodeReturn)
                let drop = ConfidenceInterval.bootstrapPairedDifference(
                    cleanReturns, worst, random: RandomStream(seed: seed).child("strongest"))
                strongest.append(
                    .init(
                        epsilon: epsilon, attacked: ReturnSummary(returns: worst, seed: seed), attackPerEpisode: which,
                        rewardDrop: .init(
                            mean: Statistics.mean(zip(cleanReturns, worst).map { $0 - $1 }), ci95: [drop.lower, drop.upper])))
            }
        }
        let cleanReturns = clean.map(\.episodeReturn)
        var curves = Dictionary(grouping: reports, by: \.attack).mapValues { runs in
            runs.map { ($0.threatModel.epsilon, $0.attacked.returns) }
        }
        curves["strongest"] = strongest.map { ($0.epsilon, $0.attacked.returns) }
        return StudyResult(
            environment: environment, episodes: episodes, seed: seed, selection: selection, exploration: exploration,
            clean: ReturnSummary(returns: cleanReturns, seed: seed), lengths: clean.map(\.length), attacks: reports,
            strongest: strongest, returnCurveArea: curves.compactMapValues { curveArea($0, seed: seed) },
            sanity: SanityChecks.run(reports))
    }
}

/// The normalised area of each episode's curve (returns per ε), their mean and a bootstrap
/// interval; nil for fewer than two ε.
func curveArea(_ points: [(Double, [Double])], seed: UInt64) -> AttackReport.Drop? {
    guard let episodes = points.first?.1.count, episodes > 0 else { return nil }
    var areas: [Double] = []
    for e in 0..<episodes {
        guard let area = normalisedArea(points.map { ($0.0, $0.1[e]) }) else { return nil }
        areas.append(area)
    }
    let interval = ConfidenceInterval.bootstrapMean(areas, resamples: 2_000, random: RandomStream(seed: seed).child("curve-area"))
    return AttackReport.Drop(mean: Statistics.mean(areas), ci95: [interval.lower, interval.upper])
}

/// The trapezoidal area under points (ε, return) divided by the ε range; nil for fewer than two ε.
func normalisedArea(_ points: [(Double, Double)]) -> Double? {
    let sorted = points.sorted { $0.0 < $1.0 }
    guard sorted.count >= 2, let first = sorted.first, let last = sorted.last, last.0 > first.0 else { return nil }
    let area = zip(sorted, sorted.dropFirst()).reduce(0) { $0 + ($1.1.0 - $1.0.0) * ($1.0.1 + $1.1.1) / 2 }
    return area / (last.0 - first.0)
}

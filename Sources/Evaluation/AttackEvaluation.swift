import Agents
import Attacks
import Environments
import Linalg

/// A paired evaluation of one attack: the same episode seeds run clean and attacked, the
/// per-episode reward drop, the rate of flipped actions, and the queries spent. Its JSON form is
/// the per-attack object every command prints (`gauntlet attack --json`).
public struct AttackReport: Sendable, Codable {
    public struct Drop: Sendable, Codable {
        public var mean: Double
        public var ci95: [Double]
        public init(mean: Double, ci95: [Double]) {
            self.mean = mean
            self.ci95 = ci95
        }
    }

    public struct Rate: Sendable, Codable {
        public var value: Double
        public var ci95: [Double]
        public init(value: Double, ci95: [Double]) {
            self.value = value
            self.ci95 = ci95
        }
    }

    public var attack: String
    public var threatModel: ThreatModel
    public var clean: ReturnSummary
    public var attacked: ReturnSummary
    /// Clean minus attacked return, per episode, with a paired bootstrap interval.
    public var rewardDrop: Drop
    /// The mean drop as a fraction of the mean clean return's magnitude, with the drop's
    /// interval on the same scale; absent when the mean clean return is 0 (no scale to take).
    public var relativeRewardDrop: Drop?
    /// Episodes that lost more than half of their clean return (same seed), with a
    /// Clopper–Pearson interval.
    public var failedEpisodes: Rate
    /// Attacked steps whose action (the mode) differs from the clean action, with a Wilson
    /// interval; for continuous actions any change counts.
    public var actionFlipRate: Rate
    public var queries: Int
    /// Steps the schedule attacked, over all episodes.
    public var attackedSteps: Int
    public var episodes: Int
    public var seed: UInt64
    public var selection: ActionSelection
    /// ε-greedy evaluation's probability of a random action, when there was one.
    public var exploration: Double?
    /// What the attack expected of itself, when it says (a learned adversary's training return).
    public var expectedEffect: ExpectedEffect?
    /// What the attack learned about the victim first, and the victim steps that took.
    public var preparation: AttackPreparation?
    /// The prepared attack's `savedPreparation`, for replay files (not part of the JSON report).
    public var savedPreparation: String? = nil

    /// The JSON report's fields (`savedPreparation` stays out: replay files keep it).
    enum CodingKeys: String, CodingKey {
        case attack, threatModel, clean, attacked, rewardDrop, relativeRewardDrop, failedEpisodes, actionFlipRate, queries,
            attackedSteps, episodes, seed, selection, exploration, expectedEffect, preparation
    }

    public init(
        attack: String, threatModel: ThreatModel, clean: ReturnSummary, attacked: ReturnSummary, rewardDrop: Drop,
        actionFlipRate: Rate,
        queries: Int, attackedSteps: Int, episodes: Int, seed: UInt64, selection: ActionSelection,
        expectedEffect: ExpectedEffect? = nil, preparation: AttackPreparation? = nil, exploration: Double? = nil
    ) {
        self.attack = attack
        self.exploration = exploration
        self.expectedEffect = expectedEffect
        self.preparation = preparation
        self.threatModel = threatModel
        self.clean = clean
        self.attacked = attacked
        self.rewardDrop = rewardDrop
        let magnitude = abs(clean.meanReturn)
        self.relativeRewardDrop =
            magnitude > 0 ? Drop(mean: rewardDrop.mean / magnitude, ci95: rewardDrop.ci95.map { $0 / magnitude }) : nil
        let failed = zip(clean.returns, attacked.returns).filter { $1 < $0 - 0.5 * abs($0) }.count
        let interval = ConfidenceInterval.clopperPearson(successes: failed, trials: max(clean.returns.count, 1))
        self.failedEpisodes = Rate(
            value: Double(failed) / Double(max(clean.returns.count, 1)), ci95: [interval.lower, interval.upper])
        self.actionFlipRate = actionFlipRate
        self.queries = queries
        self.attackedSteps = attackedSteps
        self.episodes = episodes
        self.seed = seed
        self.selection = selection
    }
}

/// How to evaluate attacks on a policy: the environment, episodes and seed, and the threat
/// model's shape (its ε is given per attack run).
public struct AttackEvaluation<Scalar: BLASScalar> {
    public var policy: Policy<Scalar>
    public var environment: String
    public var episodes: Int
    public var seed: UInt64
    public var selection: ActionSelection
    /// ε-greedy evaluation's probability of a random action (`EpisodeRunner.exploration`).
    public var exploration: Double
    /// `exploration` as reports and replay headers keep it: absent when there is none.
    var recordedExploration: Double? { exploration > 0 ? exploration : nil }
    public var norm: ThreatModel.Norm
    public var units: ThreatModel.Units
    public var mask: [Bool]?
    public var schedule: AttackSchedule
    /// Told after every batched step of every run how far that run is.
    public var progress: ((EpisodeProgress) -> Void)?
    /// Told what an attack does to prepare for the victim before a run (`EpisodeRunner.preparation`).
    public var preparation: ((String) -> Void)?

    public init(
        policy: Policy<Scalar>, environment: String, episodes: Int, seed: UInt64, selection: ActionSelection = .mode,
        exploration: Double = 0, norm: ThreatModel.Norm = .linf, units: ThreatModel.Units = .raw, mask: [Bool]? = nil,
        schedule: AttackSchedule = .everyStep
    ) {
        self.policy = policy
        self.environment = environment
        self.episodes = episodes
        self.seed = seed
        self.selection = selection
        self.exploration = exploration
        self.norm = norm
        self.units = units
        self.mask = mask
        self.schedule = schedule
    }

    /// The clean episodes (run once, shared by every attack).
    public func cleanEpisodes() throws(EnvironmentError) -> [EpisodeOutcome] {
        var runner = EpisodeRunner(policy: policy, environment: environment, selection: selection)
        runner.exploration = exploration
        runner.recordObservations = units == .std
        runner.progress = progress
        return try runner.run(episodes: episodes, seed: seed)
    }

    /// The threat model of radius `epsilon`; in std units, scaled by each dimension's standard
    /// deviation over the clean episodes' observations; in normalized units, by the policy's
    /// observation normalisation.
    public func threatModel(epsilon: Double, clean: [EpisodeOutcome]) throws(EnvironmentError) -> ThreatModel {
        let bounds = try Registry.make(environment).base.observationSpace
        var scale: [Double]? = nil
        switch units {
        case .raw: break
        case .std: scale = ObservationStatistics(clean, dimension: bounds.dimension).standardDeviation
        case .normalized: scale = try policy.normalizedUnits()
        }
        return ThreatModel(
            norm: norm, epsilon: epsilon, units: units, scale: scale, bounds: bounds, mask: mask, schedule: schedule)
    }

    /// Runs `attack` at `epsilon` on the seeds of `clean` and compares.
    public func run(_ attack: any Attack, epsilon: Double, clean: [EpisodeOutcome]) throws(EnvironmentError) -> AttackReport {
        try runRecorded(attack, epsilon: epsilon, clean: clean, traces: false).report
    }

    /// Runs `attack` at `epsilon` and also returns the attacked episodes (with full traces when
    /// `traces` is true, for replay files).
    public func runRecorded(_ unprepared: any Attack, epsilon: Double, clean: [EpisodeOutcome], traces: Bool)
        throws(EnvironmentError)
        -> (report: AttackReport, outcomes: [EpisodeOutcome])
    {
        let model = try threatModel(epsilon: epsilon, clean: clean)
        let attack: any Attack
        do throws(AttackError) {
            try unprepared.validate(for: policy)
            attack = try unprepared.prepared(for: policy, environment: environment, threatModel: model, progress: preparation)
        } catch { throw EnvironmentError(error.description) }
        var runner = EpisodeRunner(
            policy: policy, environment: environment, selection: selection, attack: attack, threatModel: model)
        runner.exploration = exploration
        runner.recordTraces = traces
        runner.progress = progress
        runner.preparation = preparation
        let attacked = try runner.run(episodes: episodes, seed: seed)
        var report = report(attack: attack, model: model, clean: clean, attacked: attacked)
        report.savedPreparation = attack.savedPreparation
        return (report, attacked)
    }

    /// The smallest ε (to `tolerance`, found by bisection on [0, `maximum`]) at which `attack`
    /// costs the policy half of its clean return (`attacked ≤ clean − ½|clean|`). Its interval
    /// resamples episodes and takes, for each resample, the smallest probed ε that halves it.
    public func halvingEpsilon(_ attack: any Attack, maximum: Double, tolerance: Double = 1e-3, clean: [EpisodeOutcome])
        throws(EnvironmentError) -> HalvingEpsilon
    {
        let cleanReturns = clean.map(\.episodeReturn)
        var probes: [(epsilon: Double, returns: [Double])] = []
        func halves(_ epsilon: Double) throws(EnvironmentError) -> Bool {
            let returns = try run(attack, epsilon: epsilon, clean: clean).attacked.returns
            probes.append((epsilon, returns))
            let cleanMean = Statistics.mean(cleanReturns)
            return Statistics.mean(returns) <= cleanMean - 0.5 * abs(cleanMean)
        }
        guard try halves(maximum) else { return HalvingEpsilon(epsilon: nil, ci95: nil) }
        var low = 0.0
        var high = maximum
        while high - low > tolerance {
            let middle = (low + high) / 2
            if try halves(middle) { high = middle } else { low = middle }
        }
        let sorted = probes.sorted { $0.epsilon < $1.epsilon }
        let random = RandomStream(seed: seed).child("halving")
        var estimates: [Double] = []
        for _ in 0..<2_000 {
            let picks = (0..<clean.count).map { _ in random.integer(below: clean.count) }
            let cleanMean = Statistics.mean(picks.map { cleanReturns[$0] })
            let first = sorted.first { probe in
                Statistics.mean(picks.map { probe.returns[$0] }) <= cleanMean - 0.5 * abs(cleanMean)
            }
            estimates.append(first?.epsilon ?? .infinity)
        }
        let ordered = Statistics.sorted(estimates)
        return HalvingEpsilon(
            epsilon: high, ci95: [Statistics.quantile(sorted: ordered, 0.025), Statistics.quantile(sorted: ordered, 0.975)])
    }

    /// The paired comparison of clean and attacked episodes on the same seeds.
    public func report(attack: any Attack, model: ThreatModel, clean: [EpisodeOutcome], attacked: [EpisodeOutcome])
        -> AttackReport
    {
        let cleanReturns = clean.map(\.episodeReturn)
        let attackedReturns = attacked.map(\.episodeReturn)
        let drop = ConfidenceInterval.bootstrapPairedDifference(
            cleanReturns, attackedReturns, random: RandomStream(seed: seed).child("drop"))
        let steps = attacked.reduce(0) { $0 + $1.attackedSteps }
        let flips = attacked.reduce(0) { $0 + $1.flips }
        // Over zero attacked steps the rate is unknown: the whole of [0, 1], not an interval
        // computed as if one step had been seen.
        let flipInterval =
            steps > 0
            ? ConfidenceInterval.wilson(successes: flips, trials: steps)
            : ConfidenceInterval(lower: 0, upper: 1, confidence: 0.95)
        return AttackReport(
            attack: attack.spec, threatModel: model, clean: ReturnSummary(returns: cleanReturns, seed: seed),
            attacked: ReturnSummary(returns: attackedReturns, seed: seed),
            rewardDrop: .init(
                mean: Statistics.mean(zip(cleanReturns, attackedReturns).map { $0 - $1 }), ci95: [drop.lower, drop.upper]),
            actionFlipRate: .init(value: Double(flips) / Double(max(steps, 1)), ci95: [flipInterval.lower, flipInterval.upper]),
            queries: attacked.reduce(0) { $0 + $1.queries }, attackedSteps: steps, episodes: episodes, seed: seed,
            selection: selection, expectedEffect: attack.expectedEffect, preparation: attack.preparation,
            exploration: recordedExploration)
    }
}

/// The smallest ε at which an attack costs the policy half of its clean return.
public struct HalvingEpsilon: Sendable, Encodable {
    /// Found by bisection to the tolerance (nil: not even at the maximum).
    public var epsilon: Double?
    /// 95% bootstrap interval over episodes, at the resolution of the ε the bisection probed.
    public var ci95: [Double]?
}

/// Per-dimension statistics of the observations recorded in clean episodes: the unit of
/// std-scaled threat models and defenses, and the range a clipping defense keeps.
public struct ObservationStatistics: Equatable, Sendable {
    /// Standard deviations (at least 1e-12, so they can divide).
    public var standardDeviation: [Double]
    public var lower: [Double]
    public var upper: [Double]

    public init(_ clean: [EpisodeOutcome], dimension: Int) {
        let observations = clean.flatMap(\.observations)
        standardDeviation = (0..<dimension).map { j in
            max(Statistics.standardDeviation(observations.map { Double($0[j]) }), 1e-12)
        }
        lower = (0..<dimension).map { j in observations.map { Double($0[j]) }.min() ?? -.infinity }
        upper = (0..<dimension).map { j in observations.map { Double($0[j]) }.max() ?? .infinity }
    }
}

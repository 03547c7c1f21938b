import Agents
import Attacks
import Defenses
import Environments
import Foundation
import Linalg
import NeuralNet

/// A policy wrapped in defenses, as `gauntlet defend` builds it: an ensemble with further members
/// (combined by `aggregation`), then input transformations in the order given, fitted to clean
/// episodes of the policy as the file holds it (their standard deviation as the unit of steps and σ when `units` is
/// `std`; their range for `clip`).
public struct DefenseAssembly: Sendable {
    public var members: [PolicyFile]
    public var aggregation: Aggregation
    /// `--transform` specs (`quantize:step=0.1`, `clip`, …).
    public var transformations: [String]
    public var units: ThreatModel.Units
    /// Clean episodes, seeds 0, 1, …, that measure the standard deviations and the range.
    public var episodes: Int
    /// The precision the clean episodes run in.
    public var precision: Precision

    public init(
        members: [PolicyFile] = [], aggregation: Aggregation = .mean, transformations: [String] = [],
        units: ThreatModel.Units = .raw,
        episodes: Int = 20, precision: Precision = .f32
    ) {
        self.precision = precision
        self.members = members
        self.aggregation = aggregation
        self.transformations = transformations
        self.units = units
        self.episodes = episodes
    }

    /// The defended policy of `file`; its transformations are made by `toolkit`.
    public func defend(_ file: PolicyFile, toolkit: Toolkit = .standard) throws -> Policy<Float> {
        let base = try toolkit.policy(file)
        var defended = members.isEmpty ? base : try Defenses.ensemble([file] + members, aggregation: aggregation)
        guard !transformations.isEmpty else { return defended }
        guard let environment = file.description.environment else { throw DefenseError("the policy file names no environment") }
        func cleanEpisodes<S: BLASScalar>(_ policy: Policy<S>) throws(EnvironmentError) -> [EpisodeOutcome] {
            var runner = EpisodeRunner(policy: policy, environment: environment)
            runner.recordObservations = true
            return try runner.run(episodes: episodes, seed: 0)
        }
        let clean =
            switch precision {
            case .f32: try cleanEpisodes(base)
            case .f64: try cleanEpisodes(base.converted(to: Double.self))
            }
        let dimension = defended.observationDimension
        let statistics = ObservationStatistics(clean, dimension: dimension)
        let context = TransformationContext(
            scale: try unitScale(statistics: statistics, policy: base),
            range: (statistics.lower, statistics.upper), discrete: defended.actionSpace.actionCount != nil)
        for spec in transformations { defended.defenses.append(try toolkit.transformation(spec, context: context)) }
        return defended
    }

    /// The unit of steps and σ per dimension.
    func unitScale(statistics: ObservationStatistics, policy: Policy<Float>) throws -> [Double] {
        switch units {
        case .raw: Array(repeating: 1, count: statistics.standardDeviation.count)
        case .std: statistics.standardDeviation
        case .normalized: try policy.normalizedUnits()
        }
    }
}

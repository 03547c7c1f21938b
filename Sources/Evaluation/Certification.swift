import Agents
import Attacks
import Defenses
import Environments
import Foundation
import Linalg
import NeuralNet
import Verification

/// Certificates for a policy over the states its clean episodes visit, at one ε of the
/// evaluation's threat model:
/// - `ibp`: SA-DQN's action certification rate — the fraction of visited states whose greedy
///   action no perturbation in the box can change (`IntervalCertificate`), with a Wilson 95%
///   interval; for continuous policies, the bound on how far the outputs can move;
/// - `smoothing`: Cohen et al.'s certified radius of the smoothed policy at (up to `states`)
///   visited states, and the fraction certified at the threat model's ε (for an L∞ threat
///   model, at the L2 radius `ε √d` that contains its box);
/// - `crop`: CROP's certified lower bound on the smoothed policy's expected return when every
///   step may be perturbed within ε (budget `ε √H`, or `ε √(H d)` for L∞).
public struct Certification: Sendable {
    public struct IBP: Codable, Equatable, Sendable {
        public var states: Int
        public var certified: Int?
        public var rate: Double?
        public var ci95: [Double]?
        public var meanMarginLowerBound: Double?
        public var meanOutputDeviation: Double?
        public var maxOutputDeviation: Double?
    }

    /// Complete verification of every visited state: certified when each other action is proven
    /// impossible, attackable when a perturbation forcing another action was found, undecided
    /// when the solver's time limit (or a tie) left a question open. The exact rate lies in
    /// `[rate, rate_upper_bound]`; they coincide when nothing is undecided.
    public struct Complete: Codable, Equatable, Sendable {
        public var states: Int
        public var certified: Int
        public var attackable: Int
        public var undecided: Int
        public var rate: Double
        public var rateUpperBound: Double
        /// States interval bounds alone certified (the rest went to the solver).
        public var ibpCertified: Int
        public var timeLimit: Double
        /// Wall-clock seconds per state, mean and worst.
        public var meanSeconds: Double
        public var maxSeconds: Double
    }

    public struct Smoothing: Codable, Equatable, Sendable {
        public var sigma: Double
        public var states: Int
        public var samples: Int
        public var alpha: Double
        /// The L2 radius (threat-model units) a state needs to count as certified at ε.
        public var requiredRadius: Double
        public var certified: Int
        public var rate: Double
        public var abstained: Int
        public var meanRadius: Double
        /// States where the smoothed action equals the base policy's clean action.
        public var agreement: Double
    }

    public struct CROP: Codable, Equatable, Sendable {
        public var sigma: Double
        public var episodes: Int
        public var horizon: Int
        public var returnRange: [Double]
        public var alpha: Double
        public var bound: SmoothedReturnBound
    }

    public struct Report: Codable, Equatable, Sendable {
        public var policy: String
        public var environment: String
        public var threatModel: ThreatModel
        public var cleanMeanReturn: Double
        public var ibp: IBP?
        public var complete: Complete?
        public var smoothing: Smoothing?
        public var crop: CROP?
    }

    public enum Method: Sendable, Equatable {
        case ibp
        case complete(timeLimit: Double)
        case smoothing(sigma: Double, states: Int, samples: Int, alpha: Double)
        case crop(sigma: Double, episodes: Int, returnRange: ClosedRange<Double>, alpha: Double)
    }

    /// Runs the evaluation's clean episodes and every method at `epsilon`, in the evaluation's
    /// precision.
    public static func run<S: BLASScalar>(
        _ evaluation: AttackEvaluation<S>, epsilon: Double, methods: [Method], policyName: String
    ) throws -> Report {
        var cleanRunner = EpisodeRunner(
            policy: evaluation.policy, environment: evaluation.environment, selection: evaluation.selection)
        cleanRunner.recordObservations = true
        let clean = try cleanRunner.run(episodes: evaluation.episodes, seed: evaluation.seed)
        let threatModel = try evaluation.threatModel(epsilon: epsilon, clean: clean)
        let states = clean.flatMap(\.observations).map { $0.map { S(Double($0)) } }
        let policy = evaluation.policy
        var report = Report(
            policy: policyName, environment: evaluation.environment, threatModel: threatModel,
            cleanMeanReturn: Statistics.mean(clean.map(\.episodeReturn)))
        let random = RandomStream(seed: evaluation.seed).child("certification")
        for method in methods {
            switch method {
            case .ibp:
                let matrix = Matrix(rows: states.count, columns: policy.observationDimension, storage: states.flatMap { $0 })
                let results = try IntervalCertificate(threatModel: threatModel).certify(matrix, policy: policy)
                var ibp = IBP(states: states.count)
                if policy.actionSpace.actionCount != nil {
                    let certified = results.filter(\.isCertified).count
                    let interval = ConfidenceInterval.wilson(successes: certified, trials: max(states.count, 1))
                    ibp.certified = certified
                    ibp.rate = Double(certified) / Double(max(states.count, 1))
                    ibp.ci95 = [interval.lower, interval.upper]
                    ibp.meanMarginLowerBound = Statistics.mean(results.compactMap(\.marginLowerBound))
                } else {
                    let deviations = results.compactMap(\.outputDeviation)
                    ibp.meanOutputDeviation = Statistics.mean(deviations)
                    ibp.maxOutputDeviation = deviations.max()
                }
                report.ibp = ibp
            case .complete(let timeLimit):
                report.complete = try complete(states, policy: policy, threatModel: threatModel, timeLimit: timeLimit)
            case .smoothing(let sigma, let count, let samples, let alpha):
                guard policy.actionSpace.actionCount != nil else {
                    throw EnvironmentError("smoothing certifies discrete actions; \(evaluation.environment)'s are continuous")
                }
                let smoothing = RandomizedSmoothing(
                    sigma: sigma, selectionSamples: max(samples / 10, 10), estimationSamples: samples, alpha: alpha)
                let chosen = stride(from: 0, to: states.count, by: max(1, states.count / max(count, 1))).prefix(count).map {
                    states[$0]
                }
                let required = requiredL2Radius(threatModel)
                var certified = 0
                var abstained = 0
                var agree = 0
                var radii: [Double] = []
                for (index, state) in chosen.enumerated() {
                    let certificate = smoothing.certify(
                        state, policy: policy, threatModel: threatModel, random: random.child(index))
                    radii.append(certificate.radius)
                    if certificate.action == nil { abstained += 1 }
                    if certificate.action != nil && certificate.radius >= required { certified += 1 }
                    if certificate.action == argmax(policy.outputs(Matrix(rows: 1, columns: state.count, storage: state)).row(0))
                    {
                        agree += 1
                    }
                }
                let n = Double(max(chosen.count, 1))
                report.smoothing = Smoothing(
                    sigma: sigma, states: chosen.count, samples: samples, alpha: alpha, requiredRadius: required,
                    certified: certified, rate: Double(certified) / n, abstained: abstained,
                    meanRadius: Statistics.mean(radii), agreement: Double(agree) / n)
            case .crop(let sigma, let episodes, let range, let alpha):
                let horizon = try Registry.make(evaluation.environment).maxEpisodeSteps
                let noise = ThreatModel(
                    epsilon: sigma, units: threatModel.units, scale: threatModel.scale,
                    bounds: BoxSpace(low: threatModel.lower, high: threatModel.upper), mask: threatModel.mask)
                let runner = EpisodeRunner(
                    policy: policy, environment: evaluation.environment, selection: evaluation.selection,
                    attack: SmoothingNoise(sigma: sigma), threatModel: noise)
                let returns = try runner.run(episodes: episodes, seed: evaluation.seed).map(\.episodeReturn)
                let budget = requiredL2Radius(threatModel) * Double(horizon).squareRoot()
                report.crop = CROP(
                    sigma: sigma, episodes: episodes, horizon: horizon, returnRange: [range.lowerBound, range.upperBound],
                    alpha: alpha,
                    bound: SmoothedReturnBound(returns: returns, returnRange: range, sigma: sigma, budget: budget, alpha: alpha))
            }
        }
        return report
    }

    /// Complete verification of each state (interval bounds first: a state they certify needs
    /// no solver).
    static func complete<S: BLASScalar>(_ states: [[S]], policy: Policy<S>, threatModel: ThreatModel, timeLimit: Double) throws
        -> Complete
    {
        guard threatModel.norm == .linf else {
            throw DefenseError("complete verification supports L∞ threat models (an L2 ball is not linear)")
        }
        do { try CompleteVerification.check(policy) } catch { throw DefenseError(error.description) }
        let verifier = CompleteVerifier(timeLimit: timeLimit)
        let matrix = Matrix(rows: states.count, columns: policy.observationDimension, storage: states.flatMap { $0 })
        let interval = try IntervalCertificate(threatModel: threatModel).certify(matrix, policy: policy)
        var result = Complete(
            states: states.count, certified: 0, attackable: 0, undecided: 0, rate: 0, rateUpperBound: 0, ibpCertified: 0,
            timeLimit: timeLimit, meanSeconds: 0, maxSeconds: 0)
        var seconds: [Double] = []
        for (r, state) in states.enumerated() {
            let start = ContinuousClock.now
            defer { seconds.append((ContinuousClock.now - start) / .seconds(1)) }
            if interval[r].isCertified {
                result.ibpCertified += 1
                result.certified += 1
                continue
            }
            let clean = Matrix(row: state)
            let (lower, upper) = threatModel.box(around: clean)
            let verification = try CompleteVerification(
                verifier: verifier, policy: policy, lower: lower, upper: upper)
            let action = interval[r].action!
            var open = false
            var forced = false
            for other in 0..<policy.outputDimension where other != action {
                switch try verification.canForce(other) {
                case .witness: forced = true
                case .impossible: break
                case .undecided: open = true
                }
                if forced { break }
            }
            if forced {
                result.attackable += 1
            } else if open {
                result.undecided += 1
            } else {
                result.certified += 1
            }
        }
        let n = Double(max(states.count, 1))
        result.rate = Double(result.certified) / n
        result.rateUpperBound = Double(result.certified + result.undecided) / n
        result.meanSeconds = Statistics.mean(seconds)
        result.maxSeconds = seconds.max() ?? 0
        return result
    }

    /// The L2 radius of the smallest ball holding one step's threat: ε, or ε √d for L∞ over d
    /// free dimensions.
    static func requiredL2Radius(_ threatModel: ThreatModel) -> Double {
        let free = (0..<threatModel.dimension).filter(threatModel.isFree).count
        return threatModel.norm == .l2 ? threatModel.epsilon : threatModel.epsilon * Double(free).squareRoot()
    }
}

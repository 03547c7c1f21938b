import ArgumentParser
import Attacks
import Defenses
import Environments
import Evaluation
import Foundation
import Linalg
import Verification

struct CertifyCommand: ParsableCommand, PrecisionGeneric {
    static let configuration = CommandConfiguration(
        commandName: "certify",
        abstract: "Certify a policy's robustness at ε over the states of its clean episodes.",
        discussion: """
            Methods (repeat --method):
              ibp        the fraction of visited states whose greedy action no perturbation within ε can change
                         (interval bound propagation, SA-DQN's certification rate); for continuous policies, a bound
                         on how far the outputs can move
              complete   the exact fraction of visited states whose greedy action no perturbation within ε can
                         change: complete verification of the ReLU network (a mixed-integer program solved by
                         HiGHS, each question limited to --time-limit seconds; L∞ only); IBP's rate is a lower bound
                         of it. States left undecided by the time limit are counted apart
              smoothing  the certified L2 radius of the randomised-smoothing policy (Cohen et al.) at up to --states
                         visited states, with noise --sigma; certified when the radius covers the threat model
              crop       a certified lower bound on the smoothed policy's expected return under perturbations of every
                         step within ε (CROP); needs --return-range
            """)

    @OptionGroup var policyOptions: PolicyOptions
    @Option(parsing: .unconditional, help: "Perturbation budget ε.", transform: parseEpsilon) var eps: Double
    @OptionGroup var threatModel: ThreatModelOptions
    @Option(name: .customLong("method"), help: "ibp, complete, smoothing or crop (repeatable; default ibp).")
    var methods: [String] = []
    @Option(
        name: .customLong("time-limit"), help: "Seconds complete verification may spend on one question (a state and an action).")
    var timeLimit = CompleteVerifier.defaultTimeLimit
    @Option(help: "Smoothing noise σ (threat-model units).") var sigma = 0.1
    @Option(help: "Noise samples per state for the smoothing certificate.") var samples = 1000
    @Option(help: "Visited states certified by smoothing (spread evenly over the episodes).") var states = 200
    @Option(help: "Failure probability α of the smoothing and CROP certificates.") var alpha = 0.001
    @Option(
        name: .customLong("return-range"), help: "LO,HI: the returns an episode can reach (crop), e.g. 0,500 for CartPole-v1.")
    var returnRange: String?
    @Option(name: .customLong("crop-episodes"), help: "Noisy episodes that estimate the smoothed return (crop).")
    var cropEpisodes = 100
    @Option(help: "Clean episodes whose states are certified.") var episodes = 10
    @OptionGroup var seedOption: SeedOption
    @OptionGroup var precision: PrecisionOption
    @OptionGroup var format: JSONOption

    func validate() throws {
        try validateEpsilon(eps)
        guard sigma > 0 && sigma.isFinite else { throw ValidationError("--sigma must be positive, got \(sigma)") }
        guard (1...1_000_000).contains(samples), (1...1_000_000).contains(states), (1...100_000).contains(episodes),
            (1...100_000).contains(cropEpisodes)
        else {
            throw ValidationError("--samples, --states, --episodes and --crop-episodes must be positive (and not absurd)")
        }
        guard timeLimit > 0 && timeLimit <= 86_400 else {
            throw ValidationError("--time-limit must lie in (0, 86400] s, got \(timeLimit)")
        }
        guard alpha > 0 && alpha < 0.5 else { throw ValidationError("--alpha must lie in (0, 0.5), got \(alpha)") }
        _ = try parsedMethods()
    }

    func parsedRange() throws -> ClosedRange<Double> {
        guard let returnRange else {
            throw ValidationError("--method crop needs --return-range LO,HI (the lowest and highest return an episode can reach)")
        }
        let parts = returnRange.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, parts.allSatisfy(\.isFinite), parts[0] < parts[1] else {
            throw ValidationError("--return-range: expected LO,HI with LO < HI, got '\(returnRange)'")
        }
        return parts[0]...parts[1]
    }

    func parsedMethods() throws -> [Certification.Method] {
        try (methods.isEmpty ? ["ibp"] : methods).map { name in
            switch name {
            case "ibp": return .ibp
            case "complete": return .complete(timeLimit: timeLimit)
            case "smoothing": return .smoothing(sigma: sigma, states: states, samples: samples, alpha: alpha)
            case "crop": return .crop(sigma: sigma, episodes: cropEpisodes, returnRange: try parsedRange(), alpha: alpha)
            default: throw ValidationError("--method: unknown method '\(name)' (expected ibp, complete, smoothing or crop)")
            }
        }
    }

    func run() throws {
        BLAS.setThreads(1)
        try precision.dispatch(self)
    }

    func run<S: BLASScalar>(as _: S.Type) throws {
        let (_, loaded, environment) = try policyOptions.load()
        let (policy, seed) = (policyOptions.policy, seedOption.seed)
        let evaluation = AttackEvaluation(
            policy: loaded.converted(to: S.self), environment: environment, episodes: episodes, seed: seed,
            norm: threatModel.norm,
            units: threatModel.units, mask: try threatModel.mask(for: loaded.observationDimension))
        let report: Certification.Report
        do {
            report = try Certification.run(evaluation, epsilon: eps, methods: try parsedMethods(), policyName: policy)
        } catch let error as EnvironmentError {
            throw ValidationError(error.description)
        } catch let error as DefenseError {
            throw ValidationError("\(policy): \(error.description)")
        }
        if format.json {
            try printJSON(report)
            return
        }
        print(
            "\(policy) on \(environment): \(episodes) clean episodes from seed \(seed) (mean return \(String(format: "%.2f", report.cleanMeanReturn))), threat model \(report.threatModel.description)"
        )
        if let ibp = report.ibp {
            if let rate = ibp.rate, let ci = ibp.ci95, let certified = ibp.certified {
                print(
                    String(
                        format:
                            "ibp:       %d of %d visited states certified (%.1f%%, 95%% CI [%.1f, %.1f]), mean margin bound %.4f",
                        certified, ibp.states, 100 * rate, 100 * ci[0], 100 * ci[1], ibp.meanMarginLowerBound ?? .nan))
            } else {
                print(
                    String(
                        format: "ibp:       outputs move at most %.4f (mean over %d states), %.4f (worst)",
                        ibp.meanOutputDeviation ?? .nan, ibp.states, ibp.maxOutputDeviation ?? .nan))
            }
        }
        if let c = report.complete {
            print(
                String(
                    format:
                        "complete:  %d of %d visited states certified (%.1f%%), %d attackable, %d undecided%@ (interval bounds alone: %d); %.3f s per state (worst %.3f)",
                    c.certified, c.states, 100 * c.rate, c.attackable, c.undecided,
                    c.undecided > 0
                        ? String(format: ": the rate lies in [%.1f%%, %.1f%%]", 100 * c.rate, 100 * c.rateUpperBound) : "",
                    c.ibpCertified, c.meanSeconds, c.maxSeconds))
        }
        if let s = report.smoothing {
            print(
                String(
                    format:
                        "smoothing: σ=%g, %d states: %d certified at L2 radius %.4f (%.1f%%), %d abstained, mean radius %.4f, agrees with the base policy at %.1f%%",
                    s.sigma, s.states, s.certified, s.requiredRadius, 100 * s.rate, s.abstained, s.meanRadius, 100 * s.agreement))
        }
        if let c = report.crop {
            print(
                String(
                    format:
                        "crop:      σ=%g, %d noisy episodes: smoothed return %.2f (lower bound %.2f); certified return ≥ %.2f for any perturbation of total L2 norm ≤ %.3f over %d steps",
                    c.sigma, c.episodes, c.bound.smoothedReturn, c.bound.smoothedReturnLowerBound, c.bound.certifiedReturn,
                    c.bound.budget, c.horizon))
        }
    }
}

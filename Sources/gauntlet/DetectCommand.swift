import ArgumentParser
import Attacks
import Defenses
import Environments
import Evaluation
import Foundation
import Linalg

struct DetectCommand: ParsableCommand, PrecisionGeneric {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Measure how well perturbed observations can be detected, also against an attacker who knows the detector.",
        discussion: """
            Clean episodes are split in halves: a small MLP detector learns clean vs attacked states on the first, and \
            on the second the tool reports ROC AUC and the detection rate at 5% false positives for the learned detector \
            and for the policy-margin test, then attacks the learned detector adaptively (PGD on the attack objective minus \
            --adaptive-weight times the detector's score) and reports the same with the share of actions each attack flips.
            """)

    @OptionGroup var policyOptions: PolicyOptions
    @Option(help: "Attack spec the detector learns and is tested on.") var attack = "pgd"
    @Option(parsing: .unconditional, help: "Perturbation budget ε.", transform: parseEpsilon) var eps: Double
    @OptionGroup var threatModel: ThreatModelOptions
    @Option(name: .customLong("adaptive-weight"), help: "λ: how much the adaptive attacker weighs staying undetected.")
    var adaptiveWeight = 1.0
    @Option(help: "Clean episodes (half train the detector).") var episodes = 10
    @OptionGroup var seedOption: SeedOption
    @OptionGroup var precision: PrecisionOption
    @OptionGroup var format: JSONOption

    func validate() throws {
        guard eps > 0 && eps.isFinite else { throw ValidationError("--eps must be a finite number > 0, got \(eps)") }
        guard (2...100_000).contains(episodes) else {
            throw ValidationError("--episodes must lie in 2...100000 (half of them train the detector)")
        }
        guard adaptiveWeight >= 0 && adaptiveWeight.isFinite else { throw ValidationError("--adaptive-weight must be ≥ 0") }
        try validateAttacks([attack])
    }

    func run() throws {
        BLAS.setThreads(1)
        try precision.dispatch(self)
    }

    func run<S: BLASScalar>(as _: S.Type) throws {
        let (_, loaded, environment) = try policyOptions.load()
        let policy = policyOptions.policy
        let evaluation = AttackEvaluation(
            policy: loaded.converted(to: S.self), environment: environment, episodes: episodes, seed: seedOption.seed,
            norm: threatModel.norm,
            units: threatModel.units, mask: try threatModel.mask(for: loaded.observationDimension))
        let report: DetectionStudy.Report
        do {
            report = try DetectionStudy.run(
                evaluation, attack: try Toolkit.standard.makeAttack(attack), epsilon: eps, adaptiveWeight: adaptiveWeight,
                policyName: policy)
        } catch let error as EnvironmentError {
            throw ValidationError(error.description)
        }
        if format.json {
            try printJSON(report)
            return
        }
        print(
            "\(policy) on \(environment): detector trained on \(report.trainingStates) states, tested on \(report.testStates); \(report.attack) at \(report.threatModel.description)"
        )
        let adaptive = String(format: "adaptive (λ=%g):", report.adaptiveWeight)
        let width = max("learned detector:".count, adaptive.count) + 1
        func row(_ label: String, _ detector: ROC, _ flips: String) -> String {
            label.padding(toLength: width, withPad: " ", startingAt: 0)
                + String(
                    format: "AUC %.3f, detects %.1f%% at 5%% false positives", detector.auc,
                    100 * detector.truePositiveRateAt5PercentFalsePositives) + flips
        }
        print(
            row(
                "learned detector:", report.learned,
                String(format: " (the attack flips %.1f%% of actions)", 100 * report.flipRate)))
        print(row("margin test:", report.margin, ""))
        print(row(adaptive, report.adaptiveLearned, String(format: " (flips %.1f%% of actions)", 100 * report.adaptiveFlipRate)))
    }
}

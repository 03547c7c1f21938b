import Agents
import ArgumentParser
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet

struct AttackCommand: ParsableCommand, PrecisionGeneric {
    static let configuration = CommandConfiguration(
        commandName: "attack",
        abstract: "Attack a policy's observations and measure the reward it loses.",
        discussion: """
            Runs --episodes episodes on seeds S, S+1, … clean, then the same seeds attacked \
            (repeat --attack for several), and prints clean and attacked returns with 95% \
            intervals, the paired reward drop, the action-flip rate and the policy queries. \
            With --json and one attack, the output is that attack's object {"attack", \
            "threat_model", "clean", "attacked", "reward_drop", "action_flip_rate", "queries", …}; \
            with several, {"attacks": [those objects]}. \
            Attack specs are name:key=value,…; the attacks, with their parameters and defaults:

            \(Toolkit.standard.attacks.help)
            """)

    @OptionGroup var policyOptions: PolicyOptions
    @Option(name: .customLong("attack"), help: "Attack spec, e.g. pgd:steps=20,restarts=4 (repeatable).") var attacks: [String]
    @Option(parsing: .unconditional, help: "Perturbation budget ε.", transform: parseEpsilon) var eps: Double
    @OptionGroup var threatModel: ThreatModelOptions
    @OptionGroup var schedule: ScheduleOptions
    @Option(help: "Episodes.") var episodes = 50
    @OptionGroup var seedOption: SeedOption
    @OptionGroup var sampling: SamplingOption
    @OptionGroup var precision: PrecisionOption
    @OptionGroup var format: JSONOption

    func validate() throws {
        try validateEpsilon(eps)
        try validateEpisodes(episodes)
        guard !attacks.isEmpty else { throw ValidationError("give at least one --attack") }
        try validateAttacks(attacks)
    }

    func run() throws {
        BLAS.setThreads(1)
        try precision.dispatch(self)
    }

    func run<S: BLASScalar>(as _: S.Type) throws {
        let (_, loaded, environment) = try policyOptions.load()
        var evaluation = AttackEvaluation(
            policy: loaded.converted(to: S.self), environment: environment, episodes: episodes, seed: seedOption.seed,
            selection: sampling.selection, exploration: sampling.exploration, norm: threatModel.norm, units: threatModel.units,
            mask: try threatModel.mask(for: loaded.observationDimension), schedule: schedule.schedule)
        var reports: [AttackReport] = []
        let runProgress = RunProgress()
        evaluation.progress = { runProgress.update($0) }
        evaluation.preparation = { runProgress.note($0) }
        defer { runProgress.finish() }
        do {
            runProgress.start("clean")
            let clean = try evaluation.cleanEpisodes()
            for spec in attacks {
                let attack = try Toolkit.standard.makeAttack(spec)
                runProgress.start("\(attack.spec) ε=\(eps)")
                reports.append(try evaluation.run(attack, epsilon: eps, clean: clean))
            }
            runProgress.finish()
        } catch let error as EnvironmentError {
            throw ValidationError(error.description)
        }
        let policy = policyOptions.policy
        if format.json {
            try printJSON(AttackRun(policy: policy, environment: environment, precision: precision.precision, attacks: reports))
            return
        }
        print(
            "\(policy) on \(environment), \(episodes) episodes from seed \(seedOption.seed)"
                + (sampling.exploration > 0 ? " (ε-greedy \(sampling.exploration))" : "")
                + ", threat model \(reports.first?.threatModel.description ?? "")"
        )
        print(
            String(
                format: "clean:  mean return %.2f, 95%% CI [%.2f, %.2f]", reports[0].clean.meanReturn, reports[0].clean.ci95[0],
                reports[0].clean.ci95[1]))
        for r in reports { print(r.textLine) }
        for warning in SanityChecks.run(reports) { print(warning.description) }
    }
}

extension AttackReport {
    /// One line of text: returns and drop with their 95% intervals, the flip rate over the
    /// attacked steps, and queries in total and per attacked step.
    var textLine: String {
        let head = String(
            format: "%@: attacked %.2f, 95%% CI [%.2f, %.2f]; drop (clean − attacked) %.2f, 95%% CI [%.2f, %.2f]; ", attack,
            attacked.meanReturn, attacked.ci95[0], attacked.ci95[1], rewardDrop.mean, rewardDrop.ci95[0], rewardDrop.ci95[1])
        let learned =
            preparation.map {
                $0.environmentSteps > 0
                    ? "; learned from \($0.environmentSteps) victim steps: \($0.choice)" : "; prepared: \($0.choice)"
            } ?? ""
        guard attackedSteps > 0 else {
            return head + "no step was attacked (the schedule never chose one), so there is no flip rate; \(queries) queries"
                + learned
        }
        return head
            + String(
                format: "flips %.1f%% of %d attacked steps, 95%% CI [%.1f, %.1f]; %d queries (%.1f per attacked step)",
                100 * actionFlipRate.value, attackedSteps, 100 * actionFlipRate.ci95[0], 100 * actionFlipRate.ci95[1], queries,
                Double(queries) / Double(attackedSteps)) + learned
    }
}

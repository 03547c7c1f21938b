import Agents
import ArgumentParser
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet

struct Evaluate: ParsableCommand, PrecisionGeneric {
    static let configuration = CommandConfiguration(
        abstract: "Run a policy for N episodes on seeds S, S+1, …, clean and under attacks, and report its returns.",
        discussion: """
            With --attack (repeatable) and --eps (repeatable), every attack runs at every ε on the \
            same seeds as the clean episodes; the output adds each attack's paired report, the \
            strongest attack per episode at each ε, and sanity-check warnings (an iterative \
            attack weaker than FGSM, returns rising with ε, gradient-free attacks beating \
            white-box ones, a changed return at ε = 0). --record FILE keeps every step in a \
            replay file (with several attack runs: FILE-1.safetensors, FILE-2.safetensors, … for \
            each ε in turn, its attacks in order). Stochastic policies act by their mode unless --sample.
            """)

    @OptionGroup var policyOptions: PolicyOptions
    @Option(help: "Episodes.") var episodes = 100
    @OptionGroup var seedOption: SeedOption
    @OptionGroup var sampling: SamplingOption
    @Option(name: .customLong("attack"), help: "Attack spec (repeatable).") var attacks: [String] = []
    @Option(
        name: .customLong("eps"), parsing: .unconditionalSingleValue,
        help: "Perturbation budget ε (repeatable; required with --attack).", transform: parseEpsilon) var epsilons: [Double] = []
    @OptionGroup var threatModel: ThreatModelOptions
    @OptionGroup var schedule: ScheduleOptions
    @Option(help: "Write the evaluation to this replay file.") var record: String?
    @Option(
        name: .customLong("halving-eps"), help: "Also find, per attack, the smallest ε ≤ this that halves the return (bisection)."
    )
    var halvingMaximum: Double?
    @OptionGroup var precision: PrecisionOption
    @OptionGroup var format: JSONOption

    func validate() throws {
        try validateEpisodes(episodes)
        guard attacks.isEmpty == epsilons.isEmpty else { throw ValidationError("--attack and --eps go together") }
        for e in epsilons { try validateEpsilon(e) }
        if let h = halvingMaximum, !(h > 0 && h.isFinite) {
            throw ValidationError("--halving-eps must be a positive number, got \(h)")
        }
        try validateAttacks(attacks)
    }

    struct Output: Encodable {
        var policy: String
        var precision: Precision
        var result: StudyResult
        /// Per attack, the smallest ε that halves the return (nil: not within the maximum).
        var halvingEpsilon: [String: HalvingEpsilon]?

        func encode(to encoder: Encoder) throws {
            try result.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(policy, forKey: .policy)
            try container.encode(precision, forKey: .precision)
            try container.encodeIfPresent(halvingEpsilon, forKey: .halvingEpsilon)
        }

        enum Keys: String, CodingKey {
            case policy, precision
            case halvingEpsilon = "halving_epsilon"
        }
    }

    func run() throws {
        BLAS.setThreads(1)
        try precision.dispatch(self)
    }

    func run<S: BLASScalar>(as _: S.Type) throws {
        let (_, loaded, environment) = try policyOptions.load()
        let (policy, seed, selection) = (policyOptions.policy, seedOption.seed, sampling.selection)
        var evaluation = AttackEvaluation(
            policy: loaded.converted(to: S.self), environment: environment, episodes: episodes, seed: seed,
            selection: selection, exploration: sampling.exploration, norm: threatModel.norm, units: threatModel.units,
            mask: try threatModel.mask(for: loaded.observationDimension), schedule: schedule.schedule)
        let runs = attacks.count * epsilons.count
        var recorder = try record.map { path throws(PolicyFileError) in
            try ReplayRecorder(base: URL(fileURLWithPath: path), runs: runs, evaluation: evaluation, policyPath: policy)
        }
        let runProgress = RunProgress()
        func wrote(_ url: URL, _ what: String) {
            runProgress.finish()
            FileHandle.standardError.write(Data("wrote \(url.path): \(what)\n".utf8))
        }
        let result: StudyResult
        var halving: [String: HalvingEpsilon]? = nil
        evaluation.progress = { runProgress.update($0) }
        evaluation.preparation = { runProgress.note($0) }
        runProgress.start("clean")
        defer { runProgress.finish() }
        do {
            let suite = try attacks.map { spec throws(AttackError) in try Toolkit.standard.makeAttack(spec) }
            result = try evaluation.study(
                attacks: suite, epsilons: epsilons,
                record: recorder == nil
                    ? nil
                    : { report, outcomes in
                        wrote(
                            try recorder!.record(report, outcomes: outcomes),
                            "\(report.attack) at ε = \(report.threatModel.epsilon)")
                    },
                progress: { runProgress.start($0) })
            if recorder != nil, runs == 0 {
                var runner = EpisodeRunner(
                    policy: loaded.converted(to: S.self), environment: environment, selection: selection)
                runner.exploration = sampling.exploration
                runner.recordTraces = true
                wrote(try recorder!.record(nil, outcomes: runner.run(episodes: episodes, seed: seed)), "the clean episodes")
            }
            if let maximum = halvingMaximum {
                let clean = try evaluation.cleanEpisodes()
                halving = [:]
                for spec in attacks {
                    let attack = try Toolkit.standard.makeAttack(spec)
                    runProgress.start("bisecting the halving ε of \(attack.spec)")
                    halving![attack.spec] = try evaluation.halvingEpsilon(attack, maximum: maximum, clean: clean)
                }
            }
        } catch let error as AttackError {
            throw ValidationError(error.description)
        } catch let error as EnvironmentError {
            throw ValidationError(error.description)
        } catch let error as SafetensorsError {
            throw ValidationError(error.description)
        }
        if format.json {
            try printJSON(Output(policy: policy, precision: precision.precision, result: result, halvingEpsilon: halving))
            return
        }
        let c = result.clean
        print(
            String(
                format:
                    "%@ on %@, %d episodes from seed %llu (%@): mean return %.2f ± %.2f (std), 95%% CI [%.2f, %.2f], median %.2f",
                policy, environment, episodes, seed, selectionText(result), c.meanReturn, c.stdReturn, c.ci95[0], c.ci95[1],
                c.medianReturn))
        for r in result.attacks {
            print(String(format: "  ε=%g ", r.threatModel.epsilon) + r.textLine)
        }
        for s in result.strongest {
            print(
                String(
                    format: "  ε=%g strongest attack per episode: %.2f, 95%% CI [%.2f, %.2f]", s.epsilon, s.attacked.meanReturn,
                    s.attacked.ci95[0], s.attacked.ci95[1]))
        }
        for (attack, found) in (halving ?? [:]).sorted(by: { $0.key < $1.key }) {
            let text =
                found.epsilon.map { String(format: "%.4f, 95%% CI [%.4f, %.4f]", $0, found.ci95![0], found.ci95![1]) }
                ?? "— (not within --halving-eps)"
            print("  \(attack) halves the return at ε ≈ " + text)
        }
        for warning in result.sanity { print(warning.description) }
    }

    /// How the actions were chosen, for the summary line.
    private func selectionText(_ result: StudyResult) -> String {
        result.exploration > 0 ? "\(result.selection.rawValue), ε-greedy \(result.exploration)" : result.selection.rawValue
    }
}

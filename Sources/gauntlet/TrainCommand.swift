import Agents
import ArgumentParser
import Evaluation
import Foundation
import Linalg

struct Train: ParsableCommand, PrecisionGeneric {
    static let configuration = CommandConfiguration(
        abstract: "Train a policy from a YAML config (rl-zoo style), with checkpoints that resume exactly.",
        discussion: """
            The run directory receives config.yaml, run.json, checkpoint.safetensors (every \
            checkpoint_interval steps, written atomically), progress.csv (training curves), \
            policy.safetensors and summary.json. Interrupt at any time and continue with \
            --resume DIR: for the same seed the final weights are bit-identical to an \
            uninterrupted run. Progress goes to standard error.

            ATLA writes its learned adversary as adversary.safetensors. robust_attack takes \
            \(Toolkit.standard.attacks.trainingNames.joined(separator: ", ")).

            The config keys, with their defaults:

            \(TrainingConfig.help(methods: Toolkit.standard.robustMethods))
            """)

    @Option(help: "Training config (YAML).") var config: String?
    @Option(help: "Seed (overrides the config's).") var seed: UInt64?
    @Option(help: "Run directory (default: runs/<config name>-seed<seed>).") var output: String?
    @Option(help: "Continue the run in this directory from its last checkpoint.") var resume: String?
    @Flag(help: "Print every setting of --config, defaults included, as JSON (what the policy file will record) and exit.")
    var showConfig = false
    @OptionGroup var precision: PrecisionOption
    @OptionGroup var format: JSONOption

    func validate() throws {
        guard (config == nil) != (resume == nil) else { throw ValidationError("give either --config FILE or --resume DIR") }
        if resume != nil && (seed != nil || output != nil) {
            throw ValidationError("--resume takes the seed and directory of the run it continues")
        }
        if showConfig && config == nil { throw ValidationError("--show-config needs --config FILE") }
    }

    func run() throws {
        BLAS.setThreads(1)
        if showConfig, let config {
            do { try printJSON(try Toolkit.standard.trainingConfig(contentsOf: URL(fileURLWithPath: config)).settings) } catch {
                throw ValidationError("\(error)")
            }
            return
        }
        try precision.dispatch(self)
    }

    func run<S: BLASScalar>(as _: S.Type) throws {
        let run: TrainingRun<S>
        do {
            if let resume {
                run = try TrainingRun<S>(resuming: URL(fileURLWithPath: resume), components: Toolkit.standard.training)
                FileHandle.standardError.write(Data("resuming \(resume) at step \(run.learner.steps)\n".utf8))
            } else {
                let url = URL(fileURLWithPath: config!)
                let parsed = try Toolkit.standard.trainingConfig(contentsOf: url)
                let chosenSeed = seed ?? parsed.seed
                let name = url.deletingPathExtension().lastPathComponent
                let directory = URL(fileURLWithPath: output ?? "runs/\(name)-seed\(chosenSeed)")
                run = try TrainingRun<S>(
                    config: parsed, directory: directory, seed: chosenSeed, components: Toolkit.standard.training)
            }
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        } catch let error as TrainingError {
            throw ValidationError(error.description)
        }
        guard let summary = try runWithProgress(run, label: "\(run.config.environment) \(run.config.algorithm.name)") else {
            return
        }
        if format.json {
            try printJSON(summary)
        } else {
            print(
                String(
                    format: "%@ %@ seed %llu: %d steps, %d episodes, mean return (last 100) %.2f, %.1f s → %@",
                    summary.environment, summary.algorithm, summary.seed, summary.steps, summary.episodes,
                    summary.meanReturnLast100, summary.wallSeconds, summary.policy))
        }
    }
}

/// Runs a training run with a progress display; a failure during training (a NaN, a write
/// error) is reported and exits with code 1.
func runWithProgress<S: BLASScalar>(_ run: TrainingRun<S>, label: String) throws -> TrainingSummary? {
    let bar = ProgressBar(label: label)
    defer { bar.finish() }
    do { return try run.run { bar.update($0) } } catch {
        bar.finish()  // before the message, not after it
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode(1)
    }
}

/// A one-line progress display on standard error, redrawn at most ten times a second on a
/// terminal; when standard error is a file or pipe, a plain line every two seconds instead.
final class ProgressBar {
    let label: String
    private var lastDraw: UInt64 = 0
    private var drawn = false
    private let terminal = isatty(2) != 0

    init(label: String) { self.label = label }

    func update(_ p: TrainingProgress) {
        let now = DispatchTime.now().uptimeNanoseconds
        let interval: UInt64 = terminal ? 100_000_000 : 2_000_000_000
        guard now - lastDraw > interval || p.steps >= p.totalSteps else { return }
        lastDraw = now
        // A learner may overshoot its total by the last rollout's remainder; the bar stops at 100%.
        let fraction = min(1, Double(p.steps) / Double(max(p.totalSteps, 1)))
        let width = 24
        let filled = min(width, Int(fraction * Double(width)))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let meanReturn = p.meanReturn.isNaN ? "—" : String(format: "%.1f", p.meanReturn)
        let line = String(
            format: "%@ %@ %3.0f%% %d/%d steps, %d episodes, return %@, %.0f steps/s ",
            label, bar, fraction * 100, p.steps, p.totalSteps, p.episodes, meanReturn, p.stepsPerSecond)
        FileHandle.standardError.write(Data((terminal ? "\r" + line : line + "\n").utf8))
        drawn = terminal
    }

    /// Ends the progress line (once).
    func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        drawn = false
    }
}

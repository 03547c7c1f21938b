import Agents
import ArgumentParser
import Evaluation
import Foundation
import Linalg
import Synchronization

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
    @Option(
        name: .customLong("env-threads"),
        help: "Threads stepping the vectorised environment copies (speed only: the weights are identical for any count).")
    var environmentThreads = 1
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
        guard (1...256).contains(environmentThreads) else { throw ValidationError("--env-threads must lie in 1...256") }
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
                if let change = run.kernelChange { FileHandle.standardError.write(Data("warning: \(change)\n".utf8)) }
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
        run.learner.environment.threads = environmentThreads
        let resumeCommand = "gauntlet train --resume \(run.directory.path)" + (S.self == Double.self ? " --precision f64" : "")
        guard
            let summary = try runWithProgress(
                run, label: "\(run.config.environment) \(run.config.algorithm.name)", resumeCommand: resumeCommand)
        else {
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
/// error) is reported and exits with code 1. SIGINT or SIGTERM lets the current unit finish,
/// writes a checkpoint, says how to resume and exits with 130 (a second signal kills at once).
func runWithProgress<S: BLASScalar>(_ run: TrainingRun<S>, label: String, resumeCommand: String) throws
    -> TrainingSummary?
{
    let bar = ProgressBar(label: label)
    defer { bar.finish() }
    Interruption.install()
    defer { Interruption.uninstall() }
    let summary: TrainingSummary?
    do { summary = try run.run(shouldStop: { Interruption.requested }, progress: { bar.update($0) }) } catch {
        bar.finish()  // before the message, not after it
        FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
        throw ExitCode(1)
    }
    if summary == nil, Interruption.requested {
        bar.finish()
        FileHandle.standardError.write(
            Data(
                "interrupted at step \(run.learner.steps) of \(run.learner.totalSteps); checkpoint written to \(run.directory.appendingPathComponent("checkpoint.safetensors").path)\ncontinue with: \(resumeCommand)\n"
                    .utf8))
        throw ExitCode(130)
    }
    return summary
}

/// SIGINT and SIGTERM as a request to stop at the next safe point: the handler only sets a flag
/// (and restores the default action, so a second signal ends the process at once).
enum Interruption {
    private static let flag = Atomic<Bool>(false)

    static var requested: Bool { flag.load(ordering: .relaxed) }

    static func install() {
        flag.store(false, ordering: .relaxed)
        // A process started by a thread that blocks these signals (a test runner's worker, some
        // job launchers) inherits the mask; unblock them so an interrupt arrives.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { number in
                Interruption.flag.store(true, ordering: .relaxed)
                signal(number, SIG_DFL)
            }
        }
    }

    static func uninstall() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

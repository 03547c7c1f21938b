import Agents
import ArgumentParser
import Attacks
import Evaluation
import Foundation
import Linalg

struct Adversary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Learned observation adversaries.",
        subcommands: [AdversaryTrain.self])
}

struct AdversaryTrain: ParsableCommand, PrecisionGeneric {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a PPO adversary that perturbs a fixed victim's observations to minimise its return.",
        discussion: """
            The adversary acts in the victim's state-adversarial MDP (ATLA-style): it sees the \
            clean observation, outputs a direction a ∈ [−1, 1]^d, and the victim acts on \
            s + ε·a (L∞, raw units, clipped to the observation bounds); its reward is the \
            victim's negated. With --kind paad it is PA-AD's director instead: it outputs a \
            direction in the victim's (continuous) action space, and PA-AD's actor finds the \
            observation in the ball that moves the victim's action along it. The run directory \
            is a normal training run (resume it with `gauntlet train --resume DIR`); evaluate the \
            result with `gauntlet attack --attack learned:adversary=DIR/policy.safetensors` \
            (or `paad:adversary=…`).
            """)

    @Option(help: "Victim policy file.") var victim: String
    @Option(help: "Environment id (default: the victim's).") var env: String?
    @Option(parsing: .unconditional, help: "Perturbation budget ε (L∞).", transform: parseEpsilon) var eps: Double
    @Option(
        name: .customLong("eps-units"),
        help: "raw (observation units) or normalized (the victim's observation normalisation, as MuJoCo studies measure ε).")
    var units: ThreatModel.Units = .raw
    @Option(help: "learned (observation perturbations, SA-RL/ATLA) or paad (PA-AD's director of action directions).")
    var kind: AdversaryEnvironment.Kind = .learned
    @Option(help: "Training steps.") var steps = 200_000
    @Option(
        name: .customLong("learning-rate"),
        help: "The adversary's Adam step size (optimal-attack studies scan a few and keep the strongest adversary).")
    var learningRate = LearnedAdversary.defaultLearningRate
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Run directory.") var output: String
    @OptionGroup var precision: PrecisionOption
    @OptionGroup var format: JSONOption

    func validate() throws {
        guard eps > 0 && eps.isFinite else { throw ValidationError("--eps must be a positive number, got \(eps)") }
        guard steps > 0 else { throw ValidationError("--steps must be positive") }
        guard learningRate > 0 && learningRate <= 1 else {
            throw ValidationError("--learning-rate must be in (0, 1], got \(learningRate)")
        }
        guard !victim.contains(",") else { throw ValidationError("--victim: the path may not contain a comma") }
        guard units != .std else {
            throw ValidationError("--eps-units std is not available for training an adversary (use raw or normalized)")
        }
    }

    func run() throws {
        BLAS.setThreads(1)
        try precision.dispatch(self)
    }

    /// The adversary learns, and the victim acts, in the run's precision.
    func run<S: BLASScalar>(as _: S.Type) throws {
        let (file, _) = try loadPolicy(victim)
        let environment = env ?? file.description.environment!
        let run: TrainingRun<S>
        do {
            let config = try LearnedAdversary.trainingConfig(
                victim: victim, environment: environment, epsilon: eps, units: units, steps: steps, seed: seed,
                precision: Precision(of: S.self), kind: kind, learningRate: learningRate
            )
            run = try TrainingRun<S>(
                config: config, directory: URL(fileURLWithPath: output), seed: seed, components: Toolkit.standard.training)
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        } catch let error as TrainingError {
            throw ValidationError(error.description)
        }
        let resumeCommand = "gauntlet train --resume \(run.directory.path)" + (S.self == Double.self ? " --precision f64" : "")
        guard let summary = try runWithProgress(run, label: "adversary vs \(victim)", resumeCommand: resumeCommand) else {
            return
        }
        if format.json {
            try printJSON(summary)
        } else {
            let victimReturn =
                summary.meanReturnLast100.isFinite
                ? String(format: "victim's mean return over the last 100 training episodes %.2f", -summary.meanReturnLast100)
                : "no training episode finished"
            print("adversary trained for \(summary.steps) steps; \(victimReturn) → \(summary.policy)")
        }
    }
}

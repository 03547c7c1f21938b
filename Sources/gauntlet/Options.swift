import Agents
import ArgumentParser
import Attacks
import Evaluation
import Foundation
import Linalg
import NeuralNet

// Option groups shared by the commands: each option is declared once, with its help and checks.

extension ThreatModel.Norm: ExpressibleByArgument {}
extension ThreatModel.Units: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension AdversaryEnvironment.Kind: ExpressibleByArgument {}

/// `--policy` and `--env`.
struct PolicyOptions: ParsableArguments {
    @Option(help: "Policy file (.safetensors).") var policy: String
    @Option(help: "Environment id (default: the policy's).") var env: String?

    /// The policy file, the policy with its defenses, and the environment to run it in.
    func load() throws -> (file: PolicyFile, policy: Policy<Float>, environment: String) {
        let (file, policy) = try loadPolicy(self.policy)
        guard let environment = env ?? file.description.environment else {
            throw ValidationError("\(self.policy) names no environment: give --env")
        }
        return (file, policy, environment)
    }
}

/// `--seed`: episodes run on seeds S, S+1, ….
struct SeedOption: ParsableArguments {
    @Option(help: "Seed of the first episode (episodes use S, S+1, …).") var seed: UInt64 = 0
}

/// `--sample` and `--explore`: how the evaluated policy chooses its actions.
struct SamplingOption: ParsableArguments {
    @Flag(help: "Sample actions from stochastic policies instead of taking the mode.") var sample = false
    @Option(
        name: .customLong("explore"),
        help: ArgumentHelp(
            "ε-greedy evaluation (discrete actions): a random action with this probability at each step.",
            discussion:
                "MinAtar's minimal-set games draw it from all six actions, as the MinAtar paper's DQN explored (its figures report the ε 0.1 return)."
        ))
    var exploration = 0.0

    var selection: ActionSelection { sample ? .sample : .mode }

    func validate() throws {
        guard (0...1).contains(exploration) else {
            throw ValidationError("--explore must be a probability in [0, 1], got \(exploration)")
        }
    }
}

/// `--precision`, and the one place a command's generic work is dispatched on it.
struct PrecisionOption: ParsableArguments {
    @Option(help: "Numeric precision: f32, or f64 as a reference.") var precision: Precision = .f32

    /// Runs `work` in this precision's scalar type.
    func dispatch<Work: PrecisionGeneric>(_ work: Work) throws -> Work.Result {
        switch precision {
        case .f32: try work.run(as: Float.self)
        case .f64: try work.run(as: Double.self)
        }
    }
}

/// Work written once for every scalar type (`PrecisionOption.dispatch` picks it).
protocol PrecisionGeneric {
    associatedtype Result
    func run<S: BLASScalar>(as scalar: S.Type) throws -> Result
}

/// `--norm`, `--eps-units` and `--mask`: the shape of the ball (ε is the command's own).
struct ThreatModelOptions: ParsableArguments {
    @Option(help: "Norm of the ball: linf or l2.") var norm: ThreatModel.Norm = .linf
    @Option(
        name: .customLong("eps-units"),
        help:
            "raw (observation units), std (per-dimension std on clean episodes) or normalized (the policy's observation normalisation)."
    )
    var units: ThreatModel.Units = .raw
    @Option(help: "Dimensions the attacker may perturb, as 0/1 per dimension (e.g. 1,1,0,1; default all).") var mask: String?
    @Option(
        name: .customLong("mask-channels"),
        help:
            "Image channels the attacker may perturb, as 0/1 per channel (e.g. 0,1,0,0: MinAtar Breakout's ball); the observation is that many equal blocks, channel by channel."
    )
    var maskChannels: String?

    func validate() throws {
        _ = try flags(mask, "--mask", "observation dimension")
        _ = try flags(maskChannels, "--mask-channels", "channel")
        if mask != nil && maskChannels != nil { throw ValidationError("give --mask or --mask-channels, not both") }
    }

    /// Comma-separated 0/1 flags.
    func flags(_ text: String?, _ option: String, _ per: String) throws -> [Bool]? {
        guard let text else { return nil }
        let entries = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !entries.isEmpty, entries.allSatisfy({ $0 == "0" || $0 == "1" }) else {
            throw ValidationError("\(option): expected comma-separated 0 and 1, one per \(per), got '\(text)'")
        }
        return entries.map { $0 == "1" }
    }

    /// The mask, checked against the policy's observation dimension.
    func mask(for dimension: Int) throws -> [Bool]? {
        if let channels = try flags(maskChannels, "--mask-channels", "channel") {
            do { return try ThreatModel.channelMask(channels, dimension: dimension) } catch {
                throw ValidationError("--mask-channels: \(error.description)")
            }
        }
        let mask = try flags(mask, "--mask", "observation dimension")
        if let mask, mask.count != dimension {
            throw ValidationError("--mask has \(mask.count) entries, the observations have \(dimension) dimensions")
        }
        return mask
    }
}

/// `--budget` and `--timed`: when the attacker acts.
struct ScheduleOptions: ParsableArguments {
    @Option(help: "Attack at most K steps per episode.") var budget: Int?
    @Option(help: "Attack only when the policy's preference max π − min π exceeds this (Lin et al. 2017).") var timed: Double?

    func validate() throws {
        if let budget, budget < 0 { throw ValidationError("--budget must be ≥ 0, got \(budget)") }
        if let timed, !(0...1).contains(timed) { throw ValidationError("--timed must lie in [0, 1], got \(timed)") }
    }

    var schedule: AttackSchedule { AttackSchedule(budget: budget, threshold: timed) }
}

/// `--json`.
struct JSONOption: ParsableArguments {
    @Flag(help: "Print one JSON object on standard output.") var json = false
}

/// Checks every `--attack` spec by making the attack.
func validateAttacks(_ specs: [String]) throws {
    for spec in specs {
        do { _ = try Toolkit.standard.makeAttack(spec) } catch { throw ValidationError("--attack \(spec): \(error.description)") }
    }
}

/// Checks an ε given on the command line.
func validateEpsilon(_ epsilon: Double, option: String = "--eps") throws {
    guard epsilon >= 0 && epsilon.isFinite else { throw ValidationError("\(option) must be a finite number ≥ 0, got \(epsilon)") }
}

/// Checks an episode count given on the command line.
func validateEpisodes(_ episodes: Int, option: String = "--episodes", maximum: Int = 1_000_000) throws {
    guard (1...maximum).contains(episodes) else { throw ValidationError("\(option) must lie in 1...\(maximum), got \(episodes)") }
}

/// Loads a policy file with every defense Gauntlet knows; a bad file is bad input.
func loadPolicy(_ path: String) throws -> (file: PolicyFile, policy: Policy<Float>) {
    do {
        let file = try PolicyFile.load(contentsOf: URL(fileURLWithPath: path))
        return (file, try Toolkit.standard.policy(file))
    } catch {
        throw ValidationError(error.description)
    }
}

/// An ε from the command line: a number (`0.0039`) or a fraction (`3/255`, the pixel-value
/// units of image attacks). Whether it is finite and ≥ 0 each command checks with the rest.
func parseEpsilon(_ text: String) throws -> Double {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    let numbers = parts.compactMap(Double.init)
    guard numbers.count == parts.count, (1...2).contains(parts.count), parts.count == 1 || numbers[1] != 0 else {
        throw ValidationError("ε must be a number (0.0039) or a fraction (3/255), got '\(text)'")
    }
    return parts.count == 1 ? numbers[0] : numbers[0] / numbers[1]
}

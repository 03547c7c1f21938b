import Agents
import ArgumentParser
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-execute a recorded evaluation and verify it bit for bit, or run another attack on its seeds.",
        discussion: """
            Without options: re-runs the evaluation recorded in FILE (same policy, seeds, attack, \
            threat model) and exits 0 if every step reproduces bit-identically, or 1 naming the \
            first episode and step that diverge. --attack SPEC runs a different attack on the \
            recorded seeds and reports the paired difference to the recorded returns. \
            --offline --attack SPEC attacks the recorded clean observations without stepping the \
            environment and reports the action-flip rate (cheap screening of attacks).
            """)

    @Argument(help: "Replay file written by gauntlet evaluate --record.") var file: String
    @Option(help: "Policy file (default: the path recorded in the replay).") var policy: String?
    @Option(help: "Another attack to run on the recorded seeds.") var attack: String?
    @Flag(help: "With --attack: attack the recorded observations without stepping the environment.") var offline = false
    @OptionGroup var format: JSONOption

    func validate() throws {
        if offline && attack == nil { throw ValidationError("--offline needs --attack SPEC") }
        if let attack {
            do { _ = try Toolkit.standard.makeAttack(attack) } catch {
                throw ValidationError("--attack \(attack): \(error.description)")
            }
        }
    }

    struct Verification: Encodable {
        var reproduced: Bool
        var episodes: Int
        var steps: Int
        var divergence: String?
    }

    struct Comparison: Encodable {
        var recordedAttack: String?
        var attack: String
        var recorded: ReturnSummary
        var attacked: ReturnSummary
        var difference: AttackReport.Drop
    }

    struct Offline: Encodable {
        var attack: String
        var steps: Int
        var actionFlipRate: AttackReport.Rate
    }

    func run() throws {
        BLAS.setThreads(1)
        let replay: Replay
        do { replay = try Replay.load(contentsOf: URL(fileURLWithPath: file)) } catch { throw ValidationError(error.description) }
        let policyPath = policy ?? replay.header.policy
        let (_, loaded) = try loadPolicy(policyPath)
        let hash = try Replay.hash(of: URL(fileURLWithPath: policyPath))
        switch replay.header.precision {
        case .f32: try run(replay, loaded, hash: hash, as: Float.self)
        case .f64: try run(replay, loaded.converted(to: Double.self), hash: hash, as: Double.self)
        }
    }

    private func run<S: BLASScalar>(_ replay: Replay, _ victim: Policy<S>, hash: String, as _: S.Type) throws {
        if let spec = attack {
            let newAttack = try Toolkit.standard.makeAttack(spec)
            guard let threatModel = replay.header.threatModel else {
                throw ValidationError(
                    "\(file) records a clean evaluation: it has no threat model for --attack (record one with --attack and --eps)"
                )
            }
            if offline {
                let (flips, steps, rate) = replay.offlineFlipRate(policy: victim, attack: newAttack, threatModel: threatModel)
                let result = Offline(
                    attack: newAttack.spec, steps: steps,
                    actionFlipRate: .init(value: Double(flips) / Double(max(steps, 1)), ci95: [rate.lower, rate.upper]))
                if format.json {
                    try printJSON(result)
                } else {
                    print(
                        String(
                            format: "%@ offline on %d recorded observations: action-flip rate %.1f%% [%.1f, %.1f]", result.attack,
                            steps,
                            100 * result.actionFlipRate.value, 100 * rate.lower, 100 * rate.upper))
                }
                return
            }
            var header = replay.header
            header.threatModel = threatModel
            let rerun = try Replay(header: header, outcomes: replay.outcomes).reexecute(policy: victim, attack: newAttack)
            let recordedReturns = replay.outcomes.map(\.episodeReturn)
            let newReturns = rerun.outcomes.map(\.episodeReturn)
            let interval = ConfidenceInterval.bootstrapPairedDifference(
                recordedReturns, newReturns, random: RandomStream(seed: header.seed).child("replay"))
            let result = Comparison(
                recordedAttack: replay.header.attack, attack: newAttack.spec,
                recorded: ReturnSummary(returns: recordedReturns, seed: header.seed),
                attacked: ReturnSummary(returns: newReturns, seed: header.seed),
                difference: .init(
                    mean: Statistics.mean(zip(recordedReturns, newReturns).map { $0 - $1 }),
                    ci95: [interval.lower, interval.upper]))
            if format.json {
                try printJSON(result)
            } else {
                print(
                    String(
                        format: "recorded (%@): %.2f; %@: %.2f; paired difference %.2f [%.2f, %.2f]",
                        replay.header.attack ?? "clean",
                        result.recorded.meanReturn, result.attack, result.attacked.meanReturn, result.difference.mean,
                        result.difference.ci95[0], result.difference.ci95[1]))
            }
            return
        }
        if hash != replay.header.policyHash {
            FileHandle.standardError.write(
                Data(
                    "error: the policy file changed since the recording (hash \(hash), recorded \(replay.header.policyHash))\n"
                        .utf8))
            throw ExitCode(1)
        }
        let rerun = try replay.reexecute(policy: victim)
        let steps = replay.outcomes.reduce(0) { $0 + $1.length }
        var result = Verification(reproduced: true, episodes: replay.outcomes.count, steps: steps, divergence: nil)
        if let difference = replay.firstDifference(from: rerun) {
            let seed = difference.episode < replay.outcomes.count ? " (seed \(replay.outcomes[difference.episode].seed))" : ""
            result.reproduced = false
            result.divergence =
                "episode \(difference.episode)\(seed)" + (difference.step.map { ", step \($0)" } ?? "")
                + ": \(difference.what) differs"
        }
        if format.json {
            try printJSON(result)
        } else if result.reproduced {
            print("reproduced bit for bit: \(result.episodes) episodes, \(steps) steps")
        } else {
            print("does not reproduce: \(result.divergence!)")
        }
        if !result.reproduced { throw ExitCode(1) }
    }
}

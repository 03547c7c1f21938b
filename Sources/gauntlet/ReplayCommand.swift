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
            do {
                if offline {
                    let result = try replay.attackOffline(policy: victim, attack: newAttack)
                    let rate = result.actionFlipRate
                    if format.json { return try printJSON(result) }
                    print(
                        String(
                            format: "%@ offline on %d recorded observations: action-flip rate %.1f%% [%.1f, %.1f]", result.attack,
                            result.steps, 100 * rate.value, 100 * rate.ci95[0], 100 * rate.ci95[1]))
                    return
                }
                let result = try replay.compare(policy: victim, attack: newAttack)
                if format.json { return try printJSON(result) }
                print(
                    String(
                        format: "recorded (%@): %.2f; %@: %.2f; paired difference recorded − new %.2f, 95%% CI [%.2f, %.2f]",
                        result.recordedAttack ?? "clean", result.recorded.meanReturn, result.attack, result.attacked.meanReturn,
                        result.difference.mean, result.difference.ci95[0], result.difference.ci95[1]))
                return
            } catch let error as ReplayError {
                throw ValidationError("\(file): \(error.description) (record one with --attack and --eps)")
            }
        }
        if hash != replay.header.policyHash {
            FileHandle.standardError.write(
                Data(
                    "Error: the policy file changed since the recording (hash \(hash), recorded \(replay.header.policyHash))\n"
                        .utf8))
            throw ExitCode(1)
        }
        let result = try replay.verify(policy: victim)
        if format.json {
            try printJSON(result)
        } else if result.reproduced {
            print("reproduced bit for bit: \(result.episodes) episodes, \(result.steps) steps")
        } else {
            print("does not reproduce: \(result.divergence!)")
        }
        if !result.reproduced { throw ExitCode(1) }
    }
}

import Agents
import ArgumentParser
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet

extension ThreatModel.Norm: ExpressibleByArgument {}
extension ThreatModel.Units: ExpressibleByArgument {}

struct AttackCommand: ParsableCommand {
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

    @Option(help: "Policy file (.safetensors).") var policy: String
    @Option(help: "Environment id (default: the policy's).") var env: String?
    @Option(name: .customLong("attack"), help: "Attack spec, e.g. pgd:steps=20,restarts=4 (repeatable).") var attacks: [String]
    @Option(help: "Perturbation budget ε.") var eps: Double
    @Option(help: "Norm of the ball: linf or l2.") var norm: ThreatModel.Norm = .linf
    @Option(name: .customLong("eps-units"), help: "raw (observation units) or std (per-dimension std on clean episodes).") var units: ThreatModel.Units = .raw
    @Option(help: "Dimensions the attacker may perturb, as 0/1 per dimension (e.g. 1,1,0,1; default all).") var mask: String?
    @Option(help: "Attack at most K steps per episode.") var budget: Int?
    @Option(help: "Attack only when the policy's preference max π − min π exceeds this (Lin et al. 2017).") var timed: Double?
    @Option(help: "Episodes.") var episodes = 50
    @Option(help: "Seed of the first episode.") var seed: UInt64 = 0
    @Flag(help: "Sample actions from stochastic policies instead of taking the mode.") var sample = false
    @Option(help: "Numeric precision: f32 or f64.") var precision: Precision = .f32
    @Flag(help: "Print one JSON object on standard output.") var json = false

    func validate() throws {
        guard eps >= 0 && eps.isFinite else { throw ValidationError("--eps must be a finite number ≥ 0, got \(eps)") }
        guard episodes > 0 && episodes <= 1_000_000 else { throw ValidationError("--episodes must lie in 1...1000000, got \(episodes)") }
        guard !attacks.isEmpty else { throw ValidationError("give at least one --attack") }
        _ = try parsedMask()
        if let budget, budget < 0 { throw ValidationError("--budget must be ≥ 0, got \(budget)") }
        if let timed, !(0...1).contains(timed) { throw ValidationError("--timed must lie in [0, 1], got \(timed)") }
        for spec in attacks {
            do { _ = try Toolkit.standard.makeAttack(spec) } catch { throw ValidationError("--attack \(spec): \(error.description)") }
        }
    }

    /// The --mask option as booleans.
    func parsedMask() throws -> [Bool]? {
        guard let mask else { return nil }
        let entries = mask.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !entries.isEmpty, entries.allSatisfy({ $0 == "0" || $0 == "1" }) else {
            throw ValidationError("--mask: expected comma-separated 0 and 1, one per observation dimension, got '\(mask)'")
        }
        return entries.map { $0 == "1" }
    }

    /// One attack: the per-attack object itself, with the policy and environment.
    struct SingleOutput: Encodable {
        var report: AttackReport
        var policy: String
        var environment: String
        var precision: Precision

        enum Keys: String, CodingKey { case policy, environment, precision }

        func encode(to encoder: Encoder) throws {
            try report.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(policy, forKey: .policy)
            try container.encode(environment, forKey: .environment)
            try container.encode(precision, forKey: .precision)
        }
    }

    struct Output: Encodable {
        var policy: String
        var environment: String
        var precision: Precision
        var attacks: [AttackReport]
    }

    func run() throws {
        BLAS.setThreads(1)
        let (file, loaded) = try loadPolicy(policy)
        switch precision {
        case .f32: try evaluate(file, loaded, as: Float.self)
        case .f64: try evaluate(file, loaded, as: Double.self)
        }
    }

    private func evaluate<S: BLASScalar>(_ file: PolicyFile, _ loaded: Policy<Float>, as _: S.Type) throws {
        let environment = env ?? file.description.environment!
        let mask = try parsedMask()
        if let mask, mask.count != loaded.observationDimension {
            throw ValidationError("--mask has \(mask.count) entries, the observations have \(loaded.observationDimension) dimensions")
        }
        let evaluation = AttackEvaluation(policy: loaded.converted(to: S.self), environment: environment, episodes: episodes, seed: seed,
                                          selection: sample ? .sample : .mode, norm: norm, units: units, mask: mask,
                                          schedule: AttackSchedule(budget: budget, threshold: timed))
        var reports: [AttackReport] = []
        do {
            let clean = try evaluation.cleanEpisodes()
            for spec in attacks {
                let attack = try Toolkit.standard.makeAttack(spec)
                FileHandle.standardError.write(Data("attacking with \(attack.spec) at ε=\(eps)…\n".utf8))
                reports.append(try evaluation.run(attack, epsilon: eps, clean: clean))
            }
        } catch let error as EnvironmentError {
            throw ValidationError(error.description)
        }
        if json {
            if reports.count == 1 {
                try printJSON(SingleOutput(report: reports[0], policy: policy, environment: environment, precision: precision))
            } else {
                try printJSON(Output(policy: policy, environment: environment, precision: precision, attacks: reports))
            }
            return
        }
        print("\(policy) on \(environment), \(episodes) episodes from seed \(seed), threat model \(reports.first?.threatModel.description ?? "")")
        print(String(format: "clean:  mean return %.2f, 95%% CI [%.2f, %.2f]", reports[0].clean.meanReturn, reports[0].clean.ci95[0], reports[0].clean.ci95[1]))
        for r in reports {
            print(String(format: "%@: attacked %.2f [%.2f, %.2f], drop %.2f [%.2f, %.2f], flips %.1f%% [%.1f, %.1f], %d queries",
                         r.attack, r.attacked.meanReturn, r.attacked.ci95[0], r.attacked.ci95[1], r.rewardDrop.mean, r.rewardDrop.ci95[0],
                         r.rewardDrop.ci95[1], 100 * r.actionFlipRate.value, 100 * r.actionFlipRate.ci95[0], 100 * r.actionFlipRate.ci95[1], r.queries))
        }
    }
}

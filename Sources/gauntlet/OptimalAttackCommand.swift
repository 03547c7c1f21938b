import Agents
import ArgumentParser
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import Verification

struct OptimalAttackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimal-attack",
        abstract:
            "The return of a gridworld policy under the optimal observation attack, exactly, and each heuristic attack's gap to it.",
        discussion: """
            Dynamic programming on the state-adversarial MDP: in each state the adversary picks \
            the policy's action among those a perturbation can force. Targeted PGD finds some; \
            interval bounds exclude some; complete verification (a mixed-integer program of the \
            ReLU network, solved by HiGHS) decides the rest — a witness observation or a proof \
            that none exists — unless a question hits --time-limit. The two bounds printed \
            coincide when no state is left undecided: then the value is exact. With --bracket, \
            no solver: PGD's actions give the upper bound, interval bounds' the lower. \
            --record FILE writes the optimal adversary's episodes as a replay file (gauntlet \
            replay re-executes it, gauntlet explain draws it).
            """)

    @Option(help: "Policy file.") var policy: String
    @Option(help: "Gridworld id (default: the policy's).") var env: String?
    @Option(parsing: .unconditional, help: "Perturbation budget ε (L∞, raw units).", transform: parseEpsilon) var eps: Double
    @Option(
        name: .customLong("attack"), help: "Heuristic attacks to compare (repeatable; default fgsm, pgd, targeted, ensemble).")
    var attacks: [String] = ["fgsm", "pgd", "targeted", "ensemble"]
    @Option(help: "Episodes per attack on slippery maps (one suffices on deterministic maps).") var episodes = 100
    @Option(name: .customLong("time-limit"), help: "Seconds the solver may spend on one question (a state and an action).")
    var timeLimit = CompleteVerifier.defaultTimeLimit
    @Flag(help: "Only bracket the value (PGD and interval bounds), without complete verification.") var bracket = false
    @Option(help: "Write the optimal adversary's episodes to this replay file.") var record: String?
    @OptionGroup var format: JSONOption

    func validate() throws {
        guard eps >= 0 && eps.isFinite else { throw ValidationError("--eps must be a finite number ≥ 0, got \(eps)") }
        guard timeLimit > 0 && timeLimit <= 86_400 else {
            throw ValidationError("--time-limit must lie in (0, 86400] s, got \(timeLimit)")
        }
        guard (1...100_000).contains(episodes) else { throw ValidationError("--episodes must be positive, got \(episodes)") }
        guard !(bracket && record != nil) else {
            throw ValidationError("--record plays the optimal adversary, which needs complete verification: drop --bracket")
        }
        for spec in attacks {
            do { _ = try Toolkit.standard.makeAttack(spec) } catch {
                throw ValidationError("--attack \(spec): \(error.description)")
            }
        }
    }

    struct Heuristic: Encodable {
        var attack: String
        var meanReturn: Double
        /// Return above the optimal attack's lower bound (how much damage the heuristic leaves undone at most).
        var gapToLowerBound: Double
        var gapToUpperBound: Double
    }

    struct Output: Encodable {
        var policy: String
        var environment: String
        var epsilon: Double
        var bounds: OptimalAdversary<Double>.Bounds
        /// The optimal adversary played on the episodes (the bound it attains: the upper one).
        var optimalAdversaryReturn: Double?
        var heuristics: [Heuristic]
    }

    func run() throws {
        BLAS.setThreads(1)
        let (file, loaded) = try loadPolicy(policy)
        let environment = env ?? file.description.environment!
        guard environment.hasPrefix("grid:") else {
            throw ValidationError("optimal-attack needs a gridworld (grid:NAME), got \(environment)")
        }
        let world: GridWorld
        do { world = try Registry.gridWorld(environment) } catch { throw ValidationError(error.description) }
        let reference = loaded.converted(to: Double.self)
        let model = ThreatModel(epsilon: eps, bounds: world.observationSpace)
        let adversary: OptimalAdversary<Double>
        do {
            adversary = try OptimalAdversary(
                policy: reference, world: world, threatModel: model, horizon: world.map.stepLimit,
                verifier: bracket ? nil : CompleteVerifier(timeLimit: timeLimit))
        } catch { throw ValidationError("\(policy): \(error.description)") }
        let (bounds, plan) = adversary.solve()
        let runs = world.map.slip > 0 ? episodes : 1
        let evaluation = AttackEvaluation(policy: reference, environment: environment, episodes: runs, seed: 0)
        var heuristics: [Heuristic] = []
        var optimalReturn: Double?
        do {
            let clean = try evaluation.cleanEpisodes()
            if !bracket {
                var optimal = Attacks.OptimalAttack(timeLimit: timeLimit)
                optimal.plan = plan
                let (report, outcomes) = try evaluation.runRecorded(optimal, epsilon: eps, clean: clean, traces: record != nil)
                optimalReturn = report.attacked.meanReturn
                if let record {
                    var recorder = try ReplayRecorder(
                        base: URL(fileURLWithPath: record), runs: 1, evaluation: evaluation, policyPath: policy)
                    let url = try recorder.record(report, outcomes: outcomes)
                    FileHandle.standardError.write(Data("wrote \(url.path): the optimal adversary at ε = \(eps)\n".utf8))
                }
            }
            for spec in attacks {
                let report = try evaluation.run(try Toolkit.standard.makeAttack(spec), epsilon: eps, clean: clean)
                let value = report.attacked.meanReturn
                heuristics.append(
                    Heuristic(
                        attack: report.attack, meanReturn: value, gapToLowerBound: value - bounds.lowerBound,
                        gapToUpperBound: value - bounds.upperBound))
            }
        } catch let error as EnvironmentError {
            throw ValidationError(error.description)
        }
        if format.json {
            try printJSON(
                Output(
                    policy: policy, environment: environment, epsilon: eps, bounds: bounds, optimalAdversaryReturn: optimalReturn,
                    heuristics: heuristics))
            return
        }
        let exact = bounds.lowerBound == bounds.upperBound
        print(
            exact
                ? String(
                    format: "%@ on %@ at ε = %g: clean return %.4f; optimal attack's return %.4f (exact: %@)",
                    policy, environment, eps, bounds.cleanReturn, bounds.upperBound,
                    bounds.undecidedStates == 0
                        ? "every state decided" : "the \(bounds.undecidedStates) undecided states cannot change it")
                : String(
                    format:
                        "%@ on %@ at ε = %g: clean return %.4f; optimal attack's return in [%.4f, %.4f] (%d undecided states)",
                    policy, environment, eps, bounds.cleanReturn, bounds.lowerBound, bounds.upperBound, bounds.undecidedStates))
        if !bracket {
            print(
                "  complete verification: \(bounds.verifiedQueries) questions decided, \(bounds.undecidedQueries) undecided (time limit \(timeLimit) s each)"
            )
        }
        if let optimalReturn {
            print(String(format: "  the optimal adversary, played: %.4f", optimalReturn))
        }
        for h in heuristics {
            print(
                exact
                    ? String(format: "  %@: %.4f, optimality gap %.4f", h.attack, h.meanReturn, h.gapToUpperBound)
                    : String(format: "  %@: %.4f, gap to the optimal attack ≤ %.4f", h.attack, h.meanReturn, h.gapToLowerBound))
        }
    }
}

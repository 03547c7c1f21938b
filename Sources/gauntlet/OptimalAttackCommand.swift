import Agents
import ArgumentParser
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg

struct OptimalAttack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimal-attack",
        abstract:
            "Bound the return of a gridworld policy under the optimal observation attack, and each heuristic attack's gap to it.",
        discussion: """
            Dynamic programming on the state-adversarial MDP: in each state the adversary picks \
            the policy's action among those a perturbation can produce — bracketed by the actions \
            targeted PGD reaches (an upper bound on the optimal attack's return) and the actions \
            interval bounds cannot exclude (a lower bound). Every heuristic attack's return is at \
            least the lower bound; its optimality gap is the distance to it.
            """)

    @Option(help: "Policy file.") var policy: String
    @Option(help: "Gridworld id (default: the policy's).") var env: String?
    @Option(parsing: .unconditional, help: "Perturbation budget ε (L∞, raw units).") var eps: Double
    @Option(
        name: .customLong("attack"), help: "Heuristic attacks to compare (repeatable; default fgsm, pgd, targeted, ensemble).")
    var attacks: [String] = ["fgsm", "pgd", "targeted", "ensemble"]
    @Option(help: "Episodes per heuristic attack on slippery maps (one suffices on deterministic maps).") var episodes = 100
    @OptionGroup var format: JSONOption

    func validate() throws {
        guard eps >= 0 && eps.isFinite else { throw ValidationError("--eps must be a finite number ≥ 0, got \(eps)") }
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
        let adversary = try OptimalAdversary(policy: reference, world: world, threatModel: model, horizon: world.map.stepLimit)
        let bounds = adversary.bounds()
        let runs = world.map.slip > 0 ? episodes : 1
        let evaluation = AttackEvaluation(policy: reference, environment: environment, episodes: runs, seed: 0)
        var heuristics: [Heuristic] = []
        do {
            let clean = try evaluation.cleanEpisodes()
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
            try printJSON(Output(policy: policy, environment: environment, epsilon: eps, bounds: bounds, heuristics: heuristics))
            return
        }
        print(
            String(
                format: "%@ on %@ at ε = %g: clean return %.4f; optimal attack's return in [%.4f, %.4f] (%d undecided states)",
                policy, environment, eps, bounds.cleanReturn, bounds.lowerBound, bounds.upperBound, bounds.undecidedStates))
        for h in heuristics {
            print(String(format: "  %@: %.4f, gap to the optimal attack ≤ %.4f", h.attack, h.meanReturn, h.gapToLowerBound))
        }
    }
}

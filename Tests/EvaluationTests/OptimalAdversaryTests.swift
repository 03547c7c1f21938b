import Agents
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import TestSupport
import Testing

/// The dynamic-programming bounds on the optimal attack, on the shipped gridworld policies.
@Suite struct OptimalAdversaryTests {
    static let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()

    @Test(arguments: ["lava-corridor-dqn", "four-rooms-dqn"])
    func boundsBracketTheOptimalAttackAndEveryHeuristicIsAboveTheLowerBound(_ name: String) throws {
        let policy = try Policy.load(contentsOf: Self.root.appendingPathComponent("policies/\(name).safetensors")).converted(
            to: Double.self)
        let id = name.hasPrefix("lava") ? "grid:lava-corridor:onehot" : "grid:four-rooms:onehot"
        let world = try Registry.gridWorld(id)
        for epsilon in [0.0, 0.1, 0.3] {
            let model = ThreatModel(epsilon: epsilon, bounds: world.observationSpace)
            let bounds = try OptimalAdversary(policy: policy, world: world, threatModel: model, horizon: world.map.stepLimit)
                .bounds()
            #expect(bounds.lowerBound <= bounds.upperBound + 1e-12 && bounds.upperBound <= bounds.cleanReturn + 1e-12)
            if epsilon == 0 {
                #expect(
                    bounds.lowerBound == bounds.cleanReturn && bounds.upperBound == bounds.cleanReturn
                        && bounds.undecidedStates == 0)
            }
            let evaluation = AttackEvaluation(policy: policy, environment: id, episodes: 1, seed: 0)
            let clean = try evaluation.cleanEpisodes()
            #expect(abs(clean[0].episodeReturn - bounds.cleanReturn) < 1e-9)
            for spec in ["fgsm", "pgd", "targeted", "ensemble", "uniform"] {
                let report = try evaluation.run(try AttackRegistry.standard.make(spec), epsilon: epsilon, clean: clean)
                #expect(
                    report.attacked.meanReturn >= bounds.lowerBound - 1e-9,
                    "\(name) ε=\(epsilon) \(spec): \(report.attacked.meanReturn) < \(bounds.lowerBound)")
            }
        }
    }

    /// Every action PGD reaches is one interval bounds allow, and the clean action is always
    /// reachable.
    @Test func reachedActionsArePossibleActions() throws {
        let policy = try Policy.load(contentsOf: Self.root.appendingPathComponent("policies/four-rooms-dqn.safetensors"))
            .converted(to: Double.self)
        let world = try Registry.gridWorld("grid:four-rooms:onehot")
        let adversary = try OptimalAdversary(
            policy: policy, world: world, threatModel: ThreatModel(epsilon: 0.2, bounds: world.observationSpace), horizon: 100)
        for s in stride(from: 0, to: world.model.stateCount, by: 7) where !world.model.isTerminal[s] {
            let sets = adversary.actionSets(s)
            #expect(sets.reached.isSubset(of: sets.possible) && !sets.reached.isEmpty)
        }
    }
}

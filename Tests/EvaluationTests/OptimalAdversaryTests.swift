import Agents
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet
import Synchronization
import TestSupport
import Testing
import Verification

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

/// Complete verification inside the optimal adversary, on a random ReLU policy of a gridworld's
/// coordinates (small enough that every question is decided).
@Suite struct ExactOptimalAdversaryTests {
    static var world: GridWorld { try! Registry.gridWorld("grid:lava-corridor") }
    static let policy = Policy<Double>(
        network: try! Sequential<Double>.mlp(sizes: [2, 16, 16, 4], activation: .relu, random: RandomStream(seed: 13)),
        kind: .greedyQ, actionSpace: .discrete(4))
    static let model = ThreatModel(epsilon: 0.1, bounds: world.observationSpace)

    static func adversary(_ verifier: CompleteVerifier?) throws -> OptimalAdversary<Double> {
        try OptimalAdversary(policy: policy, world: world, threatModel: model, horizon: world.map.stepLimit, verifier: verifier)
    }

    /// PGD's actions ⊆ the exact set ⊆ the interval-bound set in every state; every witness is
    /// inside the threat model and forces its action; the exact value lies in the old bracket.
    @Test func exactSetsLieBetweenTheBracketSetsAndTheValueInsideTheBracket() throws {
        let bracket = try Self.adversary(nil)
        let exact = try Self.adversary(CompleteVerifier(timeLimit: 30))
        var grown = 0
        var shrunk = 0
        let world = Self.world
        for s in 0..<world.model.stateCount where !world.model.isTerminal[s] {
            let (old, new) = (bracket.actionSets(s), exact.actionSets(s))
            #expect(old.reached.isSubset(of: new.reached) && new.possible.isSubset(of: old.possible))
            #expect(new.reached == new.possible && new.undecided == 0, "state \(s) left undecided")
            grown += new.reached.count - old.reached.count
            shrunk += old.possible.count - new.possible.count
            world.setTabularState(s)
            let clean = Matrix(row: world.observation.map { Double($0) })
            for (action, witness) in new.witnesses {
                let observation = Matrix(row: witness)
                #expect(argmax(Self.policy.outputs(observation).row(0)) == action)
                #expect(Self.model.distance(observation, from: clean)[0] <= 0.1 + 1e-12)
            }
        }
        #expect(grown + shrunk > 0, "complete verification decided nothing the bracket had not")
        let (old, new) = (bracket.bounds(), exact.bounds())
        #expect(new.lowerBound == new.upperBound && new.undecidedStates == 0)
        #expect(old.lowerBound <= new.lowerBound + 1e-12 && new.upperBound <= old.upperBound + 1e-12)
    }

    /// The `optimal` attack, played on the map (deterministic), attains the exact value, and a
    /// recording of it re-executes bit for bit.
    @Test func theOptimalAttackAttainsTheExactValueAndReplays() throws {
        let bounds = try Self.adversary(CompleteVerifier(timeLimit: 30)).bounds()
        let evaluation = AttackEvaluation(policy: Self.policy, environment: "grid:lava-corridor", episodes: 1, seed: 0)
        let clean = try evaluation.cleanEpisodes()
        let attack = try AttackRegistry.standard.make("optimal:time_limit=30")
        let (report, outcomes) = try evaluation.runRecorded(attack, epsilon: 0.1, clean: clean, traces: true)
        #expect(abs(report.attacked.meanReturn - bounds.upperBound) < 1e-9)
        #expect(report.preparation?.choice.contains("exact optimal-attack return") == true)
        let header = Replay.Header(
            policy: "random", policyHash: "", environment: "grid:lava-corridor", attack: report.attack,
            threatModel: report.threatModel, seed: 0, episodes: 1, selection: .mode, copies: EpisodeRunner<Double>.defaultCopies,
            precision: .f64, gauntletVersion: Agents.Gauntlet.version)
        var replay = Replay(header: header, outcomes: outcomes)
        #expect(try replay.reexecute(policy: Self.policy).firstDifference(from: replay) == nil)
        // A recording keeps the plan and a re-execution plays it instead of solving again: with
        // the kept plan replaced by one that shows a made-up observation in the first state, the
        // re-executed episode perceives exactly that observation there.
        let saved = try #require(report.savedPreparation)
        let restored = try #require(try attack.restoringPreparation(saved) as? OptimalAttack)
        #expect(restored.savedPreparation == saved && (restored.plan?.states.count ?? 0) > 0, "the plan survives its text")
        let first = outcomes[0].trace[0].observation
        let shown = first.map { Double($0) + 0.05 }
        var madeUp = OptimalAttack(timeLimit: 30)
        madeUp.plan = OptimalAttack.Plan(
            states: [first: 0], witnesses: [[0: shown]], choices: Array(repeating: [0], count: 1001), horizon: 1000,
            aliased: false)
        replay.header.attackPreparation = madeUp.savedPreparation
        let rerun = try replay.reexecute(policy: Self.policy)
        #expect(rerun.outcomes[0].trace[0].perceived == shown.map { Float($0) }, "the kept plan was not played")
        let json = String(decoding: try JSONEncoder.gauntlet().encode(report), as: UTF8.self)
        #expect(!json.contains("saved_preparation") && !json.contains("choices"), "the JSON report stays small")
    }

    /// A solver that runs out of time decides nothing: the bracket stays as wide as without it.
    @Test func timeOutsWidenNothingAway() throws {
        let bracket = try Self.adversary(nil).bounds()
        let starved = try Self.adversary(CompleteVerifier(timeLimit: 1e-9)).bounds()
        #expect(starved.undecidedQueries > 0 && starved.verifiedQueries == 0)
        #expect(starved.lowerBound == bracket.lowerBound && starved.upperBound == bracket.upperBound)
    }

    /// Complete verification refuses L2 threat models and policies that carry defenses.
    @Test func refusesWhatItCannotDecide() throws {
        let l2 = ThreatModel(norm: .l2, epsilon: 0.1, bounds: Self.world.observationSpace)
        #expect(throws: PolicyFileError.self) {
            _ = try OptimalAdversary(
                policy: Self.policy, world: Self.world, threatModel: l2, horizon: 10, verifier: CompleteVerifier())
        }
    }
}

/// An attack that records the steps the runner tells it, and perturbs nothing.
private final class StepLog: Sendable { let steps = Mutex<[Int]>([]) }

private struct StepRecorder: Attack {
    let seen = StepLog()
    var spec: String { "step-recorder" }
    func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream)
        -> AttackResult<S>
    { AttackResult(perturbed: observations, queries: 0) }
    func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, cleanOutputs: Matrix<S>?, steps: [Int]?, policy: Policy<S>, threatModel: ThreatModel,
        random: RandomStream
    ) -> AttackResult<S> {
        seen.steps.withLock { $0 += steps ?? [-1] }
        return AttackResult(perturbed: observations, queries: 0)
    }
}

@Suite struct AttackStepTests {
    /// The runner tells an attack each row's step in its episode: 0, 1, 2, … to the episode's end.
    @Test func theRunnerPassesEachRowsStep() throws {
        let recorder = StepRecorder()
        let policy = ExactOptimalAdversaryTests.policy
        let runner = EpisodeRunner(
            policy: policy, environment: "grid:lava-corridor", copies: 1, attack: recorder,
            threatModel: ExactOptimalAdversaryTests.model)
        let outcome = try runner.run(episodes: 1, seed: 0)[0]
        #expect(recorder.seen.steps.withLock { $0 } == Array(0..<outcome.length))
    }

    /// The optimal attack plays the choice for the steps left: the same state shows a different
    /// witness when the plan chooses differently at another step.
    @Test func theOptimalAttackFollowsThePlanStepByStep() {
        var attack = OptimalAttack()
        attack.plan = OptimalAttack.Plan(
            states: [[0.5, 0.5]: 0], witnesses: [[0: [0.4, 0.5], 1: [0.6, 0.5]]], choices: [[], [1], [0]], horizon: 2,
            aliased: false)
        let clean = Matrix<Double>(rows: 2, columns: 2, storage: [0.5, 0.5, 0.5, 0.5])
        let model = ThreatModel(epsilon: 0.1, bounds: BoxSpace(low: [0, 0], high: [1, 1]))
        let result = attack.perturb(
            clean, cleanOutputs: nil, steps: [0, 1], policy: ExactOptimalAdversaryTests.policy, threatModel: model,
            random: RandomStream(seed: 0))
        #expect(result.perturbed.row(0) == [0.4, 0.5] && result.perturbed.row(1) == [0.6, 0.5])
    }
}

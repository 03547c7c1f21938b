import Agents
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import TestSupport
import Testing

@Suite(.serialized) struct PAADTests {
    static let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
    static let victimPath = root.appendingPathComponent("policies/invertedpendulum-ppo.safetensors").path

    /// The actor's objective `cos(z − z₀, d) + ‖z − z₀‖` and its gradient agree with central
    /// differences away from z = z₀; at z = z₀ it is 0 and points along d/‖d‖.
    @Test func policyDirectionGradientMatchesFiniteDifferences() {
        let random = RandomStream(seed: 3)
        for _ in 0..<20 {
            let n = 1 + Int(random.uniform(0, 5))
            let clean = (0..<n).map { _ in random.uniform(-1, 1) }
            let direction = (0..<n).map { _ in random.uniform(-1, 1) }
            let z = Matrix<Double>(row: (0..<n).map { clean[$0] + random.uniform(-0.5, 0.5) })
            let objective = Objective.policyDirection(clean: [clean], directions: [direction])
            let (values, gradient) = objective.evaluate(z)
            let u = (0..<n).map { z[0, $0] - clean[$0] }
            let norm = u.map { $0 * $0 }.reduce(0, +).squareRoot()
            let dNorm = direction.map { $0 * $0 }.reduce(0, +).squareRoot()
            let inner = zip(u, direction).map { $0 * $1 }.reduce(0, +)
            #expect(abs(values[0] - (inner / (norm * dNorm) + norm)) < 1e-12)
            for j in 0..<n {
                var plus = z
                var minus = z
                plus[0, j] += 1e-6
                minus[0, j] -= 1e-6
                let numeric = (objective.evaluate(plus).values[0] - objective.evaluate(minus).values[0]) / 2e-6
                #expect(abs(numeric - gradient[0, j]) < 1e-6 * max(1, abs(numeric)), "dimension \(j) of \(n)")
            }
        }
        let atClean = Objective.policyDirection(clean: [[0.5, -1]], directions: [[3, 4]]).evaluate(Matrix(row: [0.5, -1.0]))
        #expect(atClean.values == [0] && atClean.gradient.row(0) == [0.6, 0.8])
    }

    /// For any continuous policy, ε and direction, the actor's observation lies in the ball and
    /// the bounds, and the victim's action moves along the direction (positive cosine on every
    /// row; a random δ averages zero).
    @Test func actorMovesTheActionAlongTheDirection() {
        let random = RandomStream(seed: 8)
        var cosines: [Double] = []
        for (trial, kind) in [PolicyKind.gaussian, .deterministic, .gaussian, .deterministic].enumerated() {
            let policy = randomPolicy(kind: kind, inputs: 5, outputs: 3, seed: UInt64(trial))
            let observations = randomMatrix(rows: 16, columns: 5, random: random, scale: 0.5).map { min(max($0, -1.4), 1.4) }
            let directions = Matrix<Double>(rows: 16, columns: 3, storage: (0..<48).map { _ in random.uniform(-1, 1) })
            let epsilon = [0.01, 0.05, 0.1, 0.3][trial]
            let model = ThreatModel(epsilon: epsilon, bounds: BoxSpace(symmetric: [Float](repeating: 1.5, count: 5)))
            let result = PAAD.Actor().perturb(observations, directions: directions, policy: policy, threatModel: model)
            #expect(model.distance(result.perturbed, from: observations).allSatisfy { $0 <= epsilon * (1 + 1e-9) + 1e-12 })
            #expect(result.perturbed.storage.allSatisfy { abs($0) <= 1.5 })
            let before = policy.outputs(observations)
            let after = policy.outputs(result.perturbed)
            for r in 0..<16 {
                let change: [Double] = (0..<3).map { after[r, $0] - before[r, $0] }
                let cosine = Self.cosine(change, directions.row(r))
                #expect(cosine > 0, "\(kind) ε \(epsilon) row \(r): cos \(cosine)")
                cosines.append(cosine)
            }
        }
        #expect(cosines.reduce(0, +) / Double(cosines.count) > 0.5)
    }

    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        let inner: Double = zip(a, b).map { $0 * $1 }.reduce(0, +)
        let norms: Double = a.map { $0 * $0 }.reduce(0, +).squareRoot() * b.map { $0 * $0 }.reduce(0, +).squareRoot()
        return inner / norms
    }

    /// `adversary train --kind paad` in library form: a director over InvertedPendulum's one
    /// action direction, in normalized units; the `paad` attack runs it, reports its training
    /// steps as its preparation and its training return as its expected effect, and each learned
    /// attack refuses the other's file by name.
    @Test func trainedDirectorIsAnAttack() throws {
        let victim = try Policy.load(contentsOf: URL(fileURLWithPath: Self.victimPath))
        let config = try LearnedAdversary.trainingConfig(
            victim: Self.victimPath, environment: "InvertedPendulum-v5", epsilon: 0.1, units: .normalized, steps: 1024,
            seed: 1, kind: .paad)
        #expect(config.environment.hasSuffix(",kind=paad"))
        let environment = try #require(try Toolkit.standard.environments.make(config.environment).base as? AdversaryEnvironment)
        #expect(environment.kind == .paad && environment.actionSpace.dimension == 1)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-paad-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let summary = try #require(
            try TrainingRun<Float>(config: config, directory: directory, seed: 1, components: Toolkit.standard.training).run())
        let attack = try AttackRegistry.standard.make("paad:adversary=\(summary.policy)")
        #expect(attack.spec == "paad:adversary=\(summary.policy),alpha_ratio=1.0,steps=1")
        #expect(attack.preparation?.environmentSteps == 1024)
        // No training episode ends in 1024 steps (the victim balances for 1000): nothing to expect.
        #expect(!summary.meanReturnLast100.isFinite && attack.expectedEffect == nil)
        try attack.validate(for: victim)
        let evaluation = AttackEvaluation(
            policy: victim, environment: "InvertedPendulum-v5", episodes: 2, seed: 0, units: .normalized)
        let result = try evaluation.run(attack, epsilon: 0.1, clean: try evaluation.cleanEpisodes())
        #expect(result.attacked.returns.count == 2 && result.preparation?.environmentSteps == 1024)

        #expect { try AttackRegistry.standard.make("learned:adversary=\(summary.policy)") } throws: {
            "\($0)".contains("was trained for the 'paad' attack (use --attack paad:adversary=")
        }
        let cartPole = Self.root.appendingPathComponent("policies/cartpole-ppo.safetensors").path
        #expect {
            try Toolkit.standard.environments.make("adversary:env=CartPole-v1,victim=\(cartPole),eps=0.1,kind=paad")
        } throws: {
            "\($0)".contains("CartPole-v1's actions are discrete")
        }
        #expect {
            try Toolkit.standard.environments.make("adversary:env=CartPole-v1,victim=\(cartPole),eps=0.1,kind=sa")
        } throws: {
            "\($0)".contains("kind must be learned or paad, got 'sa'")
        }
        #expect { try AttackRegistry.standard.make("paad:adversary=\(cartPole)") } throws: {
            "\($0)".contains("not an adversary")
        }
    }
}

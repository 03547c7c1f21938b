import Agents
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

private let unbounded4 = BoxSpace(symmetric: Array(repeating: .infinity, count: 4))

@Suite struct AttackBehaviourTests {
    /// A linear two-action Q-policy `Q(s) = W s + b`: the target t is reachable in the L∞ ball
    /// exactly when `(w_t − w_o)·s + (b_t − b_o) + ε‖w_t − w_o‖₁ > 0` (the best corner); the
    /// targeted attack reaches it exactly then.
    @Test func targetedAttackSucceedsExactlyWhenTheTargetIsReachable() throws {
        let random = RandomStream(seed: 21)
        var reachable = 0
        var unreachable = 0
        for trial in 0..<40 {
            let weights = randomMatrix(rows: 2, columns: 4, random: random)
            let bias = [random.normal(), random.normal()]
            var network = try Sequential<Double>(modules: [.linear(inputs: 4, outputs: 2)], random: random)
            network.setLayer(0, weight: weights, bias: bias)
            let policy = Policy(network: network, kind: .greedyQ, actionSpace: .discrete(2))
            let s = randomMatrix(rows: 1, columns: 4, random: random)
            let q = policy.outputs(s)
            let clean = argmax(q.row(0))
            let target = 1 - clean
            let epsilon = random.uniform(0.05, 1.5)
            let w = (0..<4).map { weights[target, $0] - weights[clean, $0] }
            let best =
                zip(w, s.row(0)).reduce(0) { $0 + $1.0 * $1.1 } + bias[target] - bias[clean] + epsilon * w.map(abs).reduce(0, +)
            guard abs(best) > 1e-6 else { continue }
            let model = ThreatModel(epsilon: epsilon, bounds: unbounded4)
            let attack = TargetedAttack(target: .action(target), steps: 60, alphaRatio: 0.1)
            let perturbed = attack.perturb(s, policy: policy, threatModel: model, random: random).perturbed
            let reached = argmax(policy.outputs(perturbed).row(0)) == target
            #expect(reached == (best > 0), "trial \(trial): margin at the best corner \(best), reached \(reached)")
            if best > 0 { reachable += 1 } else { unreachable += 1 }
        }
        #expect(reachable > 5 && unreachable > 5)
    }

    /// With a large budget the NES and SPSA estimates point along the true gradient, and each
    /// costs exactly 2 · samples queries.
    @Test func blackBoxEstimatesAgreeWithTheTrueGradient() throws {
        let policy = randomPolicy(kind: .categorical, inputs: 4, outputs: 3, seed: 31)
        let x = randomMatrix(rows: 3, columns: 4, random: RandomStream(seed: 32))
        let objective = Objective.untargeted(policy, clean: policy.outputs(x))
        let (_, truth) = objective.valueAndInputGradient(policy, at: x)
        for estimator in [GradientEstimationAttack.Estimator.nes, .spsa] {
            let attack = GradientEstimationAttack(estimator: estimator, samples: 4000, smoothing: 0.01)
            let (estimate, queries) = attack.estimateGradient(
                objective, policy: policy, at: x, scale: [1, 1, 1, 1], radius: 0.1,
                random: RandomStream(seed: 33))
            #expect(queries == 8000)
            for r in 0..<3 {
                let a = estimate.row(r)
                let b = truth.row(r)
                let cosine =
                    zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
                    / (a.reduce(0) { $0 + $1 * $1 }.squareRoot() * b.reduce(0) { $0 + $1 * $1 }.squareRoot())
                #expect(cosine > 0.9, "\(estimator) row \(r): cosine \(cosine)")
            }
        }
        let result = GradientEstimationAttack(estimator: .spsa, samples: 7, steps: 3)
            .perturb(x, policy: policy, threatModel: ThreatModel(epsilon: 0.1, bounds: unbounded4), random: RandomStream(seed: 1))
        #expect(result.queries == 1 + 3 * 14)
    }

    /// The MAD objective's gradient (KL to the clean distribution) matches finite differences,
    /// for categorical and Gaussian policies.
    @Test func divergenceObjectiveGradient() throws {
        for kind in [PolicyKind.categorical, .gaussian] {
            let policy = randomPolicy(kind: kind, inputs: 4, outputs: 2, seed: 41)
            let clean = randomMatrix(rows: 1, columns: 4, random: RandomStream(seed: 42))
            let objective = Objective.divergence(policy, clean: policy.outputs(clean))
            let x = clean.map { $0 + 0.1 }
            let (_, gradient) = objective.valueAndInputGradient(policy, at: x)
            let numeric = numericalGradient(of: { objective.evaluate(policy.outputs(Matrix(row: $0))).values[0] }, at: x.storage)
            #expect(maximumRelativeError(gradient.storage, numeric) < 1e-7, "\(kind)")
            #expect(objective.evaluate(policy.outputs(clean)).values[0].magnitude < 1e-15)
            // The value against the definition, computed here from the outputs.
            let mu = policy.outputs(clean).row(0)
            let muPrime = policy.outputs(x).row(0)
            let expected: Double
            if kind == .categorical {
                func probabilities(_ z: [Double]) -> [Double] {
                    let e = z.map { Double.exp($0) }
                    return e.map { $0 / e.reduce(0, +) }
                }
                let (p, q) = (probabilities(mu), probabilities(muPrime))
                expected = zip(p, q).reduce(0) { $0 + $1.0 * Double.log($1.0 / $1.1) }
            } else {
                expected = (0..<2).reduce(0) { $0 + pow(mu[$1] - muPrime[$1], 2) / (2 * Double.exp(2 * policy.logStd[$1])) }
            }
            #expect(abs(objective.evaluate(policy.outputs(x)).values[0] - expected) < 1e-12, "\(kind)")
        }
    }

    @Test func transferAttacksUseOnlyTheSurrogate() throws {
        let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
        let attack = try AttackRegistry.standard.make(
            "transfer:surrogate=\(root.appendingPathComponent("policies/cartpole-ppo.safetensors").path)")
        let victim = try Policy.load(contentsOf: root.appendingPathComponent("policies/cartpole-dqn.safetensors"))
        let evaluation = AttackEvaluation(policy: victim, environment: "CartPole-v1", episodes: 3, seed: 0)
        let report = try evaluation.run(attack, epsilon: 0.2, clean: try evaluation.cleanEpisodes())
        #expect(report.queries == 0 && report.attacked.meanReturn < report.clean.meanReturn)
        #expect { try AttackRegistry.standard.make("transfer:surrogate=/nowhere.safetensors") } throws: {
            ($0 as! AttackError).description.contains("cannot read")
        }
    }

    /// A budget caps the attacked steps per episode; a timing threshold attacks only where the
    /// policy's preference exceeds it.
    @Test func schedulesLimitWhichStepsAreAttacked() throws {
        let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
        let policy = try Policy.load(contentsOf: root.appendingPathComponent("policies/cartpole-ppo.safetensors"))
        for (budget, threshold) in [(7, nil), (nil, 0.9), (5, 0.5)] as [(Int?, Double?)] {
            let schedule = AttackSchedule(budget: budget, threshold: threshold)
            let model = ThreatModel(
                epsilon: 0.05, bounds: try Registry.make("CartPole-v1").base.observationSpace, schedule: schedule)
            let outcomes = try EpisodeRunner(
                policy: policy, environment: "CartPole-v1", attack: PGD(steps: 3), threatModel: model
            )
            .run(episodes: 3, seed: 0)
            for outcome in outcomes {
                if let budget { #expect(outcome.attackedSteps <= budget) }
                #expect(outcome.attackedSteps > 0 && outcome.attackedSteps < outcome.length, "\(schedule)")
            }
        }
        // A threshold no preference exceeds attacks nothing, and the flip rate over zero
        // attacked steps is unknown: its interval is the whole of [0, 1].
        var never = AttackEvaluation(policy: policy, environment: "CartPole-v1", episodes: 2, seed: 0)
        never.schedule = AttackSchedule(budget: nil, threshold: 1)
        let report = try never.run(PGD(steps: 3), epsilon: 0.05, clean: try never.cleanEpisodes())
        #expect(report.attackedSteps == 0 && report.queries == 0 && report.actionFlipRate.ci95 == [0, 1])
        let outputs: [Float] = [3, 0]
        let p = 1 / (1 + Double.exp(-3))
        #expect(abs(AttackSchedule.preference(outputs) - (p - (1 - p))) < 1e-12)
    }

    /// FGSM's default objective for a continuous policy has zero gradient at the clean point, so
    /// its default (`random_start=auto`) steps from a random point of the ball there: the shipped
    /// Pendulum TD3 loses reward; forced to start at the clean point it changes nothing; a
    /// discrete policy keeps starting at the clean point.
    @Test func fgsmDefaultStartsAtRandomForContinuousPolicies() throws {
        let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
        let policy = try Policy.load(contentsOf: root.appendingPathComponent("policies/pendulum-td3.safetensors"))
        let evaluation = AttackEvaluation(policy: policy, environment: "Pendulum-v1", episodes: 3, seed: 0)
        let clean = try evaluation.cleanEpisodes()
        let automatic = try evaluation.run(try AttackRegistry.standard.make("fgsm"), epsilon: 0.3, clean: clean)
        let fromClean = try evaluation.run(try AttackRegistry.standard.make("fgsm:random_start=0"), epsilon: 0.3, clean: clean)
        #expect(automatic.attack == "fgsm:random_start=auto")
        #expect(fromClean.attacked.returns == fromClean.clean.returns)
        #expect(automatic.attacked.meanReturn < automatic.clean.meanReturn - 50, "\(automatic.attacked.meanReturn)")
        let discrete = try Policy.load(contentsOf: root.appendingPathComponent("policies/cartpole-dqn.safetensors"))
        let x = Matrix<Float>([[0.01, 0.2, -0.03, 0.1]])
        let model = ThreatModel(epsilon: 0.05, bounds: try Registry.make("CartPole-v1").base.observationSpace)
        #expect(
            FGSM().perturb(x, policy: discrete, threatModel: model, random: RandomStream(seed: 1)).perturbed
                == FGSM(randomStart: false).perturb(x, policy: discrete, threatModel: model, random: RandomStream(seed: 2))
                .perturbed)
    }

    @Test func targetOutsideTheActionsIsRejected() throws {
        let attack = try AttackRegistry.standard.make("targeted:target=5")
        #expect(throws: AttackError.self) {
            try attack.validate(for: randomPolicy(kind: .greedyQ, inputs: 2, outputs: 2, seed: 1))
        }
        #expect(throws: AttackError.self) {
            try attack.validate(for: randomPolicy(kind: .gaussian, inputs: 2, outputs: 1, seed: 1))
        }
        #expect(throws: Never.self) {
            try AttackRegistry.standard.make("targeted:target=1").validate(
                for: randomPolicy(kind: .greedyQ, inputs: 2, outputs: 2, seed: 1))
        }
    }
}

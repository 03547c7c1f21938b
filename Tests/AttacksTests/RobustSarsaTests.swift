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

@Suite struct RobustSarsaTests {
    let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()

    /// The Huber TD loss plus the interval-bound penalty, against finite differences of the
    /// loss in every parameter (terminal transitions, so the target does not move with them).
    @Test func lossGradientMatchesFiniteDifferences() throws {
        let random = RandomStream(seed: 3)
        let network = try Sequential<Double>.mlp(sizes: [5, 6, 4, 1], activation: .tanh, random: random)
        let inputs = randomMatrix(rows: 7, columns: 5, random: random)
        let nextInputs = randomMatrix(rows: 7, columns: 5, random: random)
        let rewards = (0..<7).map { _ in 3 * random.normal() }  // some TD errors beyond Huber's kink
        for (radius, regularizer) in [(0.0, 0.0), (0.3, 1.0), (0.05, 10.0)] {
            func loss(_ parameters: [Double]) -> Double {
                var changed = network
                changed.parameters = parameters
                return RobustSarsa.lossAndGradient(
                    changed, inputs: inputs, nextInputs: nextInputs, rewards: rewards, continues: Array(repeating: 0, count: 7),
                    gamma: 0.9, actionColumns: 3..<5, radius: radius, regularizer: regularizer
                ).loss
            }
            let analytic = RobustSarsa.lossAndGradient(
                network, inputs: inputs, nextInputs: nextInputs, rewards: rewards, continues: Array(repeating: 0, count: 7),
                gamma: 0.9, actionColumns: 3..<5, radius: radius, regularizer: regularizer
            ).gradient
            let numeric = numericalGradient(of: loss, at: network.parameters)
            #expect(maximumRelativeError(analytic, numeric) < 1e-6, "radius \(radius), reg \(regularizer)")
        }
        // The penalty is the squared gap between the bounds and Q, so it is positive when the
        // ball has width and zero without one.
        let plain = RobustSarsa.lossAndGradient(
            network, inputs: inputs, nextInputs: nextInputs, rewards: rewards, continues: Array(repeating: 0, count: 7),
            gamma: 0.9, actionColumns: 3..<5, radius: 0, regularizer: 1
        ).loss
        let penalised = RobustSarsa.lossAndGradient(
            network, inputs: inputs, nextInputs: nextInputs, rewards: rewards, continues: Array(repeating: 0, count: 7),
            gamma: 0.9, actionColumns: 3..<5, radius: 0.3, regularizer: 1
        ).loss
        #expect(penalised > plain)
    }

    /// The shipped InvertedPendulum policy never falls: reward 1 every step, so Q = 1/(1 − γ) = 2
    /// at γ = 0.5 in reward units (rounds end inside the first episode and are bootstrapped
    /// through) — that is Q·σ, σ being the deviation of the first round's discounted returns,
    /// computed here from the round's length alone.
    @Test func valueFunctionLearnsTheDiscountedReturnOfAConstantReward() throws {
        let policy = try Policy.load(contentsOf: root.appendingPathComponent("policies/invertedpendulum-ppo.safetensors"))
            .converted(to: Double.self)
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("rs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cache) }
        let n = 256
        let learning = RobustSarsa.ValueLearning(
            actionEpsilon: 0.1, regularizer: 0.1, iterations: 3, rolloutSteps: n, learningRate: 3e-3, gamma: 0.5)
        let value = try RobustSarsa.valueFunction(of: policy, in: "InvertedPendulum-v5", learning: learning, cache: cache)
        let sigma = Statistics.standardDeviation((0..<n).map { t in (1 - pow(0.5, Double(n - t))) / (1 - 0.5) })
        let env = try Registry.make("InvertedPendulum-v5")
        var observation = env.reset(seed: 7)
        var estimates: [Double] = []
        for _ in 0..<100 {
            let x = Matrix<Double>(row: observation.map(Double.init))
            let outputs = policy.outputs(x)
            let input = Matrix<Double>(row: policy.scaled(x).row(0) + outputs.row(0))
            estimates.append(value(input)[0, 0] * sigma)
            observation = env.step(policy.actions(fromOutputs: outputs)[0]).observation
        }
        let mean = Statistics.mean(estimates)
        #expect(abs(mean - 2) < 0.1, "Q·σ = \(mean), expected 2")
        // Cached: a second call loads the same network instead of learning again.
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path).count == 1)
        #expect(try RobustSarsa.valueFunction(of: policy, in: "InvertedPendulum-v5", learning: learning, cache: cache) == value)
    }

    /// On a fixed value function, the attack lowers Q(s, π(s + δ)) below its clean value for
    /// every row, and the MAD mix moves the action further than pure RS does.
    @Test func attackLowersTheLearnedValue() throws {
        let policy = randomPolicy(kind: .gaussian, inputs: 4, outputs: 2, seed: 8)
        let value = try Sequential<Double>.mlp(sizes: [6, 16, 1], activation: .tanh, random: RandomStream(seed: 9))
        let observations = randomMatrix(rows: 20, columns: 4, random: RandomStream(seed: 10))
        let model = ThreatModel(epsilon: 0.3, bounds: BoxSpace(symmetric: Array(repeating: .infinity, count: 4)))
        func q(_ x: Matrix<Double>, _ z: Matrix<Double>) -> [Double] {
            (0..<x.rows).map { r in value(Matrix(row: x.row(r) + z.row(r)))[0, 0] }
        }
        let learning = RobustSarsa.ValueLearning(actionEpsilon: 0.1, regularizer: 1)
        let rs = RobustSarsa(ascent: RandomStartAscent(steps: 20)).using(value: value, learning: learning, madRatio: 0)
        let perturbed = rs.perturb(observations, policy: policy, threatModel: model, random: RandomStream(seed: 1)).perturbed
        let clean = q(observations, policy.outputs(observations))
        let attacked = q(observations, policy.outputs(perturbed))
        #expect(zip(attacked, clean).allSatisfy { $0 < $1 }, "\(attacked) vs \(clean)")
        // With all weight on MAD's divergence, RS+MAD is MAD: the same perturbations.
        let madOnly = RobustSarsa(madRatios: [1], ascent: RandomStartAscent(steps: 20)).using(
            value: value, learning: learning, madRatio: 1)
        #expect(
            madOnly.perturb(observations, policy: policy, threatModel: model, random: RandomStream(seed: 1)).perturbed
                == MAD(steps: 20).perturb(observations, policy: policy, threatModel: model, random: RandomStream(seed: 1))
                .perturbed)
    }

    /// From a spec, through an attack evaluation: value functions learned for a two-point grid
    /// (then served by the cache), the calibration run for each, the result deterministic;
    /// discrete policies refused.
    @Test func gridIsCalibratedAndTheEvaluationIsDeterministic() throws {
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("rs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cache) }
        let policy = try Policy.load(contentsOf: root.appendingPathComponent("policies/pendulum-td3.safetensors"))
        var evaluation = AttackEvaluation(policy: policy, environment: "Pendulum-v1", episodes: 2, seed: 0)
        let notes = Mutex<[String]>([])
        evaluation.preparation = { note in notes.withLock { $0.append(note) } }
        var attack =
            try AttackRegistry.standard.make(
                "rs:sarsa_iterations=3,sarsa_rollout=256,sarsa_epochs=1,sarsa_eps=0.05|0.2,reg=1,calibration=1,steps=2")
            as! RobustSarsa
        attack.cacheDirectory = cache
        let clean = try evaluation.cleanEpisodes()
        let first = try evaluation.run(attack, epsilon: 0.2, clean: clean)
        let second = try evaluation.run(attack, epsilon: 0.2, clean: clean)
        #expect(first.attacked.returns == second.attacked.returns)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path).count == 2)
        #expect(notes.withLock { $0 }.filter { $0.hasPrefix("calibration sarsa_eps=") }.count == 4)
        #expect(first.attack == attack.spec && first.attack.hasPrefix("rs:"))
        // Budget: two value functions of 3 rounds of 256 steps, one 200-step calibration episode each.
        #expect(first.preparation?.environmentSteps == 2 * 3 * 256 + 2 * 200)
        #expect(first.preparation?.choice.contains("calibration mean returns: sarsa_eps=0.05,reg=1.0") == true)
        let discrete = try Policy.load(contentsOf: root.appendingPathComponent("policies/cartpole-ppo.safetensors"))
        #expect(throws: AttackError.self) { try attack.validate(for: discrete) }
    }
}

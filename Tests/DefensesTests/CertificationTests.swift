import Agents
import Attacks
import Defenses
import Environments
import Evaluation
import Linalg
import NeuralNet
import TestSupport
import Testing
import Verification

/// A random 4-input network as a policy of `kind` on CartPole's or Pendulum's spaces.
private func randomPolicy(seed: UInt64, kind: PolicyKind, hidden: [Int] = [16, 16]) throws -> Policy<Double> {
    let outputs = kind == .greedyQ || kind == .categorical ? 2 : 1
    let inputs = outputs == 2 ? 4 : 3
    let network = try Sequential<Double>.mlp(
        sizes: [inputs] + hidden + [outputs], activation: .relu, random: RandomStream(seed: seed))
    let space: ActionSpace = outputs == 2 ? .discrete(2) : .box(BoxSpace(low: [-2], high: [2]))
    return Policy(
        network: network, kind: kind, actionSpace: space, logStd: kind == .gaussian ? [0] : [],
        scaling: ObservationScaling(mean: Array(repeating: 0.1, count: inputs), std: Array(repeating: 0.5, count: inputs)))
}

private func threatModel(epsilon: Double, dimension: Int) -> ThreatModel {
    ThreatModel(
        epsilon: epsilon,
        bounds: BoxSpace(low: Array(repeating: -10, count: dimension), high: Array(repeating: 10, count: dimension)))
}

/// Every point of a grid with `points` values per dimension over the box `s ± ε` (corners included).
private func grid(around s: [Double], epsilon: Double, points: Int) -> Matrix<Double> {
    let d = s.count
    let total = (0..<d).reduce(1) { product, _ in product * points }
    var rows: [Double] = []
    for index in 0..<total {
        var rest = index
        for j in 0..<d {
            let k = rest % points
            rest /= points
            rows.append(s[j] - epsilon + 2 * epsilon * Double(k) / Double(points - 1))
        }
    }
    return Matrix(rows: total, columns: d, storage: rows)
}

@Suite struct CertificationTests {
    /// A defended policy is certified through its defense: quantisation and clipping map the
    /// box to the box of its ends, and certified actions of the defended policy never change on a
    /// dense grid of the box (where the bare network's certificate says otherwise for some
    /// states); a randomised defense is refused.
    @Test func defendedPoliciesAreCertifiedThroughTheDefenseOrRefused() throws {
        let random = RandomStream(seed: 8)
        var policy = try randomPolicy(seed: 5, kind: .greedyQ)
        let bare = policy
        policy.defenses = [
            try Quantization(step: 0.4, scale: [1, 1, 1, 1]),
            try RangeClipping(lower: [-0.8, -0.8, -0.8, -0.8], upper: [0.8, 0.8, 0.8, 0.8]),
        ]
        let states = randomMatrix(rows: 40, columns: 4, random: random, scale: 1)
        let certificate = IntervalCertificate(threatModel: threatModel(epsilon: 0.05, dimension: 4))
        let defended = try certificate.certify(states, policy: policy)
        let undefended = try certificate.certify(states, policy: bare)
        var certified = 0
        for r in 0..<states.rows where defended[r].isCertified {
            certified += 1
            let actions = policy.actions(grid(around: states.row(r), epsilon: 0.05, points: 6), selection: .mode)
            #expect(actions.allSatisfy { $0 == .discrete(defended[r].action!) }, "state \(r)")
        }
        #expect(certified > 0)
        #expect(zip(defended, undefended).contains { $0.isCertified != $1.isCertified || $0.action != $1.action })

        var noisy = bare
        noisy.defenses = [try NoiseInjection(sigma: 0.1, scale: [1, 1, 1, 1])]
        #expect { try certificate.certify(states, policy: noisy) } throws: {
            ($0 as! DefenseError).description.contains("'noise:sigma=0.1' defense has no exact interval form")
        }
    }

    /// Certified actions never change anywhere on a dense grid of the box (6⁴ points, corners
    /// included); at ε = 0 every state with a strict preference is certified and the bound is
    /// the exact gap.
    @Test func certifiedActionsNeverChange() throws {
        let random = RandomStream(seed: 4)
        var certifiedCount = 0
        for seed in 0..<4 as Range<UInt64> {
            let policy = try randomPolicy(seed: seed, kind: .greedyQ)
            let states = randomMatrix(rows: 20, columns: 4, random: random, scale: 1)
            for epsilon in [0.0, 0.002, 0.01, 0.05] {
                let results = try IntervalCertificate(threatModel: threatModel(epsilon: epsilon, dimension: 4)).certify(
                    states, policy: policy)
                let outputs = policy.outputs(states)
                for r in 0..<states.rows {
                    let gap = abs(outputs[r, 0] - outputs[r, 1])
                    if epsilon == 0 {
                        #expect(abs(results[r].marginLowerBound! - gap) <= 1e-9 * max(1, gap))
                    }
                    guard results[r].isCertified else { continue }
                    certifiedCount += 1
                    let perturbed = grid(around: states.row(r), epsilon: epsilon, points: 6)
                    #expect(
                        policy.actions(perturbed).allSatisfy { $0 == .discrete(results[r].action!) },
                        "seed \(seed) ε \(epsilon) state \(r)")
                }
            }
        }
        #expect(certifiedCount > 100)  // the test checks real certificates, not an empty set
    }

    /// The bound through the difference of the last layer's rows is at least as tight as
    /// subtracting separately bounded outputs, and shrinks as ε grows.
    @Test func marginBoundIsTighterThanPlainIntervals() throws {
        let policy = try randomPolicy(seed: 11, kind: .greedyQ, hidden: [32, 32])
        let states = randomMatrix(rows: 30, columns: 4, random: RandomStream(seed: 2))
        var previous = [Double](repeating: .infinity, count: states.rows)
        for epsilon in [0.0, 0.01, 0.03, 0.1] {
            let certificate = IntervalCertificate(threatModel: threatModel(epsilon: epsilon, dimension: 4))
            let results = try certificate.certify(states, policy: policy)
            let plain = policy.network.intervalBounds(try certificate.inputBox(around: states, policy: policy))
            for r in 0..<states.rows {
                let a = results[r].action!
                let naive = plain.lower[r, a] - plain.upper[r, 1 - a]
                #expect(results[r].marginLowerBound! >= naive - 1e-9)
                #expect(results[r].marginLowerBound! <= previous[r] + 1e-9)
                previous[r] = results[r].marginLowerBound!
            }
        }
    }

    /// For continuous policies the deviation bound covers every grid point's deviation.
    @Test func outputDeviationBoundCoversTheBox() throws {
        for kind in [PolicyKind.gaussian, .deterministic] {
            let policy = try randomPolicy(seed: 3, kind: kind)
            let states = randomMatrix(rows: 10, columns: 3, random: RandomStream(seed: 8))
            let results = try IntervalCertificate(threatModel: threatModel(epsilon: 0.05, dimension: 3)).certify(
                states, policy: policy)
            for r in 0..<states.rows {
                let center = policy.outputs(Matrix(rows: 1, columns: 3, storage: states.row(r)))[0, 0]
                let moved = policy.outputs(grid(around: states.row(r), epsilon: 0.05, points: 9)).storage.map { abs($0 - center) }
                    .max()!
                #expect(moved <= results[r].outputDeviation! + 1e-12)
                #expect(results[r].outputDeviation! > 0)
            }
        }
    }

    /// For a linear two-action policy the smoothed policy is exact: `p_A = Φ(d/σ)` where `d` is
    /// the distance to the decision boundary, so the certified radius `σ Φ⁻¹(p̲_A)` must lie
    /// below `d` (it is a lower confidence bound) and close to it with many samples.
    @Test func smoothingRadiusOfALinearPolicy() throws {
        let w = [0.8, -0.6]
        let b = 0.05  // ‖w‖ = 1: the distance is |w·s + b|
        let network = try Sequential<Double>(
            modules: [.linear(inputs: 2, outputs: 2)], parameters: [w[0], w[1], -w[0], -w[1], b, -b])
        let policy = Policy(network: network, kind: .greedyQ, actionSpace: .discrete(2))
        let smoothing = RandomizedSmoothing(sigma: 0.25, selectionSamples: 200, estimationSamples: 20_000, alpha: 0.001)
        let model = threatModel(epsilon: 0.1, dimension: 2)
        let random = RandomStream(seed: 9)
        for s in [[0.1, 0.0], [0.3, -0.2], [-0.25, 0.1], [0.0, 0.5]] {
            let distance = abs(w[0] * s[0] + w[1] * s[1] + b)
            let certificate = smoothing.certify(s, policy: policy, threatModel: model, random: random)
            #expect(certificate.action == (w[0] * s[0] + w[1] * s[1] + b > 0 ? 0 : 1))
            #expect(certificate.radius <= distance)
            #expect(certificate.radius >= 0.85 * distance)
        }
        // On the boundary it abstains.
        #expect(smoothing.certify([-0.05 / 0.8, 0], policy: policy, threatModel: model, random: random).action == nil)
    }

    /// CROP's expectation bound against values computed with Python's statistics.NormalDist:
    /// m = 100, α = 0.05, returns in [0, 500].
    @Test func smoothedReturnBoundMatchesAnIndependentComputation() {
        let perfect = [Double](repeating: 500, count: 100)
        let a = SmoothedReturnBound(returns: perfect, returnRange: 0...500, sigma: 0.25, budget: 0.5, alpha: 0.05)
        #expect(abs(a.certifiedReturn - 100.66713146943715) < 1e-6)
        let b = SmoothedReturnBound(returns: perfect, returnRange: 0...500, sigma: 0.5, budget: 0, alpha: 0.05)
        #expect(abs(b.certifiedReturn - 438.8063292329796) < 1e-6)
        #expect(abs(b.certifiedReturn - b.smoothedReturnLowerBound) < 1e-6)
        let mixed = [Double](repeating: 500, count: 70) + [Double](repeating: 250, count: 30)
        let c = SmoothedReturnBound(returns: mixed, returnRange: 0...500, sigma: 0.2, budget: 0.3, alpha: 0.05)
        #expect(abs(c.certifiedReturn - 92.77812949178399) < 1e-6)
        #expect(c.certifiedReturn <= c.smoothedReturnLowerBound && c.smoothedReturnLowerBound <= c.smoothedReturn)
        #expect(SmoothedReturnBound(returns: [0, 10], returnRange: 0...500, sigma: 0.2, budget: 0.1).certifiedReturn == 0)
    }
}

/// `gauntlet certify --precision f64` certifies in f64 throughout: its IBP result equals the
/// Double certificate of the same states, and differs in its margins from the f32 run.
@Suite struct CertificationPrecisionTests {
    @Test func certificationRunsInTheEvaluationsPrecision() throws {
        let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
        let policy = try Toolkit.standard.loadPolicy(
            contentsOf: root.appendingPathComponent("policies/cartpole-sa-dqn.safetensors"))
        let double = policy.converted(to: Double.self)
        let f64 = try Certification.run(
            AttackEvaluation(policy: double, environment: "CartPole-v1", episodes: 2, seed: 0), epsilon: 0.003, methods: [.ibp],
            policyName: "p")
        let f32 = try Certification.run(
            AttackEvaluation(policy: policy, environment: "CartPole-v1", episodes: 2, seed: 0), epsilon: 0.003, methods: [.ibp],
            policyName: "p")
        var runner = EpisodeRunner(policy: double, environment: "CartPole-v1")
        runner.recordObservations = true
        let states = try runner.run(episodes: 2, seed: 0).flatMap(\.observations)
        let matrix = Matrix<Double>(rows: states.count, columns: 4, storage: states.flatMap { $0.map(Double.init) })
        let expected = try IntervalCertificate(threatModel: f64.threatModel).certify(matrix, policy: double)
        #expect(f64.ibp?.certified == expected.filter(\.isCertified).count)
        #expect(f64.ibp?.meanMarginLowerBound == Statistics.mean(expected.compactMap(\.marginLowerBound)))
        #expect(f64.ibp?.meanMarginLowerBound != f32.ibp?.meanMarginLowerBound)
    }
}

/// Complete verification of a policy (`certify --method complete`): exact where interval bounds
/// are only sufficient.
@Suite struct CompleteCertificationTests {
    /// Per state, on a random ReLU policy with observation scaling: an action proven impossible
    /// never appears on a dense grid of the box (6⁴ points), a witness is inside the box and
    /// makes the policy take its action, and no state interval bounds certify has a witness.
    @Test func provenStatesNeverFlipAndWitnessesDo() throws {
        let policy = try randomPolicy(seed: 3, kind: .greedyQ)
        let random = RandomStream(seed: 9)
        let states = randomMatrix(rows: 30, columns: 4, random: random, scale: 1)
        var (proven, witnessed) = (0, 0)
        for r in 0..<states.rows {
            let epsilon = [0.05, 0.5, 2.0][r % 3]
            let model = threatModel(epsilon: epsilon, dimension: 4)
            let interval = try IntervalCertificate(threatModel: model).certify(states, policy: policy)
            let (lower, upper) = model.box(around: Matrix(row: states.row(r)))
            let verification = try CompleteVerification(
                verifier: CompleteVerifier(timeLimit: 30), policy: policy, lower: lower, upper: upper)
            let clean = interval[r].action!
            switch try verification.canForce(1 - clean) {
            case .impossible:
                proven += 1
                let actions = policy.actions(grid(around: states.row(r), epsilon: epsilon, points: 6), selection: .mode)
                #expect(actions.allSatisfy { $0 == .discrete(clean) }, "state \(r)")
            case .witness(let observation):
                witnessed += 1
                #expect(!interval[r].isCertified, "interval bounds certified state \(r), yet a witness exists")
                #expect(model.distance(Matrix(row: observation), from: Matrix(row: states.row(r)))[0] <= epsilon + 1e-12)
                #expect(policy.actions(Matrix(row: observation), selection: .mode) == [.discrete(1 - clean)])
            case .undecided(let why):
                Issue.record("state \(r): \(why)")
            }
        }
        #expect(proven > 3 && witnessed > 3, "\(proven) proven, \(witnessed) witnessed")
    }

    /// The report: every visited state is certified, attackable or undecided; the exact rate is
    /// at least interval bounds' rate; L2 threat models and defended policies are refused.
    @Test func reportCountsAndRefusals() throws {
        let policy = try randomPolicy(seed: 3, kind: .greedyQ, hidden: [32, 32])
        let evaluation = AttackEvaluation(policy: policy, environment: "CartPole-v1", episodes: 2, seed: 0)
        let report = try Certification.run(evaluation, epsilon: 0.02, methods: [.ibp, .complete(timeLimit: 30)], policyName: "p")
        let complete = try #require(report.complete)
        let ibp = try #require(report.ibp)
        #expect(complete.states == ibp.states && complete.certified + complete.attackable + complete.undecided == complete.states)
        #expect(complete.undecided == 0 && complete.rate == complete.rateUpperBound)
        #expect(complete.certified >= ibp.certified! && complete.ibpCertified == ibp.certified!)
        let l2 = AttackEvaluation(policy: policy, environment: "CartPole-v1", episodes: 1, seed: 0, norm: .l2)
        #expect(throws: DefenseError.self) {
            _ = try Certification.run(l2, epsilon: 0.02, methods: [.complete(timeLimit: 1)], policyName: "p")
        }
        var defended = policy
        defended.defenses = [try Quantization(step: 0.4, scale: [1, 1, 1, 1])]
        let withDefense = AttackEvaluation(policy: defended, environment: "CartPole-v1", episodes: 1, seed: 0)
        #expect(throws: DefenseError.self) {
            _ = try Certification.run(withDefense, epsilon: 0.02, methods: [.complete(timeLimit: 1)], policyName: "p")
        }
    }
}

import Agents
import Attacks
import Environments
import Linalg
import NeuralNet
import PropertyBased
import Synchronization
import TestSupport
import Testing

/// A random policy of the given kind on observations of dimension `d`, with `n` outputs.
func randomPolicy(kind: PolicyKind, inputs d: Int, outputs n: Int, seed: UInt64) -> Policy<Double> {
    let network = try! Sequential<Double>.mlp(
        sizes: [d, 16, 16, n], activation: .tanh, outputActivation: kind == .deterministic ? .tanh : .identity,
        random: RandomStream(seed: seed))
    let space: ActionSpace =
        kind == .greedyQ || kind == .categorical ? .discrete(n) : .box(BoxSpace(symmetric: Array(repeating: 1, count: n)))
    return Policy(
        network: network, kind: kind, actionSpace: space, logStd: kind == .gaussian ? Array(repeating: -0.5, count: n) : [])
}

/// The attacks the property tests cover: every attack of the standard registry and the
/// test-only one of `ExtensionTests`, so a new attack is covered by construction.
let testCatalogue = AttackRegistry.standard.adding(HalfShift.description)

/// Specs of every attack in `registry`: each in its cheap settings, then once more for every
/// other option of a choice parameter and with every 0/1 switch flipped. Policy files are named
/// by role and come from `policyContext`.
func catalogueSpecs(_ registry: AttackRegistry = testCatalogue) -> [(description: AttackDescription, spec: String)] {
    registry.descriptions.flatMap { description -> [(AttackDescription, String)] in
        var base = description.cheapSettings
        var variants: [[String: String]] = []
        for parameter in description.parameters {
            switch parameter.kind {
            case .policyFile(let role): base[parameter.key] = "\(role)"
            case .choice(let options): variants += options.filter { $0 != parameter.defaultValue }.map { [parameter.key: $0] }
            case .integer(let range) where range == 0...1:
                variants.append([parameter.key: parameter.defaultValue == "1" ? "0" : "1"])
            default: break
            }
        }
        return ([[:]] + variants).map { variant in
            let settings = base.merging(variant) { $1 }
            let spec =
                settings.isEmpty
                ? description.name
                : description.name + ":" + settings.keys.sorted().map { "\($0)=\(settings[$0]!)" }.joined(separator: ",")
            return (description, spec)
        }
    }
}

/// Loads the policy files catalogue specs name: a learned adversary mapping `dimension`
/// observations to as many directions, a PA-AD director mapping them to `outputs` action
/// directions, or a random surrogate of the victim's kind.
func policyContext(kind: PolicyKind, dimension: Int, outputs: Int) -> AttackContext {
    AttackContext { path in
        switch path {
        case "adversary": randomPolicy(kind: .gaussian, inputs: dimension, outputs: dimension, seed: 41).converted(to: Float.self)
        case "director": randomPolicy(kind: .gaussian, inputs: dimension, outputs: outputs, seed: 43).converted(to: Float.self)
        default: randomPolicy(kind: kind, inputs: dimension, outputs: outputs, seed: 42).converted(to: Float.self)
        }
    }
}

/// `attack` ready to perturb for `policy`: attacks that learn about their victim from rollouts
/// (Robust Sarsa) get a random value function of the right shape instead, since these
/// properties hold for any; the optimal adversary, which knows only its gridworld's states,
/// gets a plan of no states (its own tests play it on a gridworld).
func ready<S: BLASScalar>(_ attack: any Attack, for policy: Policy<S>) -> any Attack {
    if var optimal = attack as? OptimalAttack {
        optimal.plan = OptimalAttack.Plan(states: [:], witnesses: [], choices: [], horizon: 0, aliased: false)
        return optimal
    }
    guard let rs = attack as? RobustSarsa else { return attack }
    let value = try! Sequential<S>.mlp(
        sizes: [policy.observationDimension + policy.outputDimension, 8, 1], activation: .tanh, random: RandomStream(seed: 5))
    return rs.using(value: value, learning: .init(actionEpsilon: 0.1, regularizer: 1), madRatio: rs.madRatios[0])
}

@Suite struct AttackPropertyTests {
    /// Every attack stays inside the ball (in scaled units) and the observation bounds, and
    /// leaves masked dimensions alone, for L∞ and L2, every policy kind, raw and std units.
    @Test func everyAttackStaysInsideTheThreatModel() async {
        let covered = Mutex(Set<String>())
        await propertyCheck(count: 30, input: Gen.int(in: 0...100_000), Gen.double(in: 0...0.8)) { seed, epsilon in
            let random = RandomStream(seed: UInt64(seed))
            let kind = PolicyKind.allCases[seed % 4]
            let policy = randomPolicy(kind: kind, inputs: 5, outputs: 3, seed: UInt64(seed))
            let context = policyContext(kind: kind, dimension: 5, outputs: 3)
            let bounds = BoxSpace(low: [-1, -1, -.infinity, 0, -2], high: [1, 1, .infinity, 0.5, 2])
            let observations = Matrix<Double>(
                rows: 6, columns: 5,
                storage: (0..<30).map { i in
                    let j = i % 5
                    return random.uniform(Double(max(bounds.low[j], -3)), Double(min(bounds.high[j], 3)))
                })
            for norm in ThreatModel.Norm.allCases {
                let scale = seed % 2 == 0 ? nil : (0..<5).map { _ in random.uniform(0.1, 2) }
                let model = ThreatModel(
                    norm: norm, epsilon: epsilon, units: scale == nil ? .raw : .std, scale: scale, bounds: bounds,
                    mask: [true, true, true, true, false])
                for (description, spec) in catalogueSpecs() {
                    let attack = ready(try! testCatalogue.make(spec, context: context), for: policy)
                    guard (try? attack.validate(for: policy)) != nil else { continue }  // e.g. targeted on continuous actions
                    covered.withLock { _ = $0.insert(description.name) }
                    let perturbed = attack.perturb(observations, policy: policy, threatModel: model, random: random).perturbed
                    #expect(perturbed.isFinite, "\(spec)")
                    for (r, distance) in model.distance(perturbed, from: observations).enumerated() {
                        #expect(
                            distance <= epsilon * (1 + 1e-9) + 1e-12,
                            "\(spec) \(norm) row \(r): ‖δ‖ = \(distance) > ε = \(epsilon)")
                    }
                    for r in 0..<6 {
                        for j in 0..<5 {
                            #expect(
                                perturbed[r, j] >= Double(bounds.low[j]) && perturbed[r, j] <= Double(bounds.high[j]),
                                "\(spec) bounds")
                        }
                        #expect(perturbed[r, 4] == observations[r, 4], "\(spec) touched a masked dimension")
                    }
                }
            }
        }
        #expect(covered.withLock { $0 } == Set(testCatalogue.descriptions.map(\.name)), "attacks never checked")
    }

    /// On a convolutional Q-network over 2 × 10 × 10 binary images with bounds [0, 1] and the
    /// second channel masked (`ThreatModel.channelMask`), every attack that applies to a greedy
    /// policy stays in the ball and the bounds and leaves the masked channel alone, at pixel ε.
    @Test func everyAttackOnAConvolutionalPolicyStaysInsideTheImageThreatModel() throws {
        let random = RandomStream(seed: 5)
        let conv = try Conv2d(inputChannels: 2, outputChannels: 4, kernelSize: 3, inputHeight: 10, inputWidth: 10)
        let network = try Sequential<Double>(
            modules: [.conv2d(conv), .activation(.relu), .flatten, .linear(inputs: conv.outputSize, outputs: 3)], random: random)
        let policy = Policy(network: network, kind: .greedyQ, actionSpace: .discrete(3))
        let context = policyContext(kind: .greedyQ, dimension: 200, outputs: 3)
        let observations = Matrix<Double>(rows: 4, columns: 200, storage: (0..<800).map { _ in random.uniform() < 0.2 ? 1 : 0 })
        let bounds = BoxSpace(low: [Float](repeating: 0, count: 200), high: [Float](repeating: 1, count: 200))
        let mask = try ThreatModel.channelMask([true, false], dimension: 200)
        #expect(mask == Array(repeating: true, count: 100) + Array(repeating: false, count: 100))
        var covered = 0
        for (norm, epsilon) in [(ThreatModel.Norm.linf, 3.0 / 255), (.l2, 0.5)] {
            let model = ThreatModel(norm: norm, epsilon: epsilon, bounds: bounds, mask: mask)
            for (_, spec) in catalogueSpecs() {
                let attack = ready(try testCatalogue.make(spec, context: context), for: policy)
                guard (try? attack.validate(for: policy)) != nil else { continue }
                covered += 1
                let perturbed = attack.perturb(observations, policy: policy, threatModel: model, random: random).perturbed
                for (r, distance) in model.distance(perturbed, from: observations).enumerated() {
                    #expect(distance <= epsilon * (1 + 1e-9) + 1e-12, "\(spec) \(norm) row \(r): ‖δ‖ = \(distance)")
                }
                #expect(perturbed.storage.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(spec) left [0, 1]")
                for r in 0..<4 {
                    #expect((100..<200).allSatisfy { perturbed[r, $0] == observations[r, $0] }, "\(spec) touched channel 1")
                }
            }
        }
        #expect(covered >= 20, "only \(covered) attack runs applied")
        #expect(throws: AttackError.self) { try ThreatModel.channelMask([true, false, true], dimension: 200) }
    }

    /// The box interval bounds start from: radius ε·u_j on free dimensions only, clipped to the
    /// observation bounds, row by row (values worked by hand).
    @Test func boxHonoursMaskScaleAndBounds() {
        let model = ThreatModel(
            epsilon: 0.1, scale: [1, 2, 1, 0.5], bounds: BoxSpace(low: [0, 0, 0, -1], high: [1, 1, 1, 1]),
            mask: [true, true, false, true])
        let observations = Matrix<Double>(rows: 2, columns: 4, storage: [0.5, 0.95, 0.2, -0.98, 0.05, 0.5, 0.7, 0])
        let (lower, upper) = model.box(around: observations)
        let expectedLower: [Double] = [0.4, 0.75, 0.2, -1, 0, 0.3, 0.7, -0.05]
        let expectedUpper: [Double] = [0.6, 1, 0.2, -0.93, 0.15, 0.7, 0.7, 0.05]
        for i in 0..<8 {
            #expect(abs(lower.storage[i] - expectedLower[i]) < 1e-12, "lower[\(i)] = \(lower.storage[i])")
            #expect(abs(upper.storage[i] - expectedUpper[i]) < 1e-12, "upper[\(i)] = \(upper.storage[i])")
        }
    }

    @Test func zeroEpsilonChangesNothing() throws {
        let policy = randomPolicy(kind: .greedyQ, inputs: 4, outputs: 2, seed: 1)
        let observations = randomMatrix(rows: 8, columns: 4, random: RandomStream(seed: 2))
        let model = ThreatModel(norm: .linf, epsilon: 0, bounds: BoxSpace(symmetric: Array(repeating: .infinity, count: 4)))
        for (_, spec) in catalogueSpecs() {
            let attack = ready(
                try testCatalogue.make(spec, context: policyContext(kind: .greedyQ, dimension: 4, outputs: 2)), for: policy)
            let result = attack.perturb(observations, policy: policy, threatModel: model, random: RandomStream(seed: 3))
            #expect(result.perturbed == observations, "\(spec)")
        }
    }

    /// FGSM's step is ε times the sign of a finite-difference gradient of the objective.
    @Test func fgsmFollowsTheSignOfTheFiniteDifferenceGradient() throws {
        for seed: UInt64 in 1...5 {
            let policy = randomPolicy(kind: .categorical, inputs: 4, outputs: 3, seed: seed)
            let x = randomMatrix(rows: 1, columns: 4, random: RandomStream(seed: seed + 100))
            let objective = Objective.untargeted(policy, clean: policy.outputs(x))
            let numeric = numericalGradient(of: { objective.evaluate(policy.outputs(Matrix(row: $0))).values[0] }, at: x.storage)
            let epsilon = 0.05
            let model = ThreatModel(epsilon: epsilon, bounds: BoxSpace(symmetric: Array(repeating: .infinity, count: 4)))
            let perturbed = FGSM().perturb(x, policy: policy, threatModel: model, random: RandomStream(seed: 0)).perturbed
            for j in 0..<4 where abs(numeric[j]) > 1e-7 {
                #expect(abs((perturbed[0, j] - x[0, j]) - epsilon * (numeric[j] > 0 ? 1 : -1)) < 1e-12)
            }
        }
    }

    /// On a fixed policy and batch, average attack objective: PGD with restarts ≥ PGD ≥ FGSM ≥ random.
    @Test func strongerAttacksReachHigherLoss() throws {
        let policy = randomPolicy(kind: .greedyQ, inputs: 6, outputs: 4, seed: 11)
        let observations = randomMatrix(rows: 64, columns: 6, random: RandomStream(seed: 12))
        let model = ThreatModel(epsilon: 0.3, bounds: BoxSpace(symmetric: Array(repeating: .infinity, count: 6)))
        let objective = Objective.untargeted(policy, clean: policy.outputs(observations))
        func meanLoss(_ spec: String) throws -> Double {
            let perturbed = try AttackRegistry.standard.make(spec).perturb(
                observations, policy: policy, threatModel: model, random: RandomStream(seed: 5)
            ).perturbed
            return Statistics.mean(objective.evaluate(policy.outputs(perturbed)).values)
        }
        let random = try meanLoss("uniform")
        let fgsm = try meanLoss("fgsm")
        let pgd = try meanLoss("pgd:steps=20")
        let restarts = try meanLoss("pgd:steps=20,restarts=5")
        #expect(
            random < fgsm && fgsm <= pgd && pgd <= restarts,
            "random \(random), fgsm \(fgsm), pgd \(pgd), pgd+restarts \(restarts)")
    }

    @Test func sameSeedSamePerturbations() throws {
        let policy = randomPolicy(kind: .gaussian, inputs: 3, outputs: 2, seed: 4)
        let observations = randomMatrix(rows: 5, columns: 3, random: RandomStream(seed: 6))
        let model = ThreatModel(norm: .l2, epsilon: 0.2, bounds: BoxSpace(symmetric: Array(repeating: .infinity, count: 3)))
        for (_, spec) in catalogueSpecs() {
            let attack = ready(
                try testCatalogue.make(spec, context: policyContext(kind: .gaussian, dimension: 3, outputs: 2)), for: policy)
            guard (try? attack.validate(for: policy)) != nil else { continue }
            let a = attack.perturb(observations, policy: policy, threatModel: model, random: RandomStream(seed: 9)).perturbed
            let b = attack.perturb(observations, policy: policy, threatModel: model, random: RandomStream(seed: 9)).perturbed
            #expect(a == b, "\(spec)")
        }
    }

    @Test func specsParseAndPrintTheirDefaults() throws {
        #expect(
            try AttackRegistry.standard.make("pgd").spec == "pgd:alpha_ratio=0.25,loss=auto,random_start=1,restarts=1,steps=10")
        #expect(
            try AttackRegistry.standard.make("pgd:steps=20,alpha=0.01,restarts=4").spec
                == "pgd:alpha=0.01,loss=auto,random_start=1,restarts=4,steps=20")
        #expect(
            try AttackRegistry.standard.make(try AttackRegistry.standard.make("gaussian:sigma=1.5").spec).spec
                == "gaussian:sigma=1.5")
        for (bad, message) in [
            ("pgd:step=3", "unknown parameter 'step'"), ("pgd:steps=0", "'steps' must be an integer in 1...100000"),
            ("fgsm:random_start=2", "'random_start' must be one of auto, 0, 1"), ("carlini", "unknown attack 'carlini'"),
            ("pgd:steps", "'steps' is not key=value"), ("pgd:alpha=0.1,alpha_ratio=0.2", "give alpha or alpha_ratio"),
            ("pgd:loss=kl", "'loss' must be one of auto, ce, cw"), (":x=1", "has no name"),
        ] {
            #expect { try AttackRegistry.standard.make(bad) } throws: { ($0 as! AttackError).description.contains(message) }
        }
    }
}

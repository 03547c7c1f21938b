import Agents
import Attacks
import Defenses
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

/// A test-only attack, declared as any attack is: it moves every free dimension by
/// `fraction · ε` in the positive direction. Nothing in the library names it; the property
/// tests (through `testCatalogue`), the sanity checks and config parsing pick it up from the
/// registry it is added to.
struct HalfShift: Attack {
    static let fractionParameter = AttackParameter.number("fraction", default: 0.5, in: 0...1, "share of ε moved")
    static let description = AttackDescription(
        name: "test-half-shift", summary: "moves every free dimension by fraction·ε (test only)", family: .random,
        parameters: [fractionParameter], usableInTraining: true
    ) { spec, _ throws(AttackError) in HalfShift(fraction: try spec.double(fractionParameter)) }

    var fraction: Double
    var spec: String { "test-half-shift:fraction=\(fraction)" }

    func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream)
        -> AttackResult<S>
    {
        let ones = Matrix<S>(
            rows: observations.rows, columns: observations.columns,
            storage: Array(repeating: 1, count: observations.storage.count))
        let step = threatModel.ascentStep(ones, size: fraction * threatModel.epsilon)
        return AttackResult(perturbed: threatModel.project(observations + step, around: observations), queries: 0)
    }
}

/// A test-only robust-training method: it counts the minibatches it regularises and reports the
/// count as a diagnostic column.
final class CountingTraining: RobustTraining {
    static let method = RobustTrainingMethod(
        name: "test-counting", summary: "counts minibatches (test only)", learners: ["dqn"], diagnostics: ["test/minibatches"]
    ) { _, context in CountingTraining(random: context.random) }

    let random: RandomStream
    var minibatches = 0
    init(random: RandomStream) { self.random = random }

    func regularize<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, progress: Double, parameterGradient: inout [S], logStdGradient: inout [S]
    ) -> [String: Double] {
        minibatches += 1
        return ["test/minibatches": Double(minibatches)]
    }
}

/// A test-only inference-time defense: the policy acts on `s + by` (every dimension shifted).
struct ShiftDefense: PolicyDefense {
    static let byParameter = AttackParameter.number("by", default: 0.5, in: -10...10, "shift of every dimension")
    static let kind = DefenseKind(
        type: "test-shift", summary: "shifts every observation (test only)", transformParameters: [byParameter],
        decode: { stored, _, _ in ShiftDefense(by: stored.number("by") ?? 0) },
        makeTransformation: { spec, _ throws(DefenseError) in
            do throws(AttackError) { return ShiftDefense(by: try spec.double(byParameter)) } catch {
                throw DefenseError(error.description)
            }
        })

    var by: Double
    var spec: String { "test-shift:by=\(by)" }
    var isRandomized: Bool { false }
    var stored: (description: DefenseDescription, tensors: [String: Safetensors.Tensor]) {
        (DefenseDescription(type: Self.kind.type, parameters: ["by": .number(by)]), [:])
    }

    func shifted<S: BLASScalar>(_ observations: Matrix<S>) -> Matrix<S> { observations.map { $0 + S(by) } }

    func outputs<S: BLASScalar>(_ observations: Matrix<S>, inner: Policy<S>, random: RandomStream) -> Matrix<S> {
        inner.outputs(shifted(observations))
    }

    func outputsAndInputGradient<S: BLASScalar>(
        _ observations: Matrix<S>, inner: Policy<S>, random: RandomStream, lossGradient: (Matrix<S>) -> Matrix<S>
    ) -> (outputs: Matrix<S>, gradient: Matrix<S>) {
        inner.outputsAndInputGradient(shifted(observations), workspace: nil, lossGradient: lossGradient)
    }
}

@Suite struct ExtensionTests {
    static let toolkit = Toolkit.standard.adding(HalfShift.description).adding(CountingTraining.method).adding(ShiftDefense.kind)

    /// A test-only defense is made from its `--transform` spec, written to a policy file and read
    /// back by the toolkit that has it; the standard toolkit refuses the file.
    @Test func aTestOnlyDefenseIsMadeStoredAndReadBack() throws {
        let context = TransformationContext(scale: [1, 1, 1, 1], range: nil, discrete: true)
        let defense = try Self.toolkit.transformation("test-shift:by=0.25", context: context)
        #expect(defense.spec == "test-shift:by=0.25")
        #expect { try Toolkit.standard.transformation("test-shift", context: context) } throws: {
            ($0 as! DefenseError).description.contains("unknown transformation 'test-shift'")
        }
        let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
        var policy = try Toolkit.standard.loadPolicy(contentsOf: root.appendingPathComponent("policies/cartpole-dqn.safetensors"))
        policy.defenses = [defense]
        let file = try PolicyFile(policy.file(environment: "CartPole-v1", algorithm: "dqn", provenance: [:]).safetensors)
        let loaded = try Self.toolkit.policy(file)
        let observations = Matrix<Float>(rows: 2, columns: 4, storage: [0.1, 0, -0.1, 0.2, 0, 0.3, 0.05, -0.2])
        #expect(loaded.outputs(observations) == policy.outputs(observations))
        #expect(
            loaded.outputs(observations)
                != Policy(network: policy.network, kind: .greedyQ, actionSpace: .discrete(2)).outputs(observations))
        #expect { try Toolkit.standard.policy(file) } throws: {
            ($0 as! PolicyFileError).description.contains("'test-shift' defense")
        }
    }

    @Test func aTestOnlyAttackIsMadeByTheRegistryAndListedInHelp() throws {
        #expect(try Self.toolkit.makeAttack("test-half-shift:fraction=0.25").spec == "test-half-shift:fraction=0.25")
        #expect(
            Self.toolkit.attacks.help.contains(
                "test-half-shift — moves every free dimension by fraction·ε (test only) [fraction=0.5]"))
        #expect { try Toolkit.standard.makeAttack("test-half-shift") } throws: {
            ($0 as! AttackError).description.contains("unknown attack 'test-half-shift'")
        }
        #expect(testCatalogue.description(named: "test-half-shift") != nil)  // the property tests iterate it
    }

    /// The sanity checks read the attack's family: a random attack that beats every white-box
    /// one hints at gradient masking; an attack the registry does not know is not compared.
    @Test func theSanityChecksReadATestOnlyAttacksFamily() {
        let model = ThreatModel(epsilon: 0.1, bounds: BoxSpace(symmetric: [1, 1]))
        func report(_ attack: String, _ attacked: Double) -> AttackReport {
            AttackReport(
                attack: attack, threatModel: model, clean: ReturnSummary(returns: [100, 100], seed: 0),
                attacked: ReturnSummary(returns: [attacked, attacked], seed: 0), rewardDrop: .init(mean: 0, ci95: [0, 0]),
                actionFlipRate: .init(value: 0, ci95: [0, 0]), queries: 0, attackedSteps: 0, episodes: 2, seed: 0,
                selection: .mode)
        }
        let reports = [report("pgd", 80), report("test-half-shift:fraction=0.5", 20)]
        #expect(SanityChecks.run(reports, tolerance: 1, attacks: Self.toolkit.attacks).map(\.check) == [.gradientMasking])
        #expect(SanityChecks.run(reports, tolerance: 1).isEmpty)
    }

    /// Config parsing accepts the test-only method and the test-only attack in robust_attack
    /// only with the toolkit that has them; a run logs the method's diagnostics column.
    @Test func aTestOnlyTrainingMethodIsParsedTrainedAndLogged() throws {
        let yaml = """
            env: CartPole-v1
            algorithm: dqn
            n_timesteps: 300
            learning_starts: 100
            batch_size: 16
            net_arch: [8]
            log_interval: 100
            robust_method: test-counting
            robust_eps: 0.1
            """
        #expect { try Toolkit.standard.trainingConfig(yaml: yaml, file: "t.yaml") } throws: {
            ($0 as! ConfigError).description.contains(
                "t.yaml:8:16: robust_method 'test-counting' is not one of adversarial, sa, radial, atla")
        }
        let config = try Self.toolkit.trainingConfig(yaml: yaml, file: "t.yaml")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-extension-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try #require(
            try TrainingRun<Float>(config: config, directory: directory, seed: 1, components: Self.toolkit.training).run())
        let csv = try String(contentsOf: directory.appendingPathComponent("progress.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv[0].hasSuffix(",test/minibatches"))
        #expect(Double(csv.last!.split(separator: ",", omittingEmptySubsequences: false).last!).map { $0 > 0 } == true)

        let adversarial =
            yaml.replacingOccurrences(of: "test-counting", with: "adversarial") + "\nrobust_attack: [test-half-shift, pgd]\n"
        #expect { try Toolkit.standard.trainingConfig(yaml: adversarial, file: "a.yaml") } throws: {
            ($0 as! ConfigError).description.contains("robust_attack 'test-half-shift' is not one of")
        }
        let parsed = try Self.toolkit.trainingConfig(yaml: adversarial, file: "a.yaml")
        #expect(parsed.robust?.attacks == ["test-half-shift", "pgd"])
        let training = try #require(
            try Self.toolkit.training.robustMethod(named: "adversarial")?.make(
                parsed.robust!,
                RobustTrainingContext(
                    environment: "CartPole-v1", bounds: BoxSpace(symmetric: [1, 1, 1, 1]),
                    random: RandomStream(seed: 2), ppo: nil, seed: 2)) as? AdversarialTraining)
        #expect(
            training.attacks.map(\.spec) == [
                "test-half-shift:fraction=0.5", "pgd:alpha_ratio=0.25,loss=auto,random_start=1,restarts=1,steps=10",
            ])
    }

    /// The library needs no set-up: the standard toolkit reads a defended policy file, trains a
    /// robust config and makes a learned-adversary attack whose file names an `adversary:`
    /// environment — each of which used to need a registration call first.
    @Test func theStandardToolkitNeedsNoSetUp() throws {
        let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
        let victim = root.appendingPathComponent("policies/cartpole-ppo.safetensors").path
        let environment = try Toolkit.standard.environments.make("adversary:env=CartPole-v1,victim=\(victim),eps=0.1")
        #expect(environment.base.actionSpace.dimension == 4)
        var file = try PolicyFile.load(contentsOf: URL(fileURLWithPath: victim))
        file.description.defenses = [
            DefenseDescription(type: "quantize", parameters: ["step": .number(0.1), "scale": JSONValue([1, 1, 1, 1])])
        ]
        #expect(try Toolkit.standard.policy(file).defenses.map(\.spec) == ["quantize:step=0.1"])
        let config = try Toolkit.standard.trainingConfig(
            yaml: "env: CartPole-v1\nalgorithm: dqn\nrobust_method: sa\nrobust_eps: 0.1\n", file: "s.yaml")
        #expect(
            try DQN<Float>(
                config: {
                    guard case .dqn(let c) = config.algorithm else { fatalError() }
                    return c
                }(), environment: "CartPole-v1",
                seed: 0, components: Toolkit.standard.training
            ).steps == 0)
    }
}

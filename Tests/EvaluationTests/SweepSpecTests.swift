import Agents
import Attacks
import Evaluation
import Foundation
import Linalg
import TestSupport
import Testing

@Suite struct SweepSpecTests {
    static let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()

    @Test func gridsExpandAndCellsAreCanonical() throws {
        let spec = try SweepSpec(
            yaml: """
                policies: ["\(Self.root.path)/policies/cartpole-*.safetensors"]
                attacks: [fgsm, {name: pgd, steps: [5, 10], restarts: [1, 2]}]
                epsilons: [0, 0.1]
                norms: [linf, l2]
                seeds: [0, 100]
                episodes: 3
                """, file: "s.yaml", baseDirectory: Self.root)
        let shipped = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("policies").path)
            .filter { $0.hasPrefix("cartpole-") && $0.hasSuffix(".safetensors") }
        #expect(shipped.count >= 3 && spec.policies.count == shipped.count && spec.attacks.count == 5)
        #expect(spec.attacks.contains("pgd:alpha_ratio=0.25,loss=auto,random_start=1,restarts=2,steps=10"))
        #expect(spec.cells.count == shipped.count * 5 * 2 * 2 * 2 && Set(spec.cells.map(\.key)).count == spec.cells.count)
        let shards = (0..<4).map { spec.cells(shard: $0, of: 4) }
        #expect(shards.map(\.count).reduce(0, +) == spec.cells.count)
        #expect(Set(shards.flatMap { $0.map(\.key) }) == Set(spec.cells.map(\.key)))
    }

    /// `precision: f64` evaluates every cell in Double: the stored returns equal a Double
    /// evaluation's and differ from the f32 sweep's; only f64 keys carry the precision.
    @Test func f64SweepsEvaluateInDouble() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-sweep-f64-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let policyPath = Self.root.appendingPathComponent("policies/pendulum-td3.safetensors").path
        var returns: [Precision: [Double]] = [:]
        for precision in Precision.allCases {
            let spec = try SweepSpec(
                yaml: """
                    policies: ["\(policyPath)"]
                    attacks: [fgsm]
                    epsilons: [0.1]
                    episodes: 2
                    precision: \(precision.rawValue)
                    """, file: "s.yaml", baseDirectory: Self.root)
            #expect(spec.cells.count == 1 && spec.cells[0].key.hasSuffix("|2") == (precision == .f32))
            let store = try ResultsStore(path: directory.appendingPathComponent("\(precision).sqlite").path)
            try Sweep(spec: spec, jobs: 1).run(store: store)
            returns[precision] = try store.reportsByPolicyAndSeed().flatMap { $0.map(\.report.attacked.returns) }.flatMap { $0 }
        }
        let policy = try Policy.load(contentsOf: URL(fileURLWithPath: policyPath)).converted(to: Double.self)
        let evaluation = AttackEvaluation(policy: policy, environment: "Pendulum-v1", episodes: 2, seed: 0)
        let reference = try evaluation.run(
            try AttackRegistry.standard.make("fgsm"), epsilon: 0.1, clean: try evaluation.cleanEpisodes())
        #expect(returns[.f64] == reference.attacked.returns)
        #expect(returns[.f32] != returns[.f64])
    }

    /// A spec's `environment` reaches every cell and its key; without it keys stay as they were
    /// (older databases stay valid).
    @Test func environmentOverrideIsPartOfTheKey() throws {
        let text = "policies: [p.safetensors]\nattacks: [fgsm]\nepsilons: [0.1]\nepisodes: 2\n"
        let plain = try SweepSpec(yaml: text, file: "s.yaml", baseDirectory: Self.root)
        let bridged = try SweepSpec(yaml: text + "environment: gym:CartPole-v1\n", file: "s.yaml", baseDirectory: Self.root)
        #expect(
            plain.cells[0].key == "p.safetensors|fgsm:random_start=auto|0.1|linf|raw|0|2" && plain.cells[0].environment == nil)
        #expect(bridged.cells[0].key == plain.cells[0].key + "|env=gym:CartPole-v1")
        #expect(bridged.cells[0].environment == "gym:CartPole-v1")
    }

    @Test func badSpecsAreClearErrors() {
        for (yaml, message) in [
            ("policies: [p]\nattacks: [fgsm]\nepsilons: [0.1]\nepisode: 3\n", "unknown key 'episode' (did you mean 'episodes'?)"),
            ("policies: [p]\nattacks: [frob]\nepsilons: [0.1]\n", "attack 'frob': unknown attack"),
            ("policies: [p]\nattacks: [fgsm]\nepsilons: [-1]\n", "'epsilons' must be a list of numbers"),
            ("policies: [p]\nattacks: [fgsm]\nepsilons: [0.1]\nnorms: [l7]\n", "norm 'l7' is not linf or l2"),
            ("policies: [p]\nattacks: [fgsm]\nepsilons: [0.1]\nprecision: f16\n", "'precision' must be f32 or f64, got 'f16'"),
            ("policies: []\nattacks: [fgsm]\nepsilons: [0.1]\n", "at least one policy"),
            ("policies: [\"/nowhere/*.safetensors\"]\nattacks: [fgsm]\nepsilons: [0.1]\n", "no policy file matches"),
            (
                "policies: [p]\nattacks: [fgsm]\nepsilons: [0.1]\nseeds: \(Array(0..<2000))\nepisodes: 1\nnorms: [linf, l2]\n"
                    + "attacks2: 1\n", "unknown key 'attacks2'"
            ),
        ] {
            #expect { try SweepSpec(yaml: yaml, file: "s.yaml", baseDirectory: Self.root) } throws: {
                "\($0)".contains(message)
            }
        }
    }
}

import Agents
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A sweep into a database, then its report: every figure is well-formed SVG and appears in the
/// self-contained HTML page.
@Suite struct ReportTests {
    @Test func reportFiguresAreWellFormedAndEmbedded() throws {
        let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-report-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = try SweepSpec(
            yaml: """
                policies: ["\(root.path)/policies/cartpole-dqn.safetensors", "\(root.path)/policies/cartpole-ppo.safetensors"]
                attacks: [fgsm, uniform]
                epsilons: [0, 0.15]
                episodes: 2
                """, file: "s.yaml", baseDirectory: root)
        let store = try ResultsStore(path: directory.appendingPathComponent("r.sqlite").path)
        try Sweep(spec: spec, jobs: 2).run(store: store)
        try Report(store: store).write(to: directory)
        let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        let svgs = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".svg") }
        // Two return-vs-ε curves, the heat map, and the frame of the first flipped action.
        #expect(Set(svgs) == ["return-vs-epsilon-1.svg", "return-vs-epsilon-2.svg", "reward-drop.svg", "most-damaging-step.svg"])
        for name in svgs {
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            #expect(XMLParser(data: data).parse(), "\(name) is not well-formed XML")
            let svg = String(decoding: data, as: UTF8.self)
            #expect(html.contains(svg), "\(name) is not embedded in the page")
        }
        // Self-contained: nothing is loaded from elsewhere (the only URLs are SVG namespaces).
        for reference in ["src=\"http", "href=\"http", "src='http", "fetch(", "XMLHttpRequest", "@import"] {
            #expect(!html.contains(reference), "the page refers to \(reference)")
        }
        let markdown = try String(contentsOf: directory.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(markdown.contains("![Reward drop at ε = 0.15, L∞ in raw units](reward-drop.svg)"))
    }
}

extension ReportTests {
    /// Warnings are recomputed from the stored reports (so a resumed sweep sees all of them).
    @Test func sweepWarningsAreStored() throws {
        let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-warn-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = try SweepSpec(
            yaml: """
                policies: ["\(root.path)/policies/cartpole-ppo.safetensors"]
                attacks: [fgsm]
                epsilons: [0.025, 0.05]
                episodes: 4
                """, file: "s.yaml", baseDirectory: root)
        let store = try ResultsStore(path: directory.appendingPathComponent("r.sqlite").path)
        try Sweep(spec: spec, jobs: 1).run(store: store)
        let reports = try store.reportsByPolicyAndSeed().flatMap { $0.map(\.report) }
        let policy = "\(root.path)/policies/cartpole-ppo.safetensors (seed 0)"
        let expected = SanityChecks.run(reports, tolerance: 5).map {
            SanityWarning(check: $0.check, message: "\(policy): \($0.message)")
        }
        let warnings = try store.refreshWarnings()
        #expect(!expected.isEmpty && warnings == expected, "\(warnings)")
    }

    /// The report lists warnings in an order of their own (cell, check, message), not in the
    /// order parallel cells happened to finish: the same sweep gives the same report.
    @Test func warningOrderDoesNotDependOnInsertionOrder() throws {
        let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-warn-order-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = try SweepSpec(
            yaml: """
                policies: ["\(root.path)/policies/cartpole-dqn.safetensors"]
                attacks: [fgsm]
                epsilons: [0, 0.1]
                episodes: 1
                """, file: "s.yaml", baseDirectory: root)
        let store = try ResultsStore(path: directory.appendingPathComponent("r.sqlite").path)
        try Sweep(spec: spec, jobs: 1).run(store: store)
        let keys = try store.finishedKeys().sorted()
        let warnings = [
            (keys[1], SanityWarning(check: .gradientMasking, message: "b")),
            (keys[0], SanityWarning(check: .notMonotoneInEpsilon, message: "z")),
            (keys[0], SanityWarning(check: .notMonotoneInEpsilon, message: "a")),
        ]
        var pages: [String] = []
        for order in [warnings, warnings.reversed()] {
            try store.replaceWarnings(with: order)
            try Report(store: store).write(to: directory)
            let markdown = try String(contentsOf: directory.appendingPathComponent("report.md"), encoding: .utf8)
            pages.append(String(markdown[markdown.range(of: "## Sanity checks")!.lowerBound...]))
        }
        #expect(pages[0] == pages[1], "\(pages)")
        #expect(
            pages[0].contains(
                "- warning not_monotone_in_epsilon: a\n- warning not_monotone_in_epsilon: z\n- warning gradient_masking: b"))
    }
}

extension ReportTests {
    /// A sweep runs each policy's clean episodes once and pairs every cell with them: every
    /// stored report equals the report of an evaluation of that cell alone, clean episodes and all.
    @Test func sweepCellsEqualIndependentEvaluations() throws {
        let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-shared-clean-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let policies = ["cartpole-dqn", "cartpole-ppo"].map { "\(root.path)/policies/\($0).safetensors" }
        let spec = try SweepSpec(
            yaml: """
                policies: ["\(policies[0])", "\(policies[1])"]
                attacks: [fgsm, "pgd:steps=3"]
                epsilons: [0.05, 0.2]
                units: std
                seeds: [3, 40]
                episodes: 3
                """, file: "s.yaml", baseDirectory: root)
        let store = try ResultsStore(path: directory.appendingPathComponent("r.sqlite").path)
        #expect(try Sweep(spec: spec, jobs: 2).run(store: store) == 16)
        let stored = try store.reportsByPolicyAndSeed().flatMap { $0 }
        #expect(stored.count == 16)
        for (key, report) in stored {
            let cell = try #require(spec.cells.first { $0.key == key })
            let evaluation = AttackEvaluation(
                policy: try Toolkit.standard.loadPolicy(contentsOf: URL(fileURLWithPath: cell.policy)),
                environment: "CartPole-v1",
                episodes: cell.episodes, seed: cell.seed, norm: cell.norm, units: cell.units)
            let alone = try evaluation.run(
                try Toolkit.standard.makeAttack(cell.attack), epsilon: cell.epsilon, clean: try evaluation.cleanEpisodes())
            #expect(report.clean.returns == alone.clean.returns && report.attacked.returns == alone.attacked.returns, "\(key)")
            #expect(report.actionFlipRate.value == alone.actionFlipRate.value && report.queries == alone.queries, "\(key)")
            #expect(report.threatModel.scale == alone.threatModel.scale, "\(key)")
        }
    }
}

extension ReportTests {
    /// On image observations (MinAtar's Breakout, a random convolutional Q-network attacked
    /// with PGD at 3/255) the episode player carries the image layout and, for every attacked
    /// frame, the saliency map of the clean action: at the first frame it is the finite-difference
    /// gradient of that action's Q-value at the episode's first observation.
    @Test func episodePlayerDrawsImageSaliency() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-image-report-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let conv = try Conv2d(inputChannels: 4, outputChannels: 4, kernelSize: 3, inputHeight: 10, inputWidth: 10)
        let network = try Sequential<Float>(
            modules: [.conv2d(conv), .activation(.tanh), .flatten, .linear(inputs: conv.outputSize, outputs: 3)],
            random: RandomStream(seed: 4))
        let policy = Policy(network: network, kind: .greedyQ, actionSpace: .discrete(3))
        let policyPath = directory.appendingPathComponent("cnn.safetensors")
        try policy.file(environment: "MinAtar/Breakout-v1", algorithm: "random", provenance: [:]).write(to: policyPath)
        let spec = try SweepSpec(
            yaml: """
                policies: ["\(policyPath.path)"]
                attacks: [pgd]
                epsilons: [0.011764705882352941]
                episodes: 1
                """, file: "s.yaml", baseDirectory: directory)
        let store = try ResultsStore(path: directory.appendingPathComponent("r.sqlite").path)
        try Sweep(spec: spec, jobs: 1).run(store: store)
        try Report(store: store).write(to: directory)
        let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        let start = try #require(html.range(of: #"<script id="player-data" type="application/json">"#))
        let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
        let json = html[start.upperBound..<end.lowerBound].replacingOccurrences(of: "<\\/", with: "</")
        let data = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let image = try #require(data["image"] as? [String: Any])
        #expect(image["channels"] as? Int == 4 && image["height"] as? Int == 10 && image["channels_last"] as? Bool == false)
        let attacked = try #require(data["attacked"] as? [[String: Any]])
        let gradients = attacked.dropLast().compactMap { $0["gradient"] as? [Double] }
        #expect(gradients.count == attacked.count - 1 && gradients.allSatisfy { $0.count == 400 })
        // The episode's first observation, from the seed its clean twin ran with.
        let row = try #require(try store.rows().first { $0.epsilon > 0 })
        let clean = try EpisodeRunner(policy: policy, environment: "MinAtar/Breakout-v1").run(
            episodes: 1, seed: UInt64(row.seed))
        let env = try Registry.make("MinAtar/Breakout-v1")
        let first = env.reset(seed: clean[0].seed).map(Double.init)
        let reference = policy.converted(to: Double.self)
        let action = argmax(reference.outputs(Matrix(row: first)).row(0))
        #expect(attacked[0]["clean_action"] as? String == "\(action)")
        let numeric = numericalGradient(of: { reference.outputs(Matrix(row: $0))[0, action] }, at: first)
        #expect(maximumRelativeError(gradients[0], numeric) < 1e-4, "\(gradients[0].prefix(5)) vs \(numeric.prefix(5))")
    }
}

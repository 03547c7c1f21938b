import Agents
import Attacks
import Defenses
import Environments
import Evaluation
import Foundation
import Linalg
import TestSupport
import Testing

private let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()

/// Evaluations of defended shipped policies with attacks adapted to the defense: the sanity
/// checks must not see gradient masking (a random attack beating every white-box one).
@Suite struct AdaptiveEvaluationTests {
    func reports(_ policy: Policy<Float>, attacks: [String], epsilons: [Double]) throws -> [AttackReport] {
        let evaluation = AttackEvaluation(policy: policy, environment: "CartPole-v1", episodes: 4, seed: 0)
        let clean = try evaluation.cleanEpisodes()
        var reports: [AttackReport] = []
        for epsilon in epsilons {
            for spec in attacks {
                reports.append(try evaluation.run(try AttackRegistry.standard.make(spec), epsilon: epsilon, clean: clean))
            }
        }
        return reports
    }

    /// Quantisation (BPDA gradient) and a majority-vote ensemble (BPDA through the mean): white-box
    /// attacks stay ahead of random ones.
    @Test func bpdaLeavesNoGradientMasking() throws {
        let base = try Policy.load(contentsOf: root.appendingPathComponent("policies/cartpole-dqn.safetensors"))
        var quantized = base
        quantized.defenses = [try Quantization(step: 0.02, scale: [1, 1, 1, 1])]
        // Members: the shipped network with its weights jittered by 2% (stand-ins for other seeds).
        let random = RandomStream(seed: 3)
        let members = (0..<2).map { _ in
            var member = base.network
            member.parameters = member.parameters.map { $0 * Float(1 + 0.02 * random.normal()) }
            return member
        }
        var vote = base
        vote.defenses = [try Ensemble(members: members, aggregation: .vote, discrete: true, base: base.network)]
        for policy in [quantized, vote] {
            let results = try reports(policy, attacks: ["uniform", "fgsm", "pgd"], epsilons: [0.2])
            let warnings = SanityChecks.run(results, tolerance: 1)
            #expect(!warnings.contains { $0.check == .gradientMasking }, "\(warnings)")
            let pgd = results.filter { $0.attack.hasPrefix("pgd") }.map(\.attacked.meanReturn)
            let random = results.filter { $0.attack == "uniform" }.map(\.attacked.meanReturn)
            #expect(zip(pgd, random).allSatisfy { $0 < $1 })
        }
    }
}

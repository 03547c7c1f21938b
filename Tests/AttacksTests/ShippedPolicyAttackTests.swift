import Agents
import Attacks
import Evaluation
import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

/// Attacks on the shipped CartPole policies, end to end through the episode runner.
@Suite struct ShippedPolicyAttackTests {
    static let policyURL = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("policies/cartpole-ppo.safetensors")

    @Test func pgdAtALargeEpsilonDrivesTheReturnFarDown() throws {
        let policy = try Policy.load(contentsOf: Self.policyURL)
        let evaluation = AttackEvaluation(policy: policy, environment: "CartPole-v1", episodes: 8, seed: 0)
        let clean = try evaluation.cleanEpisodes()
        let report = try evaluation.run(PGD(), epsilon: 0.3, clean: clean)
        #expect(report.clean.meanReturn > 450)
        #expect(report.attacked.meanReturn < 0.2 * report.clean.meanReturn, "PGD left \(report.attacked.meanReturn)")
        #expect(report.rewardDrop.ci95[0] > 0 && report.actionFlipRate.value > 0.3)
    }

    @Test func atZeroEpsilonEveryAttackLeavesReturnsUnchanged() throws {
        let policy = try Policy.load(contentsOf: Self.policyURL)
        let evaluation = AttackEvaluation(policy: policy, environment: "CartPole-v1", episodes: 4, seed: 3)
        let clean = try evaluation.cleanEpisodes()
        for (description, spec) in catalogueSpecs()
        where description.environmentPrefix.map({ "CartPole-v1".hasPrefix($0) }) ?? true {
            let attack = try testCatalogue.make(spec, context: policyContext(kind: policy.kind, dimension: 4, outputs: 2))
            guard (try? attack.validate(for: policy)) != nil else { continue }
            let report = try evaluation.run(attack, epsilon: 0, clean: clean)
            #expect(report.attacked.returns == report.clean.returns, "\(spec)")
            #expect(report.actionFlipRate.value == 0 && report.rewardDrop.mean == 0, "\(spec)")
        }
    }

    @Test func stdUnitsScaleTheBallByTheCleanStandardDeviations() throws {
        let policy = try Policy.load(contentsOf: Self.policyURL)
        let evaluation = AttackEvaluation(policy: policy, environment: "CartPole-v1", episodes: 3, seed: 0, units: .std)
        let clean = try evaluation.cleanEpisodes()
        let model = try evaluation.threatModel(epsilon: 0.5, clean: clean)
        let observations = clean.flatMap(\.observations)
        #expect(observations.count == clean.reduce(0) { $0 + $1.length })
        for j in 0..<4 {
            #expect(abs(model.scale[j] - Statistics.standardDeviation(observations.map { Double($0[j]) })) < 1e-12)
        }
    }

    /// Normalized units are the policy's own normalisation: a ball of ε there is ε·σ_j in raw
    /// units, σ the standard deviations in the file (acrobot-ppo normalises); a policy without
    /// normalisation is refused with a clear error.
    @Test func normalizedUnitsAreThePolicysNormalisation() throws {
        let root = Self.policyURL.deletingLastPathComponent()
        let file = try PolicyFile.load(contentsOf: root.appendingPathComponent("acrobot-ppo.safetensors"))
        let stored = try #require(file.description.normalization)
        let policy = try Policy.load(contentsOf: root.appendingPathComponent("acrobot-ppo.safetensors"))
        let evaluation = AttackEvaluation(policy: policy, environment: "Acrobot-v1", episodes: 1, seed: 0, units: .normalized)
        let model = try evaluation.threatModel(epsilon: 0.1, clean: [])
        #expect(model.scale == stored.std.map { Double(Float($0)) } && model.units == .normalized)
        let unnormalised = AttackEvaluation(
            policy: try Policy.load(contentsOf: Self.policyURL), environment: "CartPole-v1", episodes: 1, seed: 0,
            units: .normalized)
        #expect { try unnormalised.threatModel(epsilon: 0.1, clean: []) } throws: {
            "\($0)".contains("needs a policy that normalises its observations")
        }
    }
}

import Agents
import Attacks
import Environments
import Linalg
import NeuralNet
import TestSupport
import Testing

@Suite struct CriticAttackTests {
    func policyWithCritic(takesAction: Bool, scaled: Bool) throws -> Policy<Double> {
        let random = RandomStream(seed: takesAction ? 5 : 6)
        let actor = try Sequential<Double>.mlp(
            sizes: [3, 8, 2], activation: .tanh, outputActivation: takesAction ? .tanh : .identity, random: random)
        let critic = try Sequential<Double>.mlp(sizes: [3 + (takesAction ? 2 : 0), 8, 1], activation: .tanh, random: random)
        let scaling = scaled ? ObservationScaling<Double>(mean: [0.1, -0.2, 0.3], std: [0.5, 2, 1.5], clip: 10) : nil
        return Policy(
            network: actor, kind: takesAction ? .deterministic : .categorical,
            actionSpace: takesAction ? .box(BoxSpace(symmetric: [1, 1])) : .discrete(2), scaling: scaling,
            critic: critic, criticTakesAction: takesAction)
    }

    /// The value's input gradient matches finite differences: V(s) through the scaling, and
    /// Q(s, π(s)) through both the critic and the actor.
    @Test func valueGradientMatchesFiniteDifferences() throws {
        var policies = [
            try policyWithCritic(takesAction: false, scaled: true), try policyWithCritic(takesAction: true, scaled: false),
        ]
        let q = try Sequential<Double>.mlp(sizes: [3, 8, 4], activation: .relu, random: RandomStream(seed: 7))
        policies.append(Policy(network: q, kind: .greedyQ, actionSpace: .discrete(4)))
        let x = randomMatrix(rows: 1, columns: 3, random: RandomStream(seed: 8))
        for policy in policies {
            let (_, gradient) = try #require(policy.valueAndInputGradient(x))
            let numeric = numericalGradient(of: { policy.valueAndInputGradient(Matrix(row: $0))!.values[0] }, at: x.storage)
            #expect(maximumRelativeError(gradient.storage, numeric) < 1e-6, "\(policy.kind)")
        }
        let plain = Policy(network: policies[0].network, kind: .categorical, actionSpace: .discrete(2))
        #expect(plain.valueAndInputGradient(x) == nil)
        #expect(throws: AttackError.self) { try CriticAttack().validate(for: plain) }
    }

    @Test func criticAttackLowersTheCriticsValue() throws {
        let policy = try policyWithCritic(takesAction: false, scaled: true)
        let observations = randomMatrix(rows: 32, columns: 3, random: RandomStream(seed: 9))
        let model = ThreatModel(epsilon: 0.3, bounds: BoxSpace(symmetric: Array(repeating: .infinity, count: 3)))
        let perturbed = CriticAttack().perturb(observations, policy: policy, threatModel: model, random: RandomStream(seed: 10))
            .perturbed
        let before = policy.valueAndInputGradient(observations)!.values
        let after = policy.valueAndInputGradient(perturbed)!.values
        #expect(zip(before, after).allSatisfy { $0 > $1 })
        #expect(model.distance(perturbed, from: observations).allSatisfy { $0 <= 0.3 + 1e-12 })
    }

    @Test func policyFilesKeepTheCritic() throws {
        let policy = try policyWithCritic(takesAction: true, scaled: false).converted(to: Float.self)
        let file = policy.file(environment: "MountainCarContinuous-v0", algorithm: "td3", provenance: [:])
        #expect(file.description.critic != nil && file.description.criticTakesAction == true)
        // Through bytes and back (the environment's action space has one dimension: rebuild for it).
        let restored = try PolicyFile(Safetensors(data: file.safetensors.serialized()))
        #expect(try restored.critic() == policy.critic)
    }
}

import Agents
import Attacks
import Environments
import Foundation
import Linalg
import NeuralNet

/// Attacked-evaluation throughput: environment steps per second of a vector environment whose
/// policy acts on attacked observations at every step (auto-reset), for the comparison with
/// PyTorch + Gymnasium in `bench/` (the same MLP shape, copies, attack and step budget).
public struct AttackThroughputBenchmark: Sendable {
    public var environment: String
    public var copies: Int
    public var hidden: [Int]
    public var attack: String
    public var epsilon: Double
    /// Vector steps per repeat.
    public var vectorSteps: Int
    public var repeats: Int

    public init(
        environment: String = "CartPole-v1", copies: Int, hidden: [Int] = [64, 64], attack: String, epsilon: Double = 0.1,
        vectorSteps: Int, repeats: Int = 3
    ) {
        self.environment = environment
        self.copies = copies
        self.hidden = hidden
        self.attack = attack
        self.epsilon = epsilon
        self.vectorSteps = vectorSteps
        self.repeats = repeats
    }

    public struct Result: Sendable, Codable {
        public var environment: String
        public var copies: Int
        public var attack: String
        public var seconds: TimingSummary
        public var stepsPerSecondBest: Double
        public var stepsPerSecondMedian: Double
    }

    public func run() throws -> Result {
        let vector = try VectorEnvironment(id: environment, count: copies)
        let space = vector.environments[0].base
        guard let actionCount = space.actionSpace.actionCount else {
            throw EnvironmentError("the benchmark needs a discrete action space")
        }
        let network = try Sequential<Float>.mlp(
            sizes: [space.observationSpace.dimension] + hidden + [actionCount], activation: .relu,
            random: RandomStream(seed: 0))
        let policy = Policy(network: network, kind: .greedyQ, actionSpace: space.actionSpace)
        let model = ThreatModel(epsilon: epsilon, bounds: space.observationSpace)
        let attack = try AttackRegistry.standard.make(attack).prepared(
            for: policy, environment: environment, threatModel: model, progress: nil)
        let random = RandomStream(seed: 1)
        vector.reset(seed: 0)
        var samples: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<vectorSteps {
                let perturbed = attack.perturb(vector.observations, policy: policy, threatModel: model, random: random).perturbed
                vector.step(policy.actions(perturbed))
            }
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let timing = TimingSummary(samples: samples)
        let steps = Double(vectorSteps * copies)
        return Result(
            environment: environment, copies: copies, attack: attack.spec, seconds: timing,
            stepsPerSecondBest: steps / timing.minimum, stepsPerSecondMedian: steps / timing.median)
    }
}

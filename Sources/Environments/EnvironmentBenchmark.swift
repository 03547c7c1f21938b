import Foundation
import Linalg

/// Raw environment throughput: steps per second of a vector environment under uniformly random
/// actions drawn in advance (so only the environment is timed), with auto-reset.
public struct EnvironmentBenchmark: Sendable {
    public var environment: String
    public var copies: Int
    public var steps: Int
    public var repeats: Int
    /// Threads stepping the copies (`VectorEnvironment.threads`).
    public var threads: Int

    public init(environment: String, copies: Int, steps: Int = 100_000, repeats: Int = 5, threads: Int = 1) {
        self.environment = environment
        self.copies = copies
        self.steps = steps
        self.repeats = repeats
        self.threads = threads
    }

    public struct Result: Codable, Sendable {
        public var environment: String
        public var copies: Int
        public var threads: Int
        public var stepsPerRepeat: Int
        public var seconds: TimingSummary
        /// Environment steps (summed over copies) per second, from the fastest and median repeat.
        public var stepsPerSecondBest: Double
        public var stepsPerSecondMedian: Double
    }

    public func run() throws(EnvironmentError) -> Result {
        let vector = try VectorEnvironment(id: environment, count: copies)
        vector.threads = threads
        let random = RandomStream(seed: 0)
        let batches = max(1, steps / copies)
        let space = vector.environments[0].base.actionSpace
        let actions: [[Action]] = (0..<min(batches, 1024)).map { _ in (0..<copies).map { _ in space.sample(random) } }
        vector.reset(seed: 0)
        var samples: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            for b in 0..<batches { vector.step(actions[b % actions.count]) }
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let timing = TimingSummary(samples: samples)
        let total = Double(batches * copies)
        return Result(
            environment: environment, copies: copies, threads: threads, stepsPerRepeat: batches * copies, seconds: timing,
            stepsPerSecondBest: total / timing.minimum, stepsPerSecondMedian: total / timing.median)
    }
}

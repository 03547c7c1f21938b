import Environments
import Linalg
import TestSupport
import Testing

@Suite struct VectorEnvironmentTests {
    /// Copies reset with seeds S, S+1, … and step exactly as single environments do.
    @Test func copiesMatchSingleEnvironments() throws {
        let vector = try VectorEnvironment(id: "CartPole-v1", count: 3)
        let observations = vector.reset(seed: 10)
        for i in 0..<3 {
            let single = try Registry.make("CartPole-v1")
            #expect(single.reset(seed: 10 + UInt64(i)) == observations.row(i))
            vector.step([.discrete(1), .discrete(0), .discrete(1)])
            let result = single.step(.discrete(i == 1 ? 0 : 1))
            #expect(vector.observations.row(i) == result.observation)
            _ = vector.reset(seed: 10)
        }
    }

    /// Gymnasium's NEXT_STEP autoreset: the final observation is returned, then the next step
    /// resets with reward 0 and no flags, ignoring the action.
    /// Stepping copies on several threads changes nothing: observations, rewards, flags, final
    /// observations and episode statistics equal the one-thread run's bit for bit, through
    /// terminations and resets (Hopper falls over under random actions), in both autoreset modes.
    @Test(arguments: [VectorEnvironment.AutoresetMode.nextStep, .sameStep])
    func threadCountDoesNotChangeResults(mode: VectorEnvironment.AutoresetMode) throws {
        func run(threads: Int) throws -> [String] {
            let vector = try VectorEnvironment(id: "Hopper-v5", count: 7, autoresetMode: mode)
            vector.threads = threads
            vector.reset(seed: 4)
            let random = RandomStream(seed: 9)
            let space = vector.environments[0].base.actionSpace
            var trace: [String] = []
            for _ in 0..<150 {
                vector.step((0..<vector.count).map { _ in space.sample(random) })
                trace.append(
                    "\(vector.observations.storage) \(vector.rewards) \(vector.terminated) \(vector.truncated) \(vector.finalObservations.sorted { $0.key < $1.key }.map(\.value))"
                )
            }
            trace.append("\(vector.statistics)")
            return trace
        }
        let one = try run(threads: 1)
        #expect(one.joined().contains("true"), "no episode ended: the test would not cover resets")
        for threads in [2, 3, 7] { #expect(try run(threads: threads) == one, "threads \(threads)") }
    }

    @Test func nextStepAutoreset() throws {
        let vector = try VectorEnvironment(id: "CartPole-v1", count: 2)
        vector.reset(seed: 1)
        var steps = 0
        while !vector.terminated[0] {
            vector.step([.discrete(1), .discrete(0)])
            steps += 1
        }
        let final = vector.observations.row(0)
        #expect(abs(final[0]) > 2.4 || abs(final[2]) > 0.2094)
        vector.step([.discrete(1), .discrete(1)])
        #expect(vector.rewards[0] == 0 && !vector.terminated[0] && !vector.truncated[0])
        #expect(vector.observations.row(0).allSatisfy { abs($0) <= 0.05 })
        #expect(vector.statistics.completed.contains { $0.copy == 0 && $0.length == steps && $0.episodeReturn == Double(steps) })
    }

    /// SAME_STEP autoreset: the batch holds the reset observation and the final one is kept aside.
    @Test func sameStepAutoreset() throws {
        let vector = try VectorEnvironment(id: "CartPole-v1", count: 1, autoresetMode: .sameStep)
        vector.reset(seed: 2)
        while !vector.terminated[0] { vector.step([.discrete(1)]) }
        let final = try #require(vector.finalObservations[0])
        #expect(abs(final[0]) > 2.4 || abs(final[2]) > 0.2094)
        #expect(vector.observations.row(0).allSatisfy { abs($0) <= 0.05 })
        #expect(vector.statistics.completed.count == 1)
    }

    @Test func truncationAtTheTimeLimit() throws {
        let vector = try VectorEnvironment(id: "Pendulum-v1", count: 2)
        vector.reset(seed: 0)
        for t in 1...200 {
            vector.step([.continuous([0.5]), .continuous([-0.5])])
            #expect(vector.truncated == [t == 200, t == 200])
            #expect(vector.terminated == [false, false])
        }
        #expect(vector.statistics.completed.map(\.length) == [200, 200])
        #expect(vector.statistics.totalSteps == 400)
    }

    @Test func observationNormalizerMatchesBatchStatistics() {
        let random = RandomStream(seed: 1)
        var normalizer = ObservationNormalizer(dimension: 2)
        var all: [[Double]] = [[], []]
        for _ in 0..<20 {
            let batch = Matrix<Float>(
                rows: 16, columns: 2,
                storage: (0..<32).map { i in
                    Float(i % 2 == 0 ? random.normal(mean: 3, standardDeviation: 2) : random.uniform(-1, 0))
                })
            normalizer.update(batch)
            for r in 0..<16 { for j in 0..<2 { all[j].append(Double(batch[r, j])) } }
        }
        for j in 0..<2 {
            let n = Double(all[j].count)
            #expect(abs(normalizer.mean[j] - Statistics.mean(all[j])) < 1e-6)
            #expect(abs(normalizer.variance[j] - Statistics.variance(all[j]) * (n - 1) / n) < 1e-5)
        }
        var frozen = normalizer
        frozen.frozen = true
        frozen.update(Matrix(rows: 1, columns: 2, storage: [100, 100]))
        #expect(frozen.mean == normalizer.mean)
        let normalized = normalizer.normalize(Matrix(rows: 1, columns: 2, storage: [Float(normalizer.mean[0]), 1e6]))
        #expect(abs(normalized[0, 0]) < 1e-6 && normalized[0, 1] == 10)
    }
}

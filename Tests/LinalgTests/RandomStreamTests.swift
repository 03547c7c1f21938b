import Linalg
import Testing

@Suite struct RandomStreamTests {
    @Test func theSameSeedGivesTheSameNumbers() {
        let a = RandomStream(seed: 42)
        let b = RandomStream(seed: 42)
        #expect((0..<100).map { _ in a.uniform() } == (0..<100).map { _ in b.uniform() })
        #expect((0..<100).map { _ in a.normal() } == (0..<100).map { _ in b.normal() })
        #expect(a.permutation(50) == b.permutation(50))
    }

    @Test func childrenAreDeterministicAndDistinct() {
        let root = RandomStream(seed: 7)
        let env = root.child("env")
        let attack = root.child("attack")
        #expect(root.child("env").uniform() == env.uniform())
        #expect(RandomStream(seed: 7).child("attack").uniform() == attack.uniform())
        let draws = Set((0..<200).map { root.child($0).uniform() })
        #expect(draws.count == 200)
        #expect(root.child("env").uniform() != root.child("attack").uniform())
        // Drawing from the parent does not change what a child gives.
        _ = root.uniform()
        #expect(RandomStream(seed: 7).child(3).normal() == root.child(3).normal())
    }

    @Test func nearbySeedsGiveUnrelatedStreams() {
        let first = (0..<64).map { RandomStream(seed: UInt64($0)).uniform() }
        #expect(Set(first).count == 64)
    }

    @Test func savedStateResumesTheSequence() {
        let stream = RandomStream(seed: 99)
        _ = (0..<1000).map { _ in stream.normal() }
        let saved = stream.state
        let expected = (0..<50).map { _ in stream.uniform() }
        let resumed = RandomStream(seed: 1)
        resumed.restore(state: saved)
        #expect((0..<50).map { _ in resumed.uniform() } == expected)
        let twin = stream.copy()
        #expect(twin.normal() == stream.normal())
    }

    @Test func distributionsHaveTheirMoments() {
        let stream = RandomStream(seed: 5)
        let n = 200_000
        let uniforms = (0..<n).map { _ in stream.uniform() }
        #expect(uniforms.allSatisfy { (0..<1).contains($0) })
        // Standard errors: uniform mean 1/√(12n) ≈ 6.5e-4, normal mean 1/√n ≈ 2.2e-3, variance √(2/n) ≈ 3.2e-3.
        #expect(abs(Statistics.mean(uniforms) - 0.5) < 5 * 6.5e-4)
        let normals = (0..<n).map { _ in stream.normal(mean: 2, standardDeviation: 3) }
        #expect(abs(Statistics.mean(normals) - 2) < 5 * 3 * 2.3e-3)
        #expect(abs(Statistics.variance(normals) / 9 - 1) < 5 * 3.2e-3)
        let integers = (0..<n).map { _ in stream.integer(below: 6) }
        #expect(Set(integers) == Set(0..<6))
        let flat = (0..<n).map { _ in stream.uniform(-2, 3) }
        #expect(flat.allSatisfy { (-2..<3).contains($0) })
    }

    @Test func categoricalFrequenciesFollowTheWeights() {
        let stream = RandomStream(seed: 8)
        let weights: [Float] = [1, 0, 3, 6]
        var counts = [0, 0, 0, 0]
        let n = 100_000
        for _ in 0..<n { counts[stream.categorical(weights)] += 1 }
        #expect(counts[1] == 0)
        for (count, w) in zip(counts, weights) {
            let p = Double(w) / 10
            let sigma = (Double(n) * p * (1 - p)).squareRoot()
            #expect(abs(Double(count) - Double(n) * p) <= 5 * sigma)
        }
    }

    @Test func permutationsArePermutations() {
        let stream = RandomStream(seed: 2)
        for n in [0, 1, 2, 17, 100] {
            #expect(stream.permutation(n).sorted() == Array(0..<n))
        }
        var values = Array(0..<1000)
        stream.shuffle(&values)
        #expect(values != Array(0..<1000) && values.sorted() == Array(0..<1000))
    }
}

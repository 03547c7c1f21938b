import Linalg
import NeuralNet
import Testing

@testable import Verification

/// Complete verification on random small piecewise-linear networks, checked against dense
/// sampling of the box.
@Suite struct CompleteVerifierTests {
    static func network(seed: UInt64, activation: Activation) -> Sequential<Double> {
        try! Sequential<Double>.mlp(sizes: [3, 8, 8, 3], activation: activation, random: RandomStream(seed: seed))
    }

    /// Every witness lies in the box and makes its target the strictly largest output; every
    /// "impossible" agrees with 4096 uniform samples and the 8 corners of the box; on networks
    /// this small nothing is left undecided.
    @Test(arguments: [Activation.relu, .leakyReLU(slope: 0.1)])
    func witnessesForceTheirTargetAndProofsAgreeWithSampling(_ activation: Activation) throws {
        let verifier = CompleteVerifier(timeLimit: 30)
        var witnesses = 0
        var proofs = 0
        for seed in 0..<12 {
            let network = Self.network(seed: UInt64(seed), activation: activation)
            let random = RandomStream(seed: UInt64(100 + seed))
            let center = (0..<3).map { _ in random.uniform(-1.0, 1.0) }
            let radius = [0.05, 0.2, 0.6][seed % 3]
            let (lower, upper) = (center.map { $0 - radius }, center.map { $0 + radius })
            let problem = try verifier.problem(network: network, lower: lower, upper: upper)
            var samples = (0..<8).map { corner in (0..<3).map { corner >> $0 & 1 == 1 ? upper[$0] : lower[$0] } }
            samples += (0..<4096).map { _ in (0..<3).map { random.uniform(lower[$0], upper[$0]) } }
            let outputs = network.forward(Matrix(samples), workspace: Workspace(for: network, batch: samples.count))
            for target in 0..<3 {
                switch try verifier.canForce(target, in: problem) {
                case .witness(let point):
                    witnesses += 1
                    #expect(zip(zip(point, lower), upper).allSatisfy { $0.0 >= $0.1 && $0.0 <= $1 }, "seed \(seed)")
                    #expect(CompleteVerifier.strictlyLargest(target, at: point, network: network), "seed \(seed)")
                case .impossible:
                    proofs += 1
                    for r in 0..<samples.count {
                        let row = outputs.row(r)
                        #expect(
                            !row.indices.allSatisfy { $0 == target || row[$0] < row[target] }, "seed \(seed) target \(target)")
                    }
                case .undecided(let why):
                    Issue.record("seed \(seed) target \(target) undecided: \(why)")
                }
            }
        }
        // Both answers occur, so neither half of the check is vacuous.
        #expect(witnesses > 5 && proofs > 5, "\(witnesses) witnesses, \(proofs) proofs")
    }

    /// The mixed-integer program (the second half of a question's time) answers as the phase
    /// search does: the same questions possible, the same impossible.
    @Test func theMixedIntegerProgramAgreesWithThePhaseSearch() throws {
        let verifier = CompleteVerifier(timeLimit: 30)
        var compared = 0
        for seed in 0..<8 {
            let network = Self.network(seed: UInt64(seed), activation: seed % 2 == 0 ? .relu : .leakyReLU(slope: 0.1))
            let center = (0..<3).map { Double($0) * 0.3 - 0.3 + Double(seed) * 0.05 }
            let radius = [0.1, 0.4][seed % 2]
            let problem = try verifier.problem(
                network: network, lower: center.map { $0 - radius }, upper: center.map { $0 + radius })
            let layers = try CompleteVerifier.layers(of: network)
            for target in 0..<3 {
                let search = try verifier.canForce(target, in: problem)
                guard let program = verifier.mixedInteger(layers, problem, target: target, timeLimit: 30) else {
                    Issue.record("seed \(seed) target \(target): the program decided nothing")
                    continue
                }
                switch (search, program) {
                case (.witness, .witness(let point)):
                    #expect(CompleteVerifier.strictlyLargest(target, at: point, network: network))
                case (.impossible, .impossible): break
                default: Issue.record("seed \(seed) target \(target): search \(search), program \(program)")
                }
                compared += 1
            }
        }
        #expect(compared == 24)
    }

    /// The relaxed bounds of every hidden neuron contain the values dense sampling reaches.
    @Test func neuronBoundsContainSampledPreActivations() throws {
        let network = Self.network(seed: 7, activation: .relu)
        let (lower, upper) = ([-0.3, 0.1, -1.0], [0.4, 0.5, -0.2])
        let problem = try CompleteVerifier().problem(network: network, lower: lower, upper: upper)
        let random = RandomStream(seed: 8)
        for _ in 0..<2000 {
            var h = (0..<3).map { random.uniform(lower[$0], upper[$0]) }
            for k in 0..<2 {
                let w = network.weight(k)
                let b = network.bias(k)
                let x = (0..<w.rows).map { i in (0..<w.columns).reduce(b[i]) { $0 + w[i, $1] * h[$1] } }
                for i in x.indices {
                    #expect(x[i] >= problem.hiddenBounds[k].lower[i] - 1e-9 && x[i] <= problem.hiddenBounds[k].upper[i] + 1e-9)
                }
                h = x.map { max($0, 0) }
            }
        }
    }

    /// A question that runs out of time is undecided, never answered.
    @Test func timeLimitYieldsUndecided() throws {
        let network = try Sequential<Double>.mlp(sizes: [16, 64, 64, 4], activation: .relu, random: RandomStream(seed: 3))
        let verifier = CompleteVerifier(timeLimit: 1e-9)
        let problem = try verifier.problem(
            network: network, lower: [Double](repeating: -1, count: 16), upper: [Double](repeating: 1, count: 16))
        for target in 0..<4 {
            guard case .undecided(let why) = try verifier.canForce(target, in: problem) else {
                Issue.record("target \(target) answered within 1e-9 s")
                continue
            }
            #expect(why.contains("time limit"))
        }
    }

    /// Networks that are not piecewise linear, or end in an activation, are refused.
    @Test func refusesWhatItCannotEncode() throws {
        let tanh = try Sequential<Double>.mlp(sizes: [2, 4, 2], activation: .tanh, random: RandomStream(seed: 1))
        #expect(throws: VerificationError.self) {
            _ = try CompleteVerifier().problem(network: tanh, lower: [0, 0], upper: [1, 1])
        }
        let squashed = try Sequential<Double>.mlp(
            sizes: [2, 4, 2], activation: .relu, outputActivation: .tanh, random: RandomStream(seed: 1))
        #expect(throws: VerificationError.self) {
            _ = try CompleteVerifier().problem(network: squashed, lower: [0, 0], upper: [1, 1])
        }
    }
}

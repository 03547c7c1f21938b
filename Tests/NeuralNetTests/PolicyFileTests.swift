import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

private struct Samples: Codable {
    var inputs: [[Float]]
    var outputs: [[Float]]
}

@Suite struct PolicyFileTests {
    /// The policy behind `gauntlet_policy.safetensors`: a fixed seed's MLP with every kind of
    /// metadata field set.
    static func goldenPolicy() throws -> PolicyFile {
        let network = try Sequential<Float>.mlp(sizes: [4, 32, 32, 2], activation: .relu, random: RandomStream(seed: 2026))
        let description = PolicyDescription(
            environment: "CartPole-v1", algorithm: "dqn", kind: "greedy-q",
            normalization: .init(mean: [0, 0.5, 0, -0.5], std: [1, 2, 0.25, 1]),
            provenance: ["seed": "2026", "writer": "Gauntlet tests"])
        return PolicyFile(network: network, description: description)
    }

    static func goldenInputs() -> Matrix<Float> {
        let random = RandomStream(seed: 77)
        return Matrix(rows: 6, columns: 4, storage: (0..<24).map { _ in Float(random.normal()) })
    }

    @Test func roundTripThroughAFile() throws {
        let policy = try Self.goldenPolicy()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-policy-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try policy.write(to: url)
        let loaded = try PolicyFile.load(contentsOf: url)
        #expect(loaded == policy)
        #expect(loaded.network(Self.goldenInputs()) == policy.network(Self.goldenInputs()))
    }

    /// The writer's bytes equal the committed file that `check_gauntlet_policy.py` loads into
    /// `torch.nn.Sequential` and checks against these outputs; set GAUNTLET_UPDATE_FIXTURES=1 to
    /// rewrite it (then run the script).
    @Test func writerOutputLoadsInPyTorch() throws {
        let policy = try Self.goldenPolicy()
        let inputs = Self.goldenInputs()
        let samples = Samples(inputs: inputs.rowArrays, outputs: policy.network(inputs).rowArrays)
        if ProcessInfo.processInfo.environment["GAUNTLET_UPDATE_FIXTURES"] == "1" {
            try policy.write(to: fixtureURL("gauntlet_policy.safetensors"))
            try JSONEncoder().encode(samples).write(to: fixtureURL("gauntlet_policy.json"))
        }
        #expect(try Data(contentsOf: fixtureURL("gauntlet_policy.safetensors")) == policy.safetensors.serialized())
        // The outputs agree to float rounding: OpenBLAS picks its kernel (and so its order of
        // summation) by CPU, and the fixture was written on another one.
        let committed: Samples = try loadFixture("gauntlet_policy.json")
        #expect(zip(committed.outputs.joined(), samples.outputs.joined()).allSatisfy { abs($0 - $1) <= 1e-6 })
        #expect(committed.outputs.joined().count == samples.outputs.joined().count)
    }

    /// A network saved by PyTorch gives PyTorch's outputs.
    @Test func aPolicyWrittenByPyTorchGivesTheSameOutputs() throws {
        let policy = try PolicyFile.load(contentsOf: fixtureURL("torch_policy.safetensors"))
        #expect(policy.network.sizes == [4, 16, 16, 3])
        #expect(policy.description.kind == "greedy-q")
        let samples: Samples = try loadFixture("torch_policy.json")
        let outputs = policy.network(Matrix(samples.inputs))
        #expect(
            outputs.converted(to: Double.self).maxAbsoluteDifference(to: Matrix(samples.outputs).converted(to: Double.self))
                < 1e-6)
    }

    @Test func missingTensorsOrMismatchedShapesAreClearErrors() throws {
        var file = try Self.goldenPolicy().safetensors
        file.tensors["2.weight"] = nil
        #expect { try PolicyFile(file) } throws: { ($0 as! PolicyFileError).description.contains("missing tensor '2.weight'") }
        file = try Self.goldenPolicy().safetensors
        file.tensors["0.bias"] = .init(shape: [31], float32: [Float](repeating: 0, count: 31))
        #expect { try PolicyFile(file) } throws: { ($0 as! PolicyFileError).description.contains("shape [31]") }
        file = try Self.goldenPolicy().safetensors
        file.tensors["0.bias"] = .init(shape: [32], int64: [Int64](repeating: 0, count: 32))
        #expect { try PolicyFile(file) } throws: { ($0 as! PolicyFileError).description.contains("dtype I64") }
        file = try Self.goldenPolicy().safetensors
        file.tensors["0.bias"] = .init(shape: [32], float32: [Float](repeating: .nan, count: 32))
        #expect { try PolicyFile(file) } throws: { ($0 as! PolicyFileError).description.contains("NaN") }
        file.metadata = [:]
        #expect { try PolicyFile(file) } throws: { ($0 as! PolicyFileError).description.contains("not a Gauntlet policy file") }
        file.metadata = ["gauntlet": #"{"format":1,"architecture":{"modules":[{"type":"conv"}]},"provenance":{}}"#]
        #expect { try PolicyFile(file) } throws: { ($0 as! PolicyFileError).description.contains("unknown module type 'conv'") }
    }

    @Test func extraTensorsTravelWithThePolicy() throws {
        var policy = try Self.goldenPolicy()
        policy.extraTensors["log_std"] = .init(shape: [2], float32: [-0.5, 0.25])
        let reloaded = try PolicyFile(Safetensors(data: policy.safetensors.serialized()))
        #expect(reloaded.extraTensors["log_std"] == policy.extraTensors["log_std"])
    }
}

import Agents
import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

private struct Samples: Decodable {
    var inputs: [[Float]]
    var outputs: [[Float]]
}

@Suite struct PolicyImportTests {
    static let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()

    /// A plain state dict saved by PyTorch imports with the architecture its shapes imply and
    /// gives PyTorch's outputs.
    @Test func aPyTorchStateDictImportsAndMatchesTorch() throws {
        let imported = try PolicyImport.stateDict(
            at: fixtureURL("torch_state_dict.safetensors"), environment: "CartPole-v1", kind: .greedyQ,
            activation: .relu)
        #expect(imported.network.sizes == [4, 32, 32, 2] && imported.description.algorithm == "imported")
        let samples: Samples = try loadFixture("torch_state_dict.json")
        let outputs = imported.network(Matrix(samples.inputs))
        #expect(
            outputs.converted(to: Double.self).maxAbsoluteDifference(to: Matrix(samples.outputs).converted(to: Double.self))
                < 1e-6)
        let policy = try Policy(file: try PolicyFile(Safetensors(data: imported.safetensors.serialized())))
        #expect(policy.kind == .greedyQ)
    }

    @Test func exportIsAPlainStateDictThatImportsBack() throws {
        let file = try PolicyFile.load(contentsOf: Self.root.appendingPathComponent("policies/cartpole-ppo.safetensors"))
        let plain = PolicyImport.stateDict(of: file)
        #expect(plain.metadata.isEmpty && plain.tensors.keys.allSatisfy { Int($0.split(separator: ".")[0]) != nil })
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-export-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try plain.write(to: url)
        let back = try PolicyImport.stateDict(at: url, environment: "CartPole-v1", kind: .categorical, activation: .tanh)
        #expect(back.network == file.network)
    }

    @Test func mismatchesAreClearErrors() throws {
        #expect {
            try PolicyImport.stateDict(
                at: fixtureURL("torch_state_dict.safetensors"), environment: "Acrobot-v1", kind: .greedyQ, activation: .relu)
        } throws: { ($0 as! PolicyFileError).description.contains("takes 4 inputs but Acrobot-v1 observations have 6") }
        #expect {
            try PolicyImport.stateDict(
                at: fixtureURL("torch_state_dict.safetensors"), environment: "MountainCar-v0", kind: .greedyQ, activation: .relu)
        } throws: { ($0 as! PolicyFileError).description.contains("takes 4 inputs") }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-bad-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Safetensors(tensors: [
            "0.weight": .init(shape: [3, 4], float32: Array(repeating: 0, count: 12)),
            "0.bias": .init(shape: [3], float32: [0, 0, 0]),
            "3.weight": .init(shape: [2, 3], float32: Array(repeating: 0, count: 6)),
            "3.bias": .init(shape: [2], float32: [0, 0]),
        ]).write(to: url)
        #expect { try PolicyImport.stateDict(at: url, environment: "CartPole-v1", kind: .greedyQ, activation: .relu) } throws: {
            ($0 as! PolicyFileError).description.contains("expected one activation between")
        }
        try Safetensors(tensors: ["net.0.weight": .init(shape: [2, 4], float32: Array(repeating: 0, count: 8))]).write(to: url)
        #expect { try PolicyImport.stateDict(at: url, environment: "CartPole-v1", kind: .greedyQ, activation: .relu) } throws: {
            ($0 as! PolicyFileError).description.contains("is not an nn.Sequential Linear parameter")
        }
    }
}

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
        #expect(plain.tensors.keys.allSatisfy { Int($0.split(separator: ".")[0]) != nil } && plain.metadata["log_std"] == nil)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-export-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try plain.write(to: url)
        let back = try PolicyImport.stateDict(at: url, environment: "CartPole-v1", kind: .categorical, activation: .tanh)
        #expect(back.network == file.network)
    }

    /// An exported MuJoCo policy acts as Gauntlet's from the export alone: its metadata's
    /// normalisation, clip and log σ with its state dict give the policy's outputs (the mean
    /// action, before the action-space clip) at raw observations and its log σ, to float32
    /// rounding; the critic stays out.
    @Test func exportCarriesTheNormalisationAndLogStd() throws {
        let url = Self.root.appendingPathComponent("policies/hopper-ppo.safetensors")
        let policy = try Policy.load(contentsOf: url)
        let exported = PolicyImport.stateDict(of: try PolicyFile.load(contentsOf: url))
        let description = try JSONDecoder.gauntlet().decode(
            PolicyDescription.self, from: Data(try #require(exported.metadata[PolicyFile.metadataKey]).utf8))
        let logStd = try JSONDecoder().decode([Double].self, from: Data(try #require(exported.metadata["log_std"]).utf8))
        let normalization = try #require(description.normalization)
        #expect(description.kind == "gaussian" && description.critic == nil && normalization.clip == 10)
        #expect(logStd == policy.logStd.map(Double.init))
        // The network read back from the plain state dict alone, fed the normalised observations.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-export-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("hopper.safetensors")
        try exported.write(to: file)
        let network = try PolicyImport.stateDict(at: file, environment: "Hopper-v5", kind: .gaussian, activation: .tanh).network
        let raw = randomMatrix(rows: 8, columns: 11, random: RandomStream(seed: 4)).map { $0 * 3 }.converted(to: Float.self)
        var normalised = raw
        for r in 0..<raw.rows {
            for j in 0..<raw.columns {
                let z = (Double(raw[r, j]) - normalization.mean[j]) / normalization.std[j]
                normalised[r, j] = Float(min(max(z, -normalization.clip!), normalization.clip!))
            }
        }
        let difference = network(normalised).converted(to: Double.self).maxAbsoluteDifference(
            to: policy.outputs(raw).converted(to: Double.self))
        #expect(difference < 1e-5, "\(difference)")
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

import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

/// Convolutional networks against PyTorch (Tests/Fixtures/make_conv_fixtures.py): the state
/// dict loads by its names and shapes; outputs, input gradients and every parameter's gradient
/// agree in Float64 to 1e-10 and the outputs in Float32 to 1e-5; policy files keep the
/// architecture; malformed architectures are errors naming the module.
@Suite struct ConvolutionParityTests {
    struct Fixture: Decodable {
        var modules: [PolicyDescription.Architecture.Module]
        var input: [[Double]]
        var outputGradient: [[Double]]
        var output: [[Double]]
        var outputFloat32: [[Double]]
        var inputGradient: [[Double]]
        var parameterGradients: [String: [Double]]
    }

    static let fixtures: [String: Fixture] = {
        let data = try! Data(contentsOf: fixtureURL("torch_conv.json"))
        return try! JSONDecoder.gauntlet().decode([String: Fixture].self, from: data)
    }()

    /// The network `name` in Float64 from the fixture's state dict, and the same in Float32
    /// loaded as a policy file's network is.
    static func networks(_ name: String) throws -> (Sequential<Double>, Sequential<Float>) {
        let file = try Safetensors.read(contentsOf: fixtureURL("torch_conv.safetensors"))
        var tensors: [String: Safetensors.Tensor] = [:]
        for (key, tensor) in file.tensors where key.hasPrefix(name + ".") {
            tensors[String(key.dropFirst(name.count + 1))] = tensor
        }
        let modules = try PolicyDescription.Architecture(modules: fixtures[name]!.modules).sequentialModules()
        var parameters: [Double] = []
        for (index, module) in modules.enumerated() where module.parameterShapes != nil {
            parameters += tensors["\(index).weight"]!.floatingPoint(as: Double.self)!
            parameters += tensors["\(index).bias"]!.floatingPoint(as: Double.self)!
        }
        let double = try Sequential<Double>(modules: modules.map { $0.converted(to: Double.self) }, parameters: parameters)
        let float = try PolicyFile.network(modules: modules, takingFrom: &tensors)
        #expect(tensors.isEmpty, "tensors left over: \(tensors.keys.sorted())")
        return (double, float)
    }

    static func matrix(_ rows: [[Double]]) -> Matrix<Double> {
        Matrix(rows: rows.count, columns: rows[0].count, storage: rows.flatMap { $0 })
    }

    @Test(arguments: ["minatar", "strided"])
    func matchesPyTorch(name: String) throws {
        let fixture = Self.fixtures[name]!
        let (network, float) = try Self.networks(name)
        let input = Self.matrix(fixture.input)
        let workspace = Workspace(for: network, batch: input.rows)
        let output = network.forward(input, workspace: workspace)
        #expect(maximumRelativeError(output.storage, fixture.output.flatMap { $0 }) < 1e-10)
        var gradient = [Double](repeating: .nan, count: network.parameterCount)
        let inputGradient = network.backward(
            outputGradient: Self.matrix(fixture.outputGradient), workspace: workspace, parameterGradient: &gradient)!
        #expect(maximumRelativeError(inputGradient.storage, fixture.inputGradient.flatMap { $0 }) < 1e-10)
        for (module, layout) in zip(network.modules, network.parameterLayouts) {
            guard let layout else { continue }
            let weight = Array(gradient[layout.weightOffset..<layout.biasOffset])
            let bias = Array(gradient[layout.biasOffset..<(layout.biasOffset + layout.biasCount)])
            #expect(
                maximumRelativeError(weight, fixture.parameterGradients["\(layout.moduleIndex).weight"]!) < 1e-10,
                "\(module.name)")
            #expect(
                maximumRelativeError(bias, fixture.parameterGradients["\(layout.moduleIndex).bias"]!) < 1e-10, "\(module.name)")
        }
        let floatOutput = float(input.converted(to: Float.self)).storage.map(Double.init)
        let expected = fixture.outputFloat32.flatMap { $0 }
        #expect(zip(floatOutput, expected).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
    }

    /// A convolutional policy written and read back: the same network, the architecture in the
    /// description with PyTorch's names for the convolution's arguments.
    @Test func policyFilesKeepConvolutionalNetworks() throws {
        let (_, network) = try Self.networks("strided")
        let file = PolicyFile(network: network, description: PolicyDescription(environment: "MinAtar/Breakout-v1"))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("conv-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try file.write(to: url)
        let loaded = try PolicyFile.load(contentsOf: url)
        #expect(loaded.network == network)
        let json = try #require(loaded.safetensors.metadata[PolicyFile.metadataKey])
        #expect(
            json.contains(#""in_channels":3,"kernel_size":3,"out_channels":8,"padding":1,"stride":2,"type":"conv2d""#), "\(json)")
        #expect(PolicyFile.stateDict(of: network)["0.weight"]?.shape == [8, 3, 3, 3])
    }

    @Test func malformedArchitecturesNameTheModule() throws {
        func modules(_ json: String) throws -> [Sequential<Float>.Module] {
            let list = try JSONDecoder.gauntlet().decode([PolicyDescription.Architecture.Module].self, from: Data(json.utf8))
            return try PolicyDescription.Architecture(modules: list).sequentialModules()
        }
        #expect {
            try modules(#"[{"type": "relu"}, {"type": "conv2d", "in_channels": 1, "out_channels": 2, "height": 5, "width": 5}]"#)
        } throws: { "\($0)".contains("architecture module 1: a conv2d module needs 'kernel_size'") }
        #expect {
            try modules(#"[{"type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 7, "height": 5, "width": 5}]"#)
        } throws: { "\($0)".contains("architecture module 0: Conv2d: a 7×7 kernel does not fit a 5×5 image padded by 0") }
        #expect {
            try modules(#"[{"type": "max_pool2d", "in_channels": 1, "kernel_size": 2, "stride": 0, "height": 4, "width": 4}]"#)
        } throws: { "\($0)".contains("architecture module 0: MaxPool2d needs positive") }
        let conv = try Conv2d(inputChannels: 1, outputChannels: 2, kernelSize: 3, inputHeight: 5, inputWidth: 5)
        #expect {
            try Sequential<Float>(
                modules: [.conv2d(conv), .flatten, .linear(inputs: 20, outputs: 2)], random: RandomStream(seed: 1))
        } throws: { "\($0)".contains("module 2: Linear(20, 2) expects 20 inputs but the previous layer gives 18") }
    }
}

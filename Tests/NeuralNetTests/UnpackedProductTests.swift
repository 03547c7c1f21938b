import Linalg
import NeuralNet
import TestSupport
import Testing

/// A workspace with `unpackedProducts` (attacks' inner loops) runs passes of at most 16 rows on
/// CKernels' kernel over `transposedParameters`: each output must be exactly the in-order
/// fused multiply-add sum (so the kernel, not OpenBLAS, ran), gradients must match OpenBLAS's
/// to rounding, and a change of parameters must never leave stale transposed weights in use.
@Suite struct UnpackedProductTests {
    static let sizes = [4, 64, 37, 2]

    func network(seed: UInt64, activation: Activation = .relu) throws -> Sequential<Float> {
        try Sequential<Double>.mlp(sizes: Self.sizes, activation: activation, random: RandomStream(seed: seed)).converted(
            to: Float.self)
    }

    /// `bias + Σ_p x_p W_jp` summed in order with fused multiply-adds, layer by layer.
    func inOrderForward(_ network: Sequential<Float>, _ input: Matrix<Float>) -> Matrix<Float> {
        var x = input
        var layer = 0
        for module in network.modules {
            switch module {
            case .linear(let inputs, let outputs):
                let weight = network.weight(layer)
                let bias = network.bias(layer)
                layer += 1
                var y = Matrix<Float>(rows: x.rows, columns: outputs)
                for r in 0..<x.rows {
                    for j in 0..<outputs {
                        var sum: Float = 0
                        for p in 0..<inputs { sum = sum.addingProduct(x[r, p], weight[j, p]) }
                        y[r, j] = bias[j] + sum
                    }
                }
                x = y
            case .activation(let activation):
                x = x.map { activation($0) }
            case .conv2d, .maxPool2d, .flatten:
                preconditionFailure("multilayer perceptrons only")
            }
        }
        return x
    }

    @Test func forwardIsTheInOrderSumAndGradientsMatchOpenBLAS() throws {
        try #require(Float.hasUnpackedProducts, "this CPU has no AVX2 + FMA")
        let network = try network(seed: 3)
        let random = RandomStream(seed: 4)
        for batch in [1, 2, 5, 8, 13, 16] {
            let input = randomMatrix(rows: batch, columns: network.inputDimensions, random: random).converted(to: Float.self)
            let outputGradient = randomMatrix(rows: batch, columns: network.outputDimensions, random: random).converted(
                to: Float.self)
            let unpacked = Workspace(for: network, batch: batch, unpackedProducts: true)
            let outputs = network.forward(input, workspace: unpacked)
            #expect(outputs == inOrderForward(network, input), "batch \(batch)")
            var none: [Float] = []
            let gradient = network.backward(
                outputGradient: outputGradient, workspace: unpacked, parameterGradient: &none, request: .input)!
            let reference = network.inputGradient(input, outputGradient: outputGradient)
            #expect(
                maximumRelativeError(gradient.storage.map(Double.init), reference.storage.map(Double.init)) < 1e-4,
                "batch \(batch)")
        }
    }

    @Test func largerBatchesStayWithOpenBLAS() throws {
        let network = try network(seed: 5)
        let input = randomMatrix(
            rows: Workspace<Float>.unpackedProductRows + 1, columns: network.inputDimensions, random: RandomStream(seed: 6)
        ).converted(to: Float.self)
        let unpacked = Workspace(for: network, batch: input.rows, unpackedProducts: true)
        #expect(network.forward(input, workspace: unpacked) == network(input))
    }

    /// Changed parameters — in place, through a buffer pointer, or in a copy — are never
    /// multiplied with the transposed weights of the old ones.
    @Test func changedParametersAreNeverServedStaleTransposedWeights() throws {
        try #require(Float.hasUnpackedProducts, "this CPU has no AVX2 + FMA")
        var network = try network(seed: 7, activation: .tanh)
        let input = randomMatrix(rows: 3, columns: network.inputDimensions, random: RandomStream(seed: 8)).converted(
            to: Float.self)
        let workspace = Workspace(for: network, batch: 3, unpackedProducts: true)
        let before = network.forward(input, workspace: workspace)
        #expect(before == inOrderForward(network, input))

        network.parameters[5] += 0.5
        #expect(network.forward(input, workspace: workspace) == inOrderForward(network, input))
        let secondWeight = network.linearLayers[1].weightOffset
        network.parameters.withUnsafeMutableBufferPointer { $0[secondWeight] -= 1 }
        #expect(network.forward(input, workspace: workspace) == inOrderForward(network, input))

        let original = network
        var copy = network
        copy.parameters[0] = 3
        #expect(copy.forward(input, workspace: workspace) == inOrderForward(copy, input))
        #expect(original.forward(input, workspace: workspace) == inOrderForward(original, input))
        #expect(original.forward(input, workspace: workspace) != copy.forward(input, workspace: workspace))
    }

    @Test func transposedParametersHoldEachWeightTransposed() throws {
        let network = try network(seed: 9)
        let transposed = network.transposedParameters
        for (index, layer) in network.linearLayers.enumerated() {
            let weight = network.weight(index)
            for j in 0..<layer.outputs {
                for i in 0..<layer.inputs { #expect(transposed[layer.weightOffset + i * layer.outputs + j] == weight[j, i]) }
            }
            #expect(Array(transposed[layer.biasOffset..<(layer.biasOffset + layer.outputs)]) == network.bias(index))
        }
    }
}

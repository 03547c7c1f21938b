import Linalg
import NeuralNet
import TestSupport
import Testing

/// Finite-difference checks, in Double, of every module's gradient to parameters and input.
@Suite struct GradientTests {
    static let activations: [Activation] = [.identity, .relu, .tanh, .leakyReLU(slope: 0.01), .leakyReLU(slope: 0.3)]

    /// `L = Σ output ⊙ R` for a fixed random `R`, so `∂L/∂output = R`.
    func check(modules: [Sequential<Double>.Module], batch: Int, seed: UInt64) throws {
        let random = RandomStream(seed: seed)
        let network = try Sequential<Double>(modules: modules, random: random)
        let input = randomMatrix(rows: batch, columns: network.inputDimensions, random: random)
        let weights = randomMatrix(rows: batch, columns: network.outputDimensions, random: random)
        func loss(_ net: Sequential<Double>, _ x: Matrix<Double>) -> Double {
            zip(net(x).storage, weights.storage).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let workspace = Workspace(for: network, batch: batch)
        _ = network.forward(input, workspace: workspace)
        var parameterGradient = [Double](repeating: .nan, count: network.parameterCount)
        let inputGradient = network.backward(
            outputGradient: weights, workspace: workspace, parameterGradient: &parameterGradient)!

        let numericParameters = numericalGradient(
            of: { theta in
                var copy = network
                copy.parameters = theta
                return loss(copy, input)
            }, at: network.parameters)
        let numericInput = numericalGradient(
            of: { x in
                loss(network, Matrix(rows: batch, columns: network.inputDimensions, storage: x))
            }, at: input.storage)
        #expect(maximumRelativeError(parameterGradient, numericParameters) < 1e-6, "parameters of \(modules)")
        #expect(maximumRelativeError(inputGradient.storage, numericInput) < 1e-6, "input of \(modules)")
        #expect(maximumRelativeError(network.inputGradient(input, outputGradient: weights).storage, inputGradient.storage) == 0)
    }

    /// A convolution of `channels` images `height × width`.
    static func conv(_ inputs: Int, _ outputs: Int, kernel: Int, stride: Int = 1, padding: Int = 0, height: Int, width: Int)
        throws -> Sequential<Double>.Module
    {
        .conv2d(
            try Conv2d(
                inputChannels: inputs, outputChannels: outputs, kernelSize: kernel, stride: stride, padding: padding,
                inputHeight: height, inputWidth: width))
    }

    /// Convolutions of every stride and padding combination here, alone before a Linear layer.
    @Test(arguments: [(1, 0), (1, 1), (2, 0), (2, 1), (3, 2)])
    func convolution(stride: Int, padding: Int) throws {
        let conv = try Self.conv(2, 3, kernel: 3, stride: stride, padding: padding, height: 7, width: 6)
        try check(
            modules: [conv, .flatten, .linear(inputs: conv.outputWidth!, outputs: 2)], batch: 3,
            seed: UInt64(10 * stride + padding))
        try check(modules: [conv, .flatten, .linear(inputs: conv.outputWidth!, outputs: 2)], batch: 1, seed: 5)
    }

    /// Convolution, tanh, a second convolution, max pooling (random inputs have no ties),
    /// flatten, Linear: the modules of a pixel policy together.
    @Test func convolutionalNetwork() throws {
        let first = try Self.conv(3, 4, kernel: 3, stride: 2, padding: 1, height: 9, width: 8)  // → 4 × 5 × 4
        let second = try Self.conv(4, 5, kernel: 2, padding: 1, height: 5, width: 4)  // → 5 × 6 × 5
        let pool = Sequential<Double>.Module.maxPool2d(try MaxPool2d(channels: 5, kernelSize: 2, inputHeight: 6, inputWidth: 5))
        let modules: [Sequential<Double>.Module] = [
            first, .activation(.tanh), second, .activation(.leakyReLU(slope: 0.2)), pool, .flatten,
            .linear(inputs: pool.outputWidth!, outputs: 3), .activation(.tanh),
        ]
        try check(modules: modules, batch: 4, seed: 41)
        try check(modules: modules, batch: 1, seed: 42)
    }

    @Test func singleLinearLayer() throws {
        for batch in [1, 2, 7] {
            try check(modules: [.linear(inputs: 5, outputs: 3)], batch: batch, seed: UInt64(batch))
        }
    }

    @Test(arguments: activations)
    func linearThenActivation(_ activation: Activation) throws {
        try check(modules: [.linear(inputs: 4, outputs: 6), .activation(activation)], batch: 5, seed: 21)
    }

    @Test(arguments: activations)
    func deepNetwork(_ activation: Activation) throws {
        let modules = try Sequential<Double>.mlpModules(sizes: [3, 8, 8, 2], activation: activation, outputActivation: .tanh)
        try check(modules: modules, batch: 1, seed: 31)
        try check(modules: modules, batch: 6, seed: 32)
    }

    @Test func activationBeforeTheFirstLinearLayer() throws {
        try check(
            modules: [.activation(.tanh), .linear(inputs: 3, outputs: 4), .activation(.relu), .linear(inputs: 4, outputs: 2)],
            batch: 4, seed: 41)
    }

    @Test func accumulationAddsGradients() throws {
        let random = RandomStream(seed: 5)
        let network = try Sequential<Double>.mlp(sizes: [3, 5, 2], activation: .tanh, random: random)
        let input = randomMatrix(rows: 4, columns: 3, random: random)
        let weights = randomMatrix(rows: 4, columns: 2, random: random)
        let workspace = Workspace(for: network, batch: 4)
        _ = network.forward(input, workspace: workspace)
        var once = [Double](repeating: 0, count: network.parameterCount)
        network.backward(outputGradient: weights, workspace: workspace, parameterGradient: &once)
        var twice = once
        network.backward(outputGradient: weights, workspace: workspace, parameterGradient: &twice, accumulate: true)
        #expect(maximumRelativeError(twice, once.map { 2 * $0 }) < 1e-15)
    }

    /// Batch 1 takes the gemv path, larger batches gemm: both give the same numbers.
    @Test func batchOfOneAgreesWithLargerBatches() throws {
        let random = RandomStream(seed: 6)
        let network = try Sequential<Float>.mlp(sizes: [4, 64, 64, 2], activation: .relu, random: random)
        let batch = randomMatrix(rows: 5, columns: 4, random: random).converted(to: Float.self)
        let together = network(batch)
        let workspace = Workspace(for: network, batch: 5)
        for r in 0..<5 {
            let alone = network.forward(Matrix(row: batch.row(r)), workspace: workspace)
            for (a, b) in zip(alone.storage, together.row(r)) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
        }
    }

    /// Float32 ReLU (eight lanes at a time) selects exactly what the scalar definition does,
    /// for lengths that are not multiples of eight, with zeros, negative zeros and NaN.
    @Test func floatReLUSelectsExactlyAsTheScalarDefinition() {
        let random = RandomStream(seed: 12)
        for count in [1, 7, 8, 9, 23, 64] {
            var x = (0..<count).map { _ in Float(random.normal()) }
            x[0] = 0
            if count > 2 {
                x[1] = -0.0
                x[2] = .nan
            }
            let g = (0..<count).map { _ in Float(random.normal()) }
            var y = [Float](repeating: 7, count: count)
            Activation.relu.apply(x, into: &y, count: count)
            var masked = g
            Activation.relu.multiplyByDerivative(&masked, output: y, count: count)
            for i in 0..<count {
                #expect(y[i].bitPattern == (x[i] > 0 ? x[i] : 0).bitPattern, "forward \(i) of \(count)")
                #expect(masked[i].bitPattern == (y[i] > 0 ? g[i] : 0).bitPattern, "backward \(i) of \(count)")
            }
        }
    }

    /// The Float network agrees with its Double reference to single-precision rounding.
    @Test func floatAgreesWithTheDoubleReference() throws {
        let random = RandomStream(seed: 9)
        let network = try Sequential<Float>.mlp(sizes: [6, 32, 32, 3], activation: .tanh, random: random)
        let reference = network.converted(to: Double.self)
        let input = randomMatrix(rows: 16, columns: 6, random: random)
        let difference = network(input.converted(to: Float.self)).converted(to: Double.self).maxAbsoluteDifference(
            to: reference(input))
        #expect(difference < 1e-5)
    }

    @Test func sizesThatDoNotChainAreRejected() {
        #expect(throws: NetworkError.self) {
            try Sequential<Float>(modules: [.linear(inputs: 3, outputs: 4), .linear(inputs: 5, outputs: 2)], parameters: [])
        }
        #expect(throws: NetworkError.self) {
            try Sequential<Float>(modules: [.linear(inputs: 3, outputs: 4)], parameters: [1, 2, 3])
        }
        #expect(throws: NetworkError.self) { try Sequential<Float>(modules: [.activation(.relu)], parameters: []) }
    }

    /// Large images go through the convolution's products a few at a time (`imagesPerProduct`):
    /// a batch of five 3×64×64 images (two a product: groups of 2, 2 and 1) through a
    /// convolution and a Linear layer gives each image's output and input gradient as that image
    /// alone does, and the parameter gradients summed over the images — the groups' offsets and
    /// accumulation are right.
    @Test func convolutionOverGroupsOfImagesEqualsImageByImage() throws {
        let conv = try Conv2d(
            inputChannels: 3, outputChannels: 2, kernelSize: 3, stride: 1, padding: 1, inputHeight: 64, inputWidth: 64)
        #expect(conv.imagesPerProduct == 2)
        let random = RandomStream(seed: 12)
        let network = try Sequential<Double>(
            modules: [.conv2d(conv), .flatten, .linear(inputs: conv.outputSize, outputs: 2)], random: random)
        let outputs = network.outputDimensions
        let batch = 5
        let x = Matrix(rows: batch, columns: conv.inputSize, storage: (0..<(batch * conv.inputSize)).map { _ in random.normal() })
        let g = Matrix(rows: batch, columns: outputs, storage: (0..<(batch * outputs)).map { _ in random.normal() })
        func pass(_ rows: Range<Int>) -> (output: [Double], input: [Double], parameters: [Double]) {
            let workspace = Workspace(for: network, batch: rows.count)
            let input = Array(x.storage[(rows.lowerBound * conv.inputSize)..<(rows.upperBound * conv.inputSize)])
            let outputGradient = Array(g.storage[(rows.lowerBound * outputs)..<(rows.upperBound * outputs)])
            var parameters = [Double](repeating: 0, count: network.parameterCount)
            let output = input.withUnsafeBufferPointer { p in
                network.forward(input: p.baseAddress!, batch: rows.count, workspace: workspace)
                return Array(UnsafeBufferPointer(start: workspace.outputPointer, count: rows.count * outputs))
            }
            outputGradient.withUnsafeBufferPointer { p in
                parameters.withUnsafeMutableBufferPointer { q in
                    network.backward(
                        outputGradient: p.baseAddress!, workspace: workspace, parameterGradient: q.baseAddress!,
                        accumulate: false,
                        wantInputGradient: true)
                }
            }
            return (output, Array(UnsafeBufferPointer(start: workspace.gradient, count: rows.count * conv.inputSize)), parameters)
        }
        let whole = pass(0..<batch)
        var parameters = [Double](repeating: 0, count: network.parameterCount)
        for n in 0..<batch {
            let single = pass(n..<(n + 1))
            #expect(maximumRelativeError(Array(whole.output[(n * outputs)..<((n + 1) * outputs)]), single.output) < 1e-12)
            #expect(
                maximumRelativeError(Array(whole.input[(n * conv.inputSize)..<((n + 1) * conv.inputSize)]), single.input) < 1e-12)
            for i in parameters.indices { parameters[i] += single.parameters[i] }
        }
        #expect(maximumRelativeError(whole.parameters, parameters) < 1e-10)
    }
}

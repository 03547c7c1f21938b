import Linalg
import NeuralNet
import PropertyBased
import TestSupport
import Testing

@Suite struct IntervalBoundTests {
    /// Every output of a point sampled in the box lies within the propagated bounds.
    @Test func boundsContainEverySampledOutput() async {
        await propertyCheck(count: 40, input: Gen.int(in: 0...10_000), Gen.double(in: 0.001...1)) { seed, epsilon in
            let random = RandomStream(seed: UInt64(seed))
            let activation = [Activation.relu, .tanh, .leakyReLU(slope: 0.1)][seed % 3]
            let network = try! Sequential<Double>.mlp(sizes: [4, 16, 16, 3], activation: activation, random: random)
            let center = randomMatrix(rows: 3, columns: 4, random: random)
            let bounds = network.intervalBounds(IntervalBounds(center: center, epsilon: epsilon))
            for _ in 0..<200 {
                let point = center.map { $0 + random.uniform(-epsilon, epsilon) }
                let output = network(point)
                for i in output.storage.indices {
                    #expect(bounds.lower.storage[i] <= output.storage[i] + 1e-12)
                    #expect(output.storage[i] <= bounds.upper.storage[i] + 1e-12)
                }
            }
        }
    }

    /// For one Linear layer the bounds are the exact range: attained at corners of the box
    /// (found here by enumerating all 2ⁿ corners).
    @Test func singleLinearLayerBoundsAreExact() throws {
        let random = RandomStream(seed: 3)
        let network = try Sequential<Double>(modules: [.linear(inputs: 5, outputs: 4)], random: random)
        let center = randomMatrix(rows: 1, columns: 5, random: random)
        let epsilon = 0.3
        let bounds = network.intervalBounds(IntervalBounds(center: center, epsilon: epsilon))
        var lowest = [Double](repeating: .infinity, count: 4)
        var highest = [Double](repeating: -.infinity, count: 4)
        for corner in 0..<32 {
            let point = Matrix(row: (0..<5).map { center[0, $0] + (corner >> $0 & 1 == 1 ? epsilon : -epsilon) })
            let output = network(point)
            for j in 0..<4 {
                lowest[j] = min(lowest[j], output[0, j])
                highest[j] = max(highest[j], output[0, j])
            }
        }
        #expect(maximumRelativeError(bounds.lower.storage, lowest) < 1e-14)
        #expect(maximumRelativeError(bounds.upper.storage, highest) < 1e-14)
    }

    /// A convolutional network (a convolution with stride and padding, max pooling): sampled
    /// points stay inside the bounds; and for the convolution alone the lower bound of each
    /// output is its exact minimum, attained where every pixel of its patch sits at the box's
    /// edge opposite its weight's sign.
    @Test func convolutionalBoundsAreSoundAndExactForOneLayer() throws {
        let random = RandomStream(seed: 8)
        let conv = try Conv2d(
            inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1, inputHeight: 6, inputWidth: 5)
        let pool = try MaxPool2d(channels: 3, kernelSize: 2, inputHeight: 3, inputWidth: 3)
        let network = try Sequential<Double>(
            modules: [
                .conv2d(conv), .activation(.relu), .maxPool2d(pool), .flatten, .linear(inputs: pool.outputSize, outputs: 4),
            ], random: random)
        let epsilon = 0.2
        let center = randomMatrix(rows: 1, columns: conv.inputSize, random: random)
        let box = IntervalBounds(center: center, epsilon: epsilon)
        let bounds = network.intervalBounds(box)
        for _ in 0..<300 {
            let output = network(center.map { $0 + random.uniform(-epsilon, epsilon) })
            for i in output.storage.indices {
                #expect(
                    bounds.lower.storage[i] <= output.storage[i] + 1e-12 && output.storage[i] <= bounds.upper.storage[i] + 1e-12)
            }
        }
        let convolved = network.intervalBounds(box, moduleCount: 1)
        let weight = network.parameters
        for o in 0..<conv.outputChannels {
            for i in 0..<conv.outputHeight {
                for j in 0..<conv.outputWidth {
                    var corner = center
                    for c in 0..<conv.inputChannels {
                        for p in 0..<3 {
                            for q in 0..<3 {
                                let (u, v) = (2 * i + p - 1, 2 * j + q - 1)
                                guard u >= 0 && u < 6 && v >= 0 && v < 5 else { continue }
                                let w = weight[((o * 2 + c) * 3 + p) * 3 + q]
                                corner[0, (c * 6 + u) * 5 + v] += w > 0 ? -epsilon : epsilon
                            }
                        }
                    }
                    let index = (o * conv.outputHeight + i) * conv.outputWidth + j
                    let reached = network.intervalBounds(IntervalBounds(center: corner, epsilon: 0), moduleCount: 1).lower
                    #expect(abs(reached.storage[index] - convolved.lower.storage[index]) < 1e-12)
                }
            }
        }
    }

    @Test func zeroRadiusGivesThePointItself() throws {
        let random = RandomStream(seed: 4)
        let network = try Sequential<Double>.mlp(sizes: [3, 8, 2], activation: .tanh, random: random)
        let x = randomMatrix(rows: 2, columns: 3, random: random)
        let bounds = network.intervalBounds(IntervalBounds(center: x, epsilon: 0))
        #expect(bounds.lower.maxAbsoluteDifference(to: network(x)) < 1e-14)
        #expect(bounds.upper.maxAbsoluteDifference(to: network(x)) < 1e-14)
    }
}

@Suite struct IntervalBoundGradientTests {
    /// The parameter gradient of a loss of the interval bounds equals central finite
    /// differences, through ReLU and tanh networks, whole or cut before the last layer.
    @Test(arguments: [Activation.relu, .tanh])
    func parameterGradientMatchesFiniteDifferences(activation: Activation) throws {
        let random = RandomStream(seed: 17)
        var network = try Sequential<Double>.mlp(sizes: [3, 6, 5, 2], activation: activation, random: random)
        let center = randomMatrix(rows: 4, columns: 3, random: random)
        let box = IntervalBounds(center: center, epsilon: 0.1)
        for moduleCount in [nil, network.modules.count - 1] as [Int?] {
            let width = moduleCount == nil ? 2 : 5
            let a = randomMatrix(rows: 4, columns: width, random: random)
            let b = randomMatrix(rows: 4, columns: width, random: random)
            func loss(_ bounds: IntervalBounds<Double>) -> Double {
                zip(bounds.lower.storage, a.storage).reduce(0) { $0 + $1.0 * $1.1 }
                    + zip(bounds.upper.storage, b.storage).reduce(0) { $0 + $1.0 * $1.1 }
            }
            let (bounds, gradient) = network.intervalBoundsParameterGradient(box, moduleCount: moduleCount) { _ in (a, b) }
            #expect(bounds == network.intervalBounds(box, moduleCount: moduleCount))
            let parameters = network.parameters
            let numeric = numericalGradient(
                of: { p in
                    network.parameters = p
                    return loss(network.intervalBounds(box, moduleCount: moduleCount))
                }, at: parameters)
            network.parameters = parameters
            #expect(maximumRelativeError(gradient, numeric) < 1e-6, "\(activation) \(String(describing: moduleCount))")
        }
    }

    /// The same through convolutions (stride, padding) and max pooling.
    @Test func convolutionalParameterGradientMatchesFiniteDifferences() throws {
        let random = RandomStream(seed: 19)
        let first = try Conv2d(
            inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1, inputHeight: 7, inputWidth: 6)
        let second = try Conv2d(inputChannels: 3, outputChannels: 2, kernelSize: 2, inputHeight: 4, inputWidth: 3)
        let pool = try MaxPool2d(channels: 2, kernelSize: 2, stride: 1, inputHeight: 3, inputWidth: 2)
        var network = try Sequential<Double>(
            modules: [
                .conv2d(first), .activation(.tanh), .conv2d(second), .activation(.tanh), .maxPool2d(pool), .flatten,
                .linear(inputs: pool.outputSize, outputs: 3),
            ], random: random)
        let box = IntervalBounds(center: randomMatrix(rows: 3, columns: first.inputSize, random: random), epsilon: 0.05)
        let a = randomMatrix(rows: 3, columns: 3, random: random)
        let b = randomMatrix(rows: 3, columns: 3, random: random)
        func loss(_ bounds: IntervalBounds<Double>) -> Double {
            zip(bounds.lower.storage, a.storage).reduce(0) { $0 + $1.0 * $1.1 }
                + zip(bounds.upper.storage, b.storage).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let (bounds, gradient) = network.intervalBoundsParameterGradient(box) { _ in (a, b) }
        #expect(bounds == network.intervalBounds(box))
        let parameters = network.parameters
        let numeric = numericalGradient(
            of: { p in
                network.parameters = p
                return loss(network.intervalBounds(box))
            }, at: parameters)
        #expect(maximumRelativeError(gradient, numeric) < 1e-6)
    }
}

import Linalg

/// How a network's parameters start.
public enum Initialization: Equatable, Sendable {
    /// PyTorch's `nn.Linear` and `nn.Conv2d` default: Kaiming-uniform with `a = √5`, which for
    /// a layer of `fanIn` inputs (a convolution's `in·k·k`) is `W, b ~ U(−1/√fanIn, 1/√fanIn)`.
    case pytorchDefault
    /// Orthogonal weights (Saxe et al. 2014, PyTorch's `orthogonal_`) scaled by `gain`, the last
    /// layer by `outputGain`, zero biases — the initialisation PPO implementations use
    /// (√2 hidden, 0.01 policy head, 1 value head).
    case orthogonal(gain: Double, outputGain: Double)

    /// Overwrites every parameter of `network`, drawing from `random`: each Linear or Conv2d
    /// layer in order, its weight (a convolution's as a matrix `[out × in·k·k]`, whose row
    /// length is its fan-in) then its bias.
    public func initialize<Scalar: BLASScalar>(_ network: inout Sequential<Scalar>, random: RandomStream) {
        let layers = network.parameterLayouts.compactMap { $0 }
        for (layerIndex, layout) in layers.enumerated() {
            let outputs = layout.biasCount
            let inputs = (layout.biasOffset - layout.weightOffset) / outputs
            let weight: [Double]
            let bias: [Double]
            switch self {
            case .pytorchDefault:
                let bound = 1 / Double(inputs).squareRoot()
                weight = (0..<(inputs * outputs)).map { _ in random.uniform(-bound, bound) }
                bias = (0..<outputs).map { _ in random.uniform(-bound, bound) }
            case .orthogonal(let gain, let outputGain):
                let g = layerIndex == layers.count - 1 ? outputGain : gain
                weight = Matrix<Double>.randomOrthogonal(rows: outputs, columns: inputs, random: random).storage.map { $0 * g }
                bias = [Double](repeating: 0, count: outputs)
            }
            network.parameters.replaceSubrange(layout.weightOffset..<layout.biasOffset, with: weight.map { Scalar($0) })
            network.parameters.replaceSubrange(layout.biasOffset..<(layout.biasOffset + outputs), with: bias.map { Scalar($0) })
        }
    }
}

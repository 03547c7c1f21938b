import Linalg

/// How a network's parameters start.
public enum Initialization: Equatable, Sendable {
    /// PyTorch's `nn.Linear` default: Kaiming-uniform with `a = √5`, which for a layer of
    /// `fanIn` inputs is `W, b ~ U(−1/√fanIn, 1/√fanIn)`.
    case pytorchDefault
    /// Orthogonal weights (Saxe et al. 2014, PyTorch's `orthogonal_`) scaled by `gain`, the last
    /// layer by `outputGain`, zero biases — the initialisation PPO implementations use
    /// (√2 hidden, 0.01 policy head, 1 value head).
    case orthogonal(gain: Double, outputGain: Double)

    /// Overwrites every parameter of `network`, drawing from `random`.
    public func initialize<Scalar: BLASScalar>(_ network: inout Sequential<Scalar>, random: RandomStream) {
        for (layerIndex, layout) in network.linearLayers.enumerated() {
            let weight: [Double]
            let bias: [Double]
            switch self {
            case .pytorchDefault:
                let bound = 1 / Double(layout.inputs).squareRoot()
                weight = (0..<(layout.inputs * layout.outputs)).map { _ in random.uniform(-bound, bound) }
                bias = (0..<layout.outputs).map { _ in random.uniform(-bound, bound) }
            case .orthogonal(let gain, let outputGain):
                let isLast = layerIndex == network.linearLayers.count - 1
                let g = isLast ? outputGain : gain
                weight = Matrix<Double>.randomOrthogonal(rows: layout.outputs, columns: layout.inputs, random: random).storage.map
                { $0 * g }
                bias = [Double](repeating: 0, count: layout.outputs)
            }
            network.setLayer(
                layerIndex,
                weight: Matrix(rows: layout.outputs, columns: layout.inputs, storage: weight.map { Scalar($0) }),
                bias: bias.map { Scalar($0) })
        }
    }
}

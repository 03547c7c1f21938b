import Linalg

/// The convolutional front ends of pixel policies: each turns an image into a vector for the
/// fully connected layers after it.
public enum FeatureExtractor: String, Sendable, Codable, CaseIterable {
    /// MinAtar's (Young & Tian 2019): one 3×3 convolution with 16 channels over the 10×10×`n`
    /// grid, ReLU, flatten (1024 values).
    case minatar
    /// Nature DQN's (Mnih et al. 2015; Stable-Baselines3's `NatureCNN` without its last
    /// layer): convolutions 32×8×8 stride 4, 64×4×4 stride 2, 64×3×3 stride 1 over 84×84×`n`
    /// frames, ReLU after each, flatten (3136 values).
    case natureCNN = "nature_cnn"

    /// The side of the square images its policies are trained on (MinAtar's grid, Atari's
    /// preprocessed frames).
    public var imageSide: Int { self == .minatar ? 10 : 84 }

    /// Its modules for rows of `inputs` values: `n` channels of the image (`n × side × side`).
    public func modules<Scalar: BLASScalar>(inputs: Int) throws(NetworkError) -> [Sequential<Scalar>.Module] {
        let side = imageSide
        guard inputs > 0, inputs % (side * side) == 0 else {
            throw NetworkError(
                "the \(rawValue) feature extractor takes \(side)×\(side) images of any depth, not \(inputs) values")
        }
        return try modules(channels: inputs / (side * side), height: side, width: side)
    }

    /// Its modules for `channels × height × width` images. The modules are numbered as
    /// PyTorch's `nn.Sequential` of the same layers numbers them (SB3's `NatureCNN.cnn`: the
    /// convolutions are modules 0, 2 and 4).
    public func modules<Scalar: BLASScalar>(channels: Int, height: Int, width: Int) throws(NetworkError)
        -> [Sequential<Scalar>.Module]
    {
        switch self {
        case .minatar:
            let conv = try Conv2d(
                inputChannels: channels, outputChannels: 16, kernelSize: 3, inputHeight: height, inputWidth: width)
            return [.conv2d(conv), .activation(.relu), .flatten]
        case .natureCNN:
            let first = try Conv2d(
                inputChannels: channels, outputChannels: 32, kernelSize: 8, stride: 4, inputHeight: height, inputWidth: width)
            let second = try Conv2d(
                inputChannels: 32, outputChannels: 64, kernelSize: 4, stride: 2, inputHeight: first.outputHeight,
                inputWidth: first.outputWidth)
            let third = try Conv2d(
                inputChannels: 64, outputChannels: 64, kernelSize: 3, inputHeight: second.outputHeight,
                inputWidth: second.outputWidth)
            return [
                .conv2d(first), .activation(.relu), .conv2d(second), .activation(.relu), .conv2d(third), .activation(.relu),
                .flatten,
            ]
        }
    }
}

extension Sequential {
    /// A policy or value network: the feature extractor's modules (none: the input itself),
    /// then an MLP from their output through `hidden` to `outputs`, `activation` between layers.
    public static func modules(
        features: FeatureExtractor?, inputs: Int, hidden: [Int], outputs: Int, activation: Activation
    ) throws(NetworkError) -> [Module] {
        let front: [Module] = try features?.modules(inputs: inputs) ?? []
        let width = front.compactMap(\.outputWidth).last ?? inputs
        return front + (try mlpModules(sizes: [width] + hidden + [outputs], activation: activation))
    }

    /// MinAtar's DQN network (Young & Tian 2019): its feature extractor, a fully connected layer
    /// of 128, ReLU, one output per action.
    public static func minAtarModules(channels: Int, actions: Int) throws(NetworkError) -> [Module] {
        try modules(features: .minatar, inputs: channels * 100, hidden: [128], outputs: actions, activation: .relu)
    }

    /// The Nature DQN network (Mnih et al. 2015) over 84×84 frames stacked `channels` deep: its
    /// feature extractor, a fully connected layer of 512, ReLU, one output per action.
    public static func natureDQNModules(channels: Int = 4, actions: Int) throws(NetworkError) -> [Module] {
        try modules(features: .natureCNN, inputs: channels * 84 * 84, hidden: [512], outputs: actions, activation: .relu)
    }
}

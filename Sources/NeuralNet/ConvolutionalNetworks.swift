/// The convolutional networks of the pixel-observation literature, as module lists.
extension Sequential {
    /// MinAtar's DQN network (Young & Tian 2019): one 3×3 convolution with 16 channels over the
    /// 10×10×`channels` grid, ReLU, a fully connected layer of 128, ReLU, one output per action.
    public static func minAtarModules(channels: Int, actions: Int) throws(NetworkError) -> [Module] {
        let conv = try Conv2d(inputChannels: channels, outputChannels: 16, kernelSize: 3, inputHeight: 10, inputWidth: 10)
        return [
            .conv2d(conv), .activation(.relu), .flatten, .linear(inputs: conv.outputSize, outputs: 128), .activation(.relu),
            .linear(inputs: 128, outputs: actions),
        ]
    }

    /// The Nature DQN network (Mnih et al. 2015) over 84×84 frames stacked `channels` deep:
    /// convolutions 32×8×8 stride 4, 64×4×4 stride 2, 64×3×3 stride 1, each with ReLU, a fully
    /// connected layer of 512, ReLU, one output per action. Stable-Baselines3's `NatureCNN`
    /// feature extractor is its part before the last layer.
    public static func natureDQNModules(channels: Int = 4, actions: Int) throws(NetworkError) -> [Module] {
        let first = try Conv2d(
            inputChannels: channels, outputChannels: 32, kernelSize: 8, stride: 4, inputHeight: 84, inputWidth: 84)
        let second = try Conv2d(
            inputChannels: 32, outputChannels: 64, kernelSize: 4, stride: 2, inputHeight: first.outputHeight,
            inputWidth: first.outputWidth)
        let third = try Conv2d(
            inputChannels: 64, outputChannels: 64, kernelSize: 3, inputHeight: second.outputHeight, inputWidth: second.outputWidth
        )
        return [
            .conv2d(first), .activation(.relu), .conv2d(second), .activation(.relu), .conv2d(third), .activation(.relu), .flatten,
            .linear(inputs: third.outputSize, outputs: 512), .activation(.relu), .linear(inputs: 512, outputs: actions),
        ]
    }
}

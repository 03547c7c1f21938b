/// The layout of an image observation: `channels` planes of `height × width`, stored channel by
/// channel (CHW: MinAtar's) or with the channels last (HWC: Gymnasium's image arrays, as the
/// environment bridge passes them on).
public struct ImageShape: Equatable, Sendable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var channelsLast: Bool

    public init(channels: Int, height: Int, width: Int, channelsLast: Bool) {
        (self.channels, self.height, self.width, self.channelsLast) = (channels, height, width, channelsLast)
    }

    public var count: Int { channels * height * width }

    /// Where a pixel of a channel is in the flattened observation.
    public func index(channel: Int, row: Int, column: Int) -> Int {
        channelsLast ? (row * width + column) * channels + channel : (channel * height + row) * width + column
    }
}

/// An environment that can say whether its observations are images, and how they are laid out
/// (pictures of saliency and perturbations draw them as images then).
public protocol ImageObservations {
    var imageShape: ImageShape? { get }
}

import Linalg

/// Two-dimensional max pooling over a batch of NCHW images, as PyTorch's `nn.MaxPool2d` with
/// padding 0, dilation 1 and `ceil_mode=False`:
///
///     y[n, c, i, j] = max over p, q < k of x[n, c, i·s + p, j·s + q]
///
/// The gradient of each output goes to the first input of its window (in row order) that
/// holds the maximum — the element PyTorch's CPU kernel picks. No parameters.
public struct MaxPool2d: Equatable, Sendable {
    public let channels: Int
    public let kernelSize: Int
    public let stride: Int
    public let inputHeight: Int
    public let inputWidth: Int

    /// Pooling of images `channels × inputHeight × inputWidth`; `stride` defaults to the kernel
    /// size, as in PyTorch.
    public init(channels: Int, kernelSize: Int, stride: Int? = nil, inputHeight: Int, inputWidth: Int) throws(NetworkError) {
        let stride = stride ?? kernelSize
        guard channels > 0, kernelSize > 0, stride > 0, inputHeight >= kernelSize, inputWidth >= kernelSize else {
            throw NetworkError(
                "MaxPool2d needs positive channels, kernel size and stride and a kernel that fits the image, got \(channels) channels, kernel \(kernelSize), stride \(stride), image \(inputHeight)×\(inputWidth)"
            )
        }
        self.channels = channels
        self.kernelSize = kernelSize
        self.stride = stride
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
    }

    public var outputHeight: Int { (inputHeight - kernelSize) / stride + 1 }
    public var outputWidth: Int { (inputWidth - kernelSize) / stride + 1 }
    public var inputSize: Int { channels * inputHeight * inputWidth }
    public var outputSize: Int { channels * outputHeight * outputWidth }

    /// Calls `body(output, input)` with the offset of each output value and of the first input
    /// of its window holding the maximum, over `planes` planes (a batch times the channels).
    @inline(__always)
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func forEachMaximum<Scalar: BLASScalar>(
        _ x: UnsafePointer<Scalar>, planes: Int, _ body: (_ output: Int, _ input: Int) -> Void
    ) {
        var output = 0
        for plane in 0..<planes {
            let base = plane * inputHeight * inputWidth
            for i in 0..<outputHeight {
                for j in 0..<outputWidth {
                    var best = base + i * stride * inputWidth + j * stride
                    for p in 0..<kernelSize {
                        for q in 0..<kernelSize {
                            let index = base + (i * stride + p) * inputWidth + j * stride + q
                            if x[index] > x[best] || x[index].isNaN { best = index }
                        }
                    }
                    body(output, best)
                    output += 1
                }
            }
        }
    }

    /// `y = maxpool(x)` for `batch` images.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward<Scalar: BLASScalar>(_ x: UnsafePointer<Scalar>, batch: Int, into y: UnsafeMutablePointer<Scalar>) {
        forEachMaximum(x, planes: batch * channels) { output, input in y[output] = x[input] }
    }

    /// `∂L/∂x` at input `x` given `∂L/∂y`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func backward<Scalar: BLASScalar>(
        _ outputGradient: UnsafePointer<Scalar>, input x: UnsafePointer<Scalar>, batch: Int,
        into inputGradient: UnsafeMutablePointer<Scalar>
    ) {
        inputGradient.update(repeating: 0, count: batch * inputSize)
        forEachMaximum(x, planes: batch * channels) { output, input in inputGradient[input] += outputGradient[output] }
    }
}

import Linalg

/// A two-dimensional convolution over a batch of images, as PyTorch's `nn.Conv2d` with zero
/// padding, dilation 1 and one group. Each row of the batch is one image stored channel by
/// channel, row by row (NCHW), which is also how `nn.Flatten` orders it for a following Linear:
///
///     y[n, o, i, j] = b[o] + Σ_c Σ_p Σ_q W[o, c, p, q] · x[n, c, i·s + p − pad, j·s + q − pad]
///
/// with `x` zero outside the image. Parameters: the weight `[out, in, k, k]` then the bias
/// `[out]`, PyTorch's state-dict layout. Square kernels, one stride and one padding for both
/// axes (MinAtar's and Nature-DQN's networks need no more).
///
/// Computed as one matrix product per batch over the image patches (im2col): the patches
/// `P [N·OH·OW × C·k·k]` times `Wᵀ`, rearranged into NCHW. Backward: `∂W = Gᵀ P`, `∂b = Σ G`,
/// `∂P = G W` scattered back onto the image (col2im), where `G` is the output gradient
/// arranged as the product was.
public struct Conv2d: Equatable, Sendable {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    /// The height and width of the images this layer takes.
    public let inputHeight: Int
    public let inputWidth: Int

    /// A convolution of images `inputChannels × inputHeight × inputWidth`. Fails unless the
    /// kernel fits the padded image.
    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, inputHeight: Int,
        inputWidth: Int
    ) throws(NetworkError) {
        guard inputChannels > 0, outputChannels > 0, kernelSize > 0, stride > 0, padding >= 0, inputHeight > 0, inputWidth > 0
        else {
            throw NetworkError(
                "Conv2d needs positive channels, kernel size, stride and image size and a non-negative padding, got in \(inputChannels), out \(outputChannels), kernel \(kernelSize), stride \(stride), padding \(padding), image \(inputHeight)×\(inputWidth)"
            )
        }
        guard inputHeight + 2 * padding >= kernelSize, inputWidth + 2 * padding >= kernelSize else {
            throw NetworkError(
                "Conv2d: a \(kernelSize)×\(kernelSize) kernel does not fit a \(inputHeight)×\(inputWidth) image padded by \(padding)"
            )
        }
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
    }

    public var outputHeight: Int { (inputHeight + 2 * padding - kernelSize) / stride + 1 }
    public var outputWidth: Int { (inputWidth + 2 * padding - kernelSize) / stride + 1 }
    /// Values per image in and out.
    public var inputSize: Int { inputChannels * inputHeight * inputWidth }
    public var outputSize: Int { outputChannels * outputHeight * outputWidth }
    /// Inputs of one output value: the weight's row length.
    public var fanIn: Int { inputChannels * kernelSize * kernelSize }
    public var weightCount: Int { outputChannels * fanIn }
    public var parameterCount: Int { weightCount + outputChannels }
    /// Scratch values a pass over `batch` images needs: the patches and the product.
    public func scratchCount(batch: Int) -> Int { batch * outputHeight * outputWidth * (fanIn + outputChannels) }

    /// Writes the patches of `batch` images: row `(n·OH + i)·OW + j`, column `(c·k + p)·k + q`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func patches<Scalar: BLASScalar>(of x: UnsafePointer<Scalar>, batch: Int, into patches: UnsafeMutablePointer<Scalar>)
    {
        let (oh, ow, k) = (outputHeight, outputWidth, kernelSize)
        var row = patches
        for n in 0..<batch {
            let image = x + n * inputSize
            for i in 0..<oh {
                for j in 0..<ow {
                    var column = row
                    let left = j * stride - padding  // the patch's first column in the image
                    let inside = left >= 0 && left + k <= inputWidth
                    for c in 0..<inputChannels {
                        let plane = image + c * inputHeight * inputWidth
                        for p in 0..<k {
                            let u = i * stride + p - padding  // the pixel row in the image
                            if u < 0 || u >= inputHeight {
                                for q in 0..<k { column[q] = 0 }
                            } else if inside {
                                let source = plane + u * inputWidth + left
                                for q in 0..<k { column[q] = source[q] }
                            } else {
                                for q in 0..<k {
                                    let v = left + q
                                    column[q] = v >= 0 && v < inputWidth ? plane[u * inputWidth + v] : 0
                                }
                            }
                            column += k
                        }
                    }
                    row += fanIn
                }
            }
        }
    }

    /// Adds patch gradients back onto the images they came from (the adjoint of `patches`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func scatter<Scalar: BLASScalar>(
        _ patches: UnsafePointer<Scalar>, batch: Int, into x: UnsafeMutablePointer<Scalar>
    ) {
        x.update(repeating: 0, count: batch * inputSize)
        let (oh, ow, k) = (outputHeight, outputWidth, kernelSize)
        var row = patches
        for n in 0..<batch {
            let image = x + n * inputSize
            for i in 0..<oh {
                for j in 0..<ow {
                    var column = row
                    let left = j * stride - padding
                    let inside = left >= 0 && left + k <= inputWidth
                    for c in 0..<inputChannels {
                        let plane = image + c * inputHeight * inputWidth
                        for p in 0..<k {
                            let u = i * stride + p - padding
                            if u >= 0 && u < inputHeight {
                                let target = plane + u * inputWidth
                                if inside {
                                    for q in 0..<k { target[left + q] += column[q] }
                                } else {
                                    for q in 0..<k where left + q >= 0 && left + q < inputWidth { target[left + q] += column[q] }
                                }
                            }
                            column += k
                        }
                    }
                    row += fanIn
                }
            }
        }
    }

    /// `y = conv(x)` for `batch` images; `bias` may be nil (none). `scratch` holds
    /// `scratchCount(batch:)` values.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward<Scalar: BLASScalar>(
        _ x: UnsafePointer<Scalar>, batch: Int, weight: UnsafePointer<Scalar>, bias: UnsafePointer<Scalar>?,
        into y: UnsafeMutablePointer<Scalar>, scratch: UnsafeMutablePointer<Scalar>
    ) {
        let positions = outputHeight * outputWidth
        let rows = batch * positions
        let product = scratch + rows * fanIn
        patches(of: x, batch: batch, into: scratch)
        Scalar.gemm(
            transposeA: false, transposeB: true, m: rows, n: outputChannels, k: fanIn, alpha: 1, a: scratch, lda: fanIn,
            b: weight, ldb: fanIn, beta: 0, c: product, ldc: outputChannels)
        for n in 0..<batch {
            for o in 0..<outputChannels {
                let b = bias?[o] ?? 0
                let plane = y + (n * outputChannels + o) * positions
                let column = product + n * positions * outputChannels + o
                for position in 0..<positions { plane[position] = column[position * outputChannels] + b }
            }
        }
    }

    /// The backward pass of `forward` at input `x` given `∂L/∂y`: adds (or, unless
    /// `accumulate`, writes) `∂L/∂W` and `∂L/∂b` into `weightGradient` and `biasGradient` when
    /// given, and writes `∂L/∂x` into `inputGradient` when given. `scratch` as for `forward`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func backward<Scalar: BLASScalar>(
        _ outputGradient: UnsafePointer<Scalar>, input x: UnsafePointer<Scalar>, batch: Int, weight: UnsafePointer<Scalar>,
        weightGradient: UnsafeMutablePointer<Scalar>?, biasGradient: UnsafeMutablePointer<Scalar>?, accumulate: Bool,
        inputGradient: UnsafeMutablePointer<Scalar>?, scratch: UnsafeMutablePointer<Scalar>
    ) {
        let positions = outputHeight * outputWidth
        let rows = batch * positions
        let g = scratch + rows * fanIn  // ∂L/∂y arranged as the product: [rows × outputChannels]
        for n in 0..<batch {
            for o in 0..<outputChannels {
                let plane = outputGradient + (n * outputChannels + o) * positions
                let column = g + n * positions * outputChannels + o
                for position in 0..<positions { column[position * outputChannels] = plane[position] }
            }
        }
        if let weightGradient {
            patches(of: x, batch: batch, into: scratch)
            Scalar.gemm(
                transposeA: true, transposeB: false, m: outputChannels, n: fanIn, k: rows, alpha: 1, a: g, lda: outputChannels,
                b: scratch, ldb: fanIn, beta: accumulate ? 1 : 0, c: weightGradient, ldc: fanIn)
        }
        if let biasGradient {
            if !accumulate { biasGradient.update(repeating: 0, count: outputChannels) }
            for row in 0..<rows {
                for o in 0..<outputChannels { biasGradient[o] += g[row * outputChannels + o] }
            }
        }
        if let inputGradient {
            Scalar.gemm(
                transposeA: false, transposeB: false, m: rows, n: fanIn, k: outputChannels, alpha: 1, a: g, lda: outputChannels,
                b: weight, ldb: fanIn, beta: 0, c: scratch, ldc: fanIn)
            scatter(scratch, batch: batch, into: inputGradient)
        }
    }
}

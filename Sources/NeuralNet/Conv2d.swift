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
/// Computed as one matrix product per batch over the image patches (im2col, column-wise as
/// Caffe lays them out): `W [out × C·k·k]` times the patches `P [C·k·k × N·OH·OW]`, whose
/// rows are runs of image rows; the product's rows are runs of output planes, copied into NCHW.
/// Backward: `∂W = G Pᵀ`, `∂b = Σ G`, `∂P = Wᵀ G` scattered back onto the image (col2im),
/// where `G` is the output gradient arranged as the product was.
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
    /// Images whose patches one product takes: as many as keep the patches near a megabyte
    /// (Float), so large frames (Nature DQN's 84×84) go a few at a time while their patches are
    /// still in cache, and small ones (MinAtar's, up to 100 a product) all at once.
    public var imagesPerProduct: Int { max(1, (1 << 18) / (outputHeight * outputWidth * fanIn)) }

    /// Scratch values a pass over `batch` images needs: the patches and the product of one
    /// group of `imagesPerProduct` images.
    public func scratchCount(batch: Int) -> Int {
        min(batch, imagesPerProduct) * outputHeight * outputWidth * (fanIn + outputChannels)
    }

    /// The output columns `j` whose input column `v = j·stride + q − padding` lies inside the
    /// image (one range: the columns before and after it read padding).
    @inline(__always)
    private func insideColumns(q: Int) -> Range<Int> {
        // v ≥ 0 ⇔ j ≥ ⌈(padding − q) / stride⌉; v < W ⇔ j ≤ ⌊(W − 1 + padding − q) / stride⌋.
        let first = max(0, (padding - q + stride - 1) / stride)
        let last = min(outputWidth - 1, (inputWidth - 1 + padding - q) >= 0 ? (inputWidth - 1 + padding - q) / stride : -1)
        return first..<max(first, last + 1)
    }

    /// Visits every run of the column-wise patches of `batch` images — row `(c·k + p)·k + q`
    /// holds, for every output position `(n, i, j)` in order, the pixel
    /// `x[n, c, i·s + p − pad, j·s + q − pad]`, one run of `outputWidth` values per `(n, i)` —
    /// with the run's offset in the patches, the offset in the images of the pixel its column 0
    /// would read (nil when the kernel row falls in the padding) and the columns that read inside
    /// the image.
    @inline(__always)
    private func forEachPatchRun(batch: Int, _ body: (_ run: Int, _ image: Int?, _ inside: Range<Int>) -> Void) {
        let k = kernelSize
        let rows = batch * outputHeight * outputWidth
        for c in 0..<inputChannels {
            for p in 0..<k {
                for q in 0..<k {
                    let inside = insideColumns(q: q)
                    var run = ((c * k + p) * k + q) * rows
                    for n in 0..<batch {
                        let plane = n * inputSize + c * inputHeight * inputWidth
                        for i in 0..<outputHeight {
                            let u = i * stride + p - padding
                            body(run, u >= 0 && u < inputHeight ? plane + u * inputWidth + q - padding : nil, inside)
                            run += outputWidth
                        }
                    }
                }
            }
        }
    }

    /// Writes the patches of `batch` images column-wise (im2col, as Caffe lays them out): each
    /// run is a shifted image row. Without stride or padding (MinAtar's network) the runs are
    /// plain copies of a few values each — 8 there, where a `memmove` call or the general walk's
    /// bookkeeping costs more than the copy — so that case has its own loop (the same values).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func patches<Scalar: BLASScalar>(of x: UnsafePointer<Scalar>, batch: Int, into patches: UnsafeMutablePointer<Scalar>)
    {
        let ow = outputWidth
        if stride == 1 && padding == 0 {
            let (k, oh, rows, plane) = (kernelSize, outputHeight, batch &* outputHeight &* ow, inputHeight &* inputWidth)
            var target = patches
            for c in 0..<inputChannels {
                for p in 0..<k {
                    for q in 0..<k {
                        for n in 0..<batch {
                            var source = x + (n &* inputSize &+ c &* plane &+ p &* inputWidth &+ q)
                            for _ in 0..<oh {
                                for j in 0..<ow { target[j] = source[j] }
                                target += ow
                                source += inputWidth
                            }
                        }
                    }
                }
            }
            assert(target - patches == fanIn &* rows)
            return
        }
        forEachPatchRun(batch: batch) { run, image, inside in
            let target = patches + run
            guard let image else { return target.update(repeating: 0, count: ow) }
            for j in 0..<inside.lowerBound { target[j] = 0 }
            if stride == 1 {
                (target + inside.lowerBound).update(from: x + image + inside.lowerBound, count: inside.count)
            } else {
                var from = x + image + inside.lowerBound &* stride
                for j in inside {
                    target[j] = from.pointee
                    from += stride
                }
            }
            for j in inside.upperBound..<ow { target[j] = 0 }
        }
    }

    /// Adds patch gradients back onto the images they came from (col2im, the adjoint of `patches`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func scatter<Scalar: BLASScalar>(
        _ patches: UnsafePointer<Scalar>, batch: Int, into x: UnsafeMutablePointer<Scalar>
    ) {
        x.update(repeating: 0, count: batch * inputSize)
        forEachPatchRun(batch: batch) { run, image, inside in
            guard let image else { return }
            var to = x + image + inside.lowerBound &* stride
            for j in inside {
                to.pointee += patches[run + j]
                to += stride
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
        for first in Swift.stride(from: 0, to: batch, by: imagesPerProduct) {
            forwardGroup(
                x + first * inputSize, batch: min(imagesPerProduct, batch - first), weight: weight, bias: bias,
                into: y + first * outputSize, scratch: scratch)
        }
    }

    @inline(__always)
    private func forwardGroup<Scalar: BLASScalar>(
        _ x: UnsafePointer<Scalar>, batch: Int, weight: UnsafePointer<Scalar>, bias: UnsafePointer<Scalar>?,
        into y: UnsafeMutablePointer<Scalar>, scratch: UnsafeMutablePointer<Scalar>
    ) {
        let positions = outputHeight * outputWidth
        let rows = batch * positions
        let product = scratch + rows * fanIn  // [outputChannels × rows]
        patches(of: x, batch: batch, into: scratch)
        Scalar.gemm(
            transposeA: false, transposeB: false, m: outputChannels, n: rows, k: fanIn, alpha: 1, a: weight, lda: fanIn,
            b: scratch, ldb: rows, beta: 0, c: product, ldc: rows)
        for n in 0..<batch {
            for o in 0..<outputChannels {
                let b = bias?[o] ?? 0
                let plane = y + (n * outputChannels + o) * positions
                let run = product + o * rows + n * positions
                for position in 0..<positions { plane[position] = run[position] + b }
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
        for first in Swift.stride(from: 0, to: batch, by: imagesPerProduct) {
            backwardGroup(
                outputGradient + first * outputSize, input: x + first * inputSize, batch: min(imagesPerProduct, batch - first),
                weight: weight, weightGradient: weightGradient, biasGradient: biasGradient, accumulate: accumulate || first > 0,
                inputGradient: inputGradient.map { $0 + first * inputSize }, scratch: scratch)
        }
    }

    @inline(__always)
    private func backwardGroup<Scalar: BLASScalar>(
        _ outputGradient: UnsafePointer<Scalar>, input x: UnsafePointer<Scalar>, batch: Int, weight: UnsafePointer<Scalar>,
        weightGradient: UnsafeMutablePointer<Scalar>?, biasGradient: UnsafeMutablePointer<Scalar>?, accumulate: Bool,
        inputGradient: UnsafeMutablePointer<Scalar>?, scratch: UnsafeMutablePointer<Scalar>
    ) {
        let positions = outputHeight * outputWidth
        let rows = batch * positions
        let g = scratch + rows * fanIn  // ∂L/∂y arranged as the product: [outputChannels × rows]
        for n in 0..<batch {
            for o in 0..<outputChannels {
                (g + o * rows + n * positions).update(
                    from: outputGradient + (n * outputChannels + o) * positions, count: positions)
            }
        }
        if let weightGradient {
            patches(of: x, batch: batch, into: scratch)
            Scalar.gemm(
                transposeA: false, transposeB: true, m: outputChannels, n: fanIn, k: rows, alpha: 1, a: g, lda: rows,
                b: scratch, ldb: rows, beta: accumulate ? 1 : 0, c: weightGradient, ldc: fanIn)
        }
        if let biasGradient {
            for o in 0..<outputChannels {
                var sum: Scalar = 0
                let run = g + o * rows
                for row in 0..<rows { sum += run[row] }
                biasGradient[o] = accumulate ? biasGradient[o] + sum : sum
            }
        }
        if let inputGradient {
            Scalar.gemm(
                transposeA: true, transposeB: false, m: fanIn, n: rows, k: outputChannels, alpha: 1, a: weight, lda: fanIn,
                b: g, ldb: rows, beta: 0, c: scratch, ldc: rows)
            scatter(scratch, batch: batch, into: inputGradient)
        }
    }
}

import Linalg

/// Buffers for one network's forward and backward passes at a given batch size: every module's
/// output (kept for the backward pass), two gradient buffers, a vector of ones for bias
/// gradients and the convolutions' scratch. Created once and reused, so the hot loops allocate nothing; grows when a larger
/// batch arrives.
public final class Workspace<Scalar: BLASScalar> {
    /// `values[0]` is the input, `values[i + 1]` the output of module `i`. A flatten module's
    /// output is its input's buffer (the values are the same, in the same order).
    public private(set) var values: [UnsafeMutablePointer<Scalar>] = []
    /// Whether `values[i]` was allocated here (not shared with `values[i − 1]`).
    private var ownsValues: [Bool] = []
    /// After a backward pass with an input gradient: `∂L/∂input`, `[batch × inputs]`.
    public private(set) var gradient: UnsafeMutablePointer<Scalar>
    var spareGradient: UnsafeMutablePointer<Scalar>
    var ones: UnsafeMutablePointer<Scalar>
    /// Room for the convolutions' patches and products (`Conv2d.scratchCount`).
    var scratch: UnsafeMutablePointer<Scalar>
    /// Room for `∂L/∂output`, `[batch × outputs]`, for callers that compute it from
    /// `outputPointer` and pass it back to `backward` without allocating.
    public private(set) var outputGradient: UnsafeMutablePointer<Scalar>
    /// Rows of the last forward pass.
    public private(set) var batch = 0
    private var capacity = 0
    private var widths: [Int] = []
    private var maximumWidth = 0

    /// Whether passes of at most `unpackedProductRows` rows run their products on
    /// `BLASScalar.unpackedProduct` instead of OpenBLAS (the forward pass's `X · Wᵀ` over
    /// `Sequential.transposedParameters`). Faster at these sizes and rounded differently: for
    /// attacks' inner loops, never for training, whose arithmetic must reproduce the shipped
    /// policies bit for bit.
    public let unpackedProducts: Bool
    /// The largest batch `unpackedProducts` applies to: the attacked-evaluation sizes (1–16
    /// copies). Robust training runs its attacks on minibatches of 64–128 rows, which stay on
    /// OpenBLAS, so retraining the shipped robust policies reproduces them bit for bit (the
    /// kernel's lead also shrinks with rows: 1.1–1.3× at 32).
    public static var unpackedProductRows: Int { 16 }

    /// A workspace for `network` with room for `batch` rows.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public init(for network: Sequential<Scalar>, batch: Int, unpackedProducts: Bool = false) {
        self.unpackedProducts = unpackedProducts
        gradient = .allocate(capacity: 1)
        spareGradient = .allocate(capacity: 1)
        ones = .allocate(capacity: 1)
        scratch = .allocate(capacity: 1)
        outputGradient = .allocate(capacity: 1)
        reserve(for: network, batch: max(batch, 1))
    }

    deinit { release() }

    /// Whether the current pass's products go to `unpackedProduct`.
    var usesUnpackedProducts: Bool { unpackedProducts && batch <= Self.unpackedProductRows && Scalar.hasUnpackedProducts }

    /// The output of the last forward pass, `[batch × outputs]`.
    public var output: Matrix<Scalar> {
        let width = widths.last!
        return Matrix(rows: batch, columns: width, storage: Array(UnsafeBufferPointer(start: values.last!, count: batch * width)))
    }

    /// Pointer to the output of the last forward pass.
    public var outputPointer: UnsafePointer<Scalar> { UnsafePointer(values.last!) }

    /// Readies the buffers for a pass of `batch` rows through `network`.
    @inline(__always)
    func prepare(for network: Sequential<Scalar>, batch: Int) {
        if batch > capacity || !fits(network) { reserve(for: network, batch: max(batch, capacity)) }
        self.batch = batch
    }

    /// Whether the buffers were laid out for a network of `network`'s shape: the same widths,
    /// and shared buffers exactly at its flatten modules.
    @inline(__always)
    private func fits(_ network: Sequential<Scalar>) -> Bool {
        guard widths.count == network.modules.count + 1, widths[0] == network.inputDimensions else { return false }
        for (i, module) in network.modules.enumerated() {
            let flattens = if case .flatten = module { true } else { false }
            if ownsValues[i + 1] == flattens { return false }
            if let width = module.outputWidth, width != widths[i + 1] { return false }
        }
        return true
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func reserve(for network: Sequential<Scalar>, batch: Int) {
        release()
        var width = network.inputDimensions
        widths = [width]
        var scratchCount = 0
        for module in network.modules {
            width = module.outputWidth ?? width
            widths.append(width)
            if case .conv2d(let conv) = module { scratchCount = max(scratchCount, conv.scratchCount(batch: batch)) }
        }
        maximumWidth = widths.max()!
        capacity = batch
        values = []
        ownsValues = []
        for (i, w) in widths.enumerated() {
            if i > 0, case .flatten = network.modules[i - 1] {
                values.append(values[i - 1])
                ownsValues.append(false)
            } else {
                let buffer = UnsafeMutablePointer<Scalar>.allocate(capacity: w * batch)
                buffer.initialize(repeating: 0, count: w * batch)
                values.append(buffer)
                ownsValues.append(true)
            }
        }
        gradient = .allocate(capacity: maximumWidth * batch)
        gradient.initialize(repeating: 0, count: maximumWidth * batch)
        spareGradient = .allocate(capacity: maximumWidth * batch)
        spareGradient.initialize(repeating: 0, count: maximumWidth * batch)
        ones = .allocate(capacity: batch)
        ones.initialize(repeating: 1, count: batch)
        scratch = .allocate(capacity: max(scratchCount, 1))
        scratch.initialize(repeating: 0, count: max(scratchCount, 1))
        outputGradient = .allocate(capacity: widths.last! * batch)
        outputGradient.initialize(repeating: 0, count: widths.last! * batch)
    }

    private func release() {
        for (buffer, owned) in zip(values, ownsValues) where owned { buffer.deallocate() }
        values = []
        ownsValues = []
        gradient.deallocate()
        spareGradient.deallocate()
        ones.deallocate()
        scratch.deallocate()
        outputGradient.deallocate()
    }
}

import Linalg

/// An elementwise activation function, with its derivative written from its output (so a
/// network keeps only each module's output for the backward pass).
///
/// PyTorch counterparts: `nn.Identity`, `nn.ReLU`, `nn.Tanh`, `nn.LeakyReLU(negative_slope)`.
public enum Activation: Equatable, Hashable, Sendable {
    case identity
    case relu
    case tanh
    /// `x` for x > 0, `slope · x` otherwise; `slope` must be positive (PyTorch's default 0.01).
    case leakyReLU(slope: Double)

    /// The name used in configs and policy files: `identity`, `relu`, `tanh`, `leaky_relu`
    /// (`leaky_relu:0.2` for a slope other than PyTorch's 0.01).
    public var name: String {
        switch self {
        case .identity: "identity"
        case .relu: "relu"
        case .tanh: "tanh"
        case .leakyReLU(let slope): slope == 0.01 ? "leaky_relu" : "leaky_relu:\(slope)"
        }
    }

    /// Parses a name produced by `name`; nil for anything else.
    public init?(name: String) {
        switch name.lowercased() {
        case "identity", "linear", "none": self = .identity
        case "relu": self = .relu
        case "tanh": self = .tanh
        case "leaky_relu", "leakyrelu": self = .leakyReLU(slope: 0.01)
        default:
            let parts = name.split(separator: ":")
            guard parts.count == 2, parts[0] == "leaky_relu", let slope = Double(parts[1]), slope > 0,
                slope.isFinite
            else { return nil }
            self = .leakyReLU(slope: slope)
        }
    }

    /// `y = f(x)` for `count` entries. Float32 tanh uses a vectorised rational approximation
    /// within a few ulp of libm (`fastTanh`); Float64, the reference precision, uses libm.
    @inlinable
    public func apply<Scalar: BLASScalar>(
        _ x: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>, count: Int
    ) {
        switch self {
        case .identity:
            y.update(from: x, count: count)
        case .relu:
            if Scalar.self == Float.self {
                let xFloat = UnsafeRawPointer(x).assumingMemoryBound(to: Float.self)
                zeroingNonPositive(
                    xFloat, where: xFloat, count: count, into: UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self))
            } else {
                for i in 0..<count { y[i] = x[i] > 0 ? x[i] : 0 }
            }
        case .tanh:
            if Scalar.self == Float.self {
                fastTanh(
                    UnsafeRawPointer(x).assumingMemoryBound(to: Float.self),
                    into: UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self), count: count)
            } else {
                for i in 0..<count { y[i] = Scalar.tanh(x[i]) }
            }
        case .leakyReLU(let slope):
            let s = Scalar(slope)
            for i in 0..<count { y[i] = x[i] > 0 ? x[i] : s * x[i] }
        }
    }

    /// `g ← g · f′(x)` in place, with `f′` expressed through the output `y = f(x)`:
    /// ReLU `y > 0`, tanh `1 − y²`, leaky ReLU `y > 0 ? 1 : slope`.
    @inlinable
    public func multiplyByDerivative<Scalar: BLASScalar>(
        _ g: UnsafeMutablePointer<Scalar>, output y: UnsafePointer<Scalar>, count: Int
    ) {
        switch self {
        case .identity:
            return
        case .relu:
            if Scalar.self == Float.self {
                let gFloat = UnsafeMutableRawPointer(g).assumingMemoryBound(to: Float.self)
                zeroingNonPositive(
                    UnsafePointer(gFloat), where: UnsafeRawPointer(y).assumingMemoryBound(to: Float.self), count: count,
                    into: gFloat)
            } else {
                for i in 0..<count { g[i] = y[i] > 0 ? g[i] : 0 }
            }
        case .tanh:
            for i in 0..<count { g[i] *= 1 - y[i] * y[i] }
        case .leakyReLU(let slope):
            let s = Scalar(slope)
            for i in 0..<count { g[i] = y[i] > 0 ? g[i] : s * g[i] }
        }
    }

    /// `out[i] = y[i] > 0 ? v[i] : 0` for Float32, eight lanes at a time without branches (the
    /// scalar loop compiles to a compare and jump per element, which costed ReLU networks' backward
    /// pass more than its matrix products at batch 16). `out` may be `v`.
    @usableFromInline
    func zeroingNonPositive(
        _ v: UnsafePointer<Float>, where y: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>
    ) {
        let values = UnsafeRawPointer(v)
        let signs = UnsafeRawPointer(y)
        let target = UnsafeMutableRawPointer(out)
        var i = 0
        while i + 8 <= count {
            var lanes = values.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            lanes.replace(with: 0, where: .!(signs.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) .> 0))
            target.storeBytes(of: lanes, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            out[i] = y[i] > 0 ? v[i] : 0
            i += 1
        }
    }

    /// The derivative `f′(x)` at an input (ReLU's is taken as 0 at 0).
    @inlinable
    public func derivative<Scalar: BLASScalar>(_ x: Scalar) -> Scalar {
        switch self {
        case .identity: 1
        case .relu: x > 0 ? 1 : 0
        case .tanh: 1 - Scalar.tanh(x) * Scalar.tanh(x)
        case .leakyReLU(let slope): x > 0 ? 1 : Scalar(slope)
        }
    }

    /// The function on one scalar.
    @inlinable
    public func callAsFunction<Scalar: BLASScalar>(_ x: Scalar) -> Scalar {
        switch self {
        case .identity: x
        case .relu: x > 0 ? x : 0
        case .tanh: Scalar.self == Float.self ? Scalar(fastTanh(SIMD8(repeating: Float(x)))[0]) : Scalar.tanh(x)
        case .leakyReLU(let slope): x > 0 ? x : Scalar(slope) * x
        }
    }
}

// MARK: - Softmax family (functions, not modules)

/// Row-wise softmax of `logits`, computed stably by subtracting each row's maximum.
@_specialize(exported:true,where Scalar == Float)
@_specialize(where Scalar == Double)
public func softmax<Scalar: BLASScalar>(_ logits: Matrix<Scalar>) -> Matrix<Scalar> {
    logSoftmax(logits).map { Scalar.exp($0) }
}

/// Row-wise log-softmax: `x_i − max(x) − log Σ_j exp(x_j − max(x))`.
@_specialize(exported:true,where Scalar == Float)
@_specialize(where Scalar == Double)
public func logSoftmax<Scalar: BLASScalar>(_ logits: Matrix<Scalar>) -> Matrix<Scalar> {
    var result = logits
    let n = logits.columns
    guard n > 0 else { return result }
    result.storage.withUnsafeMutableBufferPointer { values in
        for r in 0..<logits.rows {
            let row = values.baseAddress! + r * n
            let logTotal = logSumExp(row, count: n)
            for j in 0..<n { row[j] -= logTotal }
        }
    }
    return result
}

/// `log Σ_j exp(x_j)` of one row of `count ≥ 1` values, computed stably as
/// `max(x) + log Σ_j exp(x_j − max(x))`; `x_i − logSumExp(x)` is `logSoftmax`'s entry `i`.
@inlinable
public func logSumExp<Scalar: BLASScalar>(_ row: UnsafePointer<Scalar>, count n: Int) -> Scalar {
    var maximum = row[0]
    for j in 1..<n where row[j] > maximum { maximum = row[j] }
    var total: Scalar = 0
    for j in 0..<n { total += Scalar.exp(row[j] - maximum) }
    return Scalar.log(total) + maximum
}

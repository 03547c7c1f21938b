import CGSL
import CKernels
@_exported import RealModule

/// A floating-point scalar that Gauntlet computes in: `Float` (the default) or `Double` (the
/// reference precision). Each conformance routes matrix products to the matching CBLAS routine
/// (`sgemm`/`dgemm`, `sgemv`/`dgemv`), served by OpenBLAS — except Float's `A · B` with at most
/// `smallProductRows` rows, which CKernels' AVX2 + FMA kernel computes where the CPU has them.
public protocol BLASScalar: BinaryFloatingPoint, Real, SIMDScalar, Sendable, Codable
where RawSignificand: FixedWidthInteger {
    /// The safetensors dtype name of this scalar (`F32`, `F64`).
    static var dtypeName: String { get }

    /// Row-major `C ← alpha · op(A) · op(B) + beta · C` with `op(A)` of shape m × k and `op(B)`
    /// of shape k × n; `lda`, `ldb`, `ldc` are the row strides of the matrices as stored.
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    /// Whether `unpackedProduct` runs here: Float on a CPU with AVX2 and FMA.
    static var hasUnpackedProducts: Bool { get }

    /// Row-major `C ← A · B + beta · C` (A m × k, B k × n) by CKernels' kernel, which does not
    /// pack its operands: faster than OpenBLAS for a few rows, rounded differently (each sum
    /// runs over k in order with fused multiply-adds). Only call it when `hasUnpackedProducts`.
    static func unpackedProduct(
        m: Int, n: Int, k: Int, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    /// Row-major `y ← alpha · op(A) · x + beta · y`, with `A` stored as m × n.
    static func gemv(
        transposeA: Bool, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
        x: UnsafePointer<Self>, beta: Self, y: UnsafeMutablePointer<Self>)
}

/// Products `A · B` with at most this many rows go to the small-matrix kernel of CKernels when
/// the CPU has AVX2 and FMA: an attack's input gradient on a few observations. Measured with
/// PGD-10 on one CartPole copy (`gauntlet bench attack --envs 1`): 1.2× the throughput through
/// sgemm; training's products have more rows and stay with OpenBLAS.
let smallProductRows = 8

extension Float: BLASScalar {
    public static var dtypeName: String { "F32" }

    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        // A few rows (an input gradient for a handful of observations): OpenBLAS packs both
        // operands for every call and the packing costs as much as the product; the AVX2 + FMA
        // kernel of CKernels does not pack.
        if !transposeA && !transposeB && alpha == 1 && m <= smallProductRows && hasUnpackedProducts {
            unpackedProduct(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k), alpha, a,
            Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    public static var hasUnpackedProducts: Bool { gauntlet_small_sgemm_available() }

    public static func unpackedProduct(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        gauntlet_small_sgemm(Int32(m), Int32(n), Int32(k), a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    @inlinable @inline(__always)
    public static func gemv(
        transposeA: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a,
            Int32(lda), x, 1, beta, y, 1)
    }
}

extension Double: BLASScalar {
    public static var dtypeName: String { "F64" }

    @inlinable @inline(__always)
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k), alpha, a,
            Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    public static var hasUnpackedProducts: Bool { false }

    public static func unpackedProduct(
        m: Int, n: Int, k: Int, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        preconditionFailure("Double has no unpacked product kernel (check hasUnpackedProducts)")
    }

    @inlinable @inline(__always)
    public static func gemv(
        transposeA: Bool, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
        x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>
    ) {
        cblas_dgemv(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a,
            Int32(lda), x, 1, beta, y, 1)
    }
}

/// The numeric precision a run computes in; chosen by the user (`--precision f32|f64`), never
/// changed silently.
public enum Precision: String, CaseIterable, Sendable, Codable {
    case f32, f64

    /// The precision of `S`.
    public init<S: BLASScalar>(of _: S.Type) { self = S.self == Float.self ? .f32 : .f64 }
}

/// Process-wide settings of the BLAS library.
public enum BLAS {
    /// Sets the number of threads OpenBLAS uses (Gauntlet parallelises across episodes and sweep
    /// cells instead, so one thread is the default for its own work).
    public static func setThreads(_ count: Int) { openblas_set_num_threads(Int32(count)) }

    /// The threads OpenBLAS currently uses.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// The CPU kernel OpenBLAS chose (`Haswell`, `SkylakeX`, …). Its order of summation decides
    /// the last bits of every product, so training records it: weights retrain bit for bit where
    /// the same kernel runs (`OPENBLAS_CORETYPE` chooses one).
    public static var coreName: String {
        guard let text = openblas_get_corename() else { return "unknown" }
        return String(cString: text)
    }

    /// OpenBLAS's build description (kernel, core type), for benchmark reports.
    public static var configuration: String {
        guard let text = openblas_get_config() else { return "unknown" }
        return String(cString: text)
    }
}

extension Array where Element: BLASScalar {
    /// Whether every value is finite, tested on the bit patterns with operations that vectorise
    /// (a learner checks its parameters after every update, and `allSatisfy(\.isFinite)`
    /// compares and branches per value): adding one to the exponent field carries into the sign
    /// bit exactly when the exponent is all ones (an infinity or a NaN).
    @_specialize(where Element == Float)
    @_specialize(where Element == Double)
    public func allFinite() -> Bool {
        withUnsafeBytes { bytes in
            if Element.self == Float.self {
                var carries: UInt32 = 0
                for bits in bytes.bindMemory(to: UInt32.self) { carries |= (bits & 0x7F80_0000) &+ 0x0080_0000 }
                return carries & 0x8000_0000 == 0
            }
            precondition(Element.self == Double.self, "allFinite knows Float and Double")
            var carries: UInt64 = 0
            for bits in bytes.bindMemory(to: UInt64.self) { carries |= (bits & 0x7FF0_0000_0000_0000) &+ 0x0010_0000_0000_0000 }
            return carries & 0x8000_0000_0000_0000 == 0
        }
    }
}

import Linalg
import TestSupport
import Testing

/// Float products `A · B` with few rows go to the AVX2 + FMA kernel (CKernels) where the CPU has
/// it, the rest (and every transposed product) to OpenBLAS; all — and the kernel called directly
/// as `unpackedProduct` — must give `A · op(B) + beta · C` to single-precision rounding, whatever
/// the shape's remainders against the kernel's 4-row, 8- and 16-column blocks and its masked
/// last columns.
@Suite struct SmallProductTests {
    /// Row-major, strided storage with padding, so wrong strides read garbage.
    struct Stored {
        var values: [Float]
        let rows: Int, columns: Int, stride: Int
        init(_ matrix: Matrix<Double>, padding: Int) {
            rows = matrix.rows
            columns = matrix.columns
            stride = columns + padding
            values = [Float](repeating: .nan, count: rows * stride)
            for r in 0..<rows { for c in 0..<columns { values[r * stride + c] = Float(matrix[r, c]) } }
        }
    }

    /// Which entry point computes the product.
    enum Route: CaseIterable { case gemm, gemmTransposedB, unpacked }

    @Test(arguments: Route.allCases)
    func productsMatchTheDoubleReference(route: Route) throws {
        try #require(route != .unpacked || Float.hasUnpackedProducts, "this CPU has no AVX2 + FMA")
        let transposeB = route == .gemmTransposedB
        let random = RandomStream(seed: 41)
        for m in [1, 2, 3, 4, 5, 7, 8, 9, 13, 16] {
            for (n, k) in [(1, 1), (2, 4), (7, 3), (8, 8), (9, 9), (16, 64), (17, 65), (64, 4), (64, 64), (3, 17)] {
                let a = randomMatrix(rows: m, columns: k, random: random)
                let b =
                    transposeB
                    ? randomMatrix(rows: n, columns: k, random: random) : randomMatrix(rows: k, columns: n, random: random)
                let c0 = randomMatrix(rows: m, columns: n, random: random)
                for beta in [0.0, 1.0, 0.5] {
                    let storedA = Stored(a, padding: 3)
                    let storedB = Stored(b, padding: 2)
                    var storedC = Stored(c0, padding: 1)
                    // beta = 0 must ignore what C holds
                    if beta == 0 { for r in 0..<m { for j in 0..<n { storedC.values[r * storedC.stride + j] = .nan } } }
                    storedA.values.withUnsafeBufferPointer { pa in
                        storedB.values.withUnsafeBufferPointer { pb in
                            storedC.values.withUnsafeMutableBufferPointer { pc in
                                if route == .unpacked {
                                    Float.unpackedProduct(
                                        m: m, n: n, k: k, a: pa.baseAddress!, lda: storedA.stride, b: pb.baseAddress!,
                                        ldb: storedB.stride, beta: Float(beta), c: pc.baseAddress!, ldc: storedC.stride)
                                } else {
                                    Float.gemm(
                                        transposeA: false, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                                        a: pa.baseAddress!, lda: storedA.stride, b: pb.baseAddress!, ldb: storedB.stride,
                                        beta: Float(beta), c: pc.baseAddress!, ldc: storedC.stride)
                                }
                            }
                        }
                    }
                    var worst = 0.0
                    for i in 0..<m {
                        for j in 0..<n {
                            var exact = beta == 0 ? 0 : beta * Double(Float(c0[i, j]))
                            var magnitude = abs(exact)
                            for p in 0..<k {
                                let term = Double(Float(a[i, p])) * Double(Float(transposeB ? b[j, p] : b[p, j]))
                                exact += term
                                magnitude += abs(term)
                            }
                            worst = max(
                                worst, abs(Double(storedC.values[i * storedC.stride + j]) - exact) / max(magnitude, 1e-30))
                        }
                        #expect(storedC.values[i * storedC.stride + n].isNaN, "the padding after row \(i) was written")
                    }
                    #expect(worst < 1e-5, "m \(m) n \(n) k \(k) transposeB \(transposeB) beta \(beta): relative error \(worst)")
                }
            }
        }
    }
}

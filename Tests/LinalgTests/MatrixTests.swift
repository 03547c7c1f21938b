import Linalg
import PropertyBased
import TestSupport
import Testing

/// The product computed by the definition, in Double, as the reference for CBLAS.
private func naiveProduct(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
    a.map { row in (0..<b[0].count).map { j in zip(row, b.map { $0[j] }).reduce(0) { $0 + $1.0 * $1.1 } } }
}

private func transpose(_ m: [[Double]]) -> [[Double]] {
    (0..<m[0].count).map { j in m.map { $0[j] } }
}

@Suite struct MatrixTests {
    @Test func gemmMatchesTheDefinitionForEveryTransposeInBothPrecisions() async {
        await propertyCheck(
            count: 60, input: Gen.int(in: 1...17), Gen.int(in: 1...17), Gen.int(in: 1...17), Gen.int(in: 0...3)
        ) { m, n, k, transposes in
            let random = RandomStream(seed: UInt64(m * 10_000 + n * 100 + k))
            let ta = transposes & 1 == 1
            let tb = transposes & 2 == 2
            let a = randomMatrix(rows: ta ? k : m, columns: ta ? m : k, random: random)
            let b = randomMatrix(rows: tb ? n : k, columns: tb ? k : n, random: random)
            let expected = naiveProduct(ta ? transpose(a.rowArrays) : a.rowArrays, tb ? transpose(b.rowArrays) : b.rowArrays)
            let double = Matrix.product(a, b, transposeA: ta, transposeB: tb)
            #expect(double.maxAbsoluteDifference(to: Matrix(expected)) < 1e-12)
            let float = Matrix.product(a.converted(to: Float.self), b.converted(to: Float.self), transposeA: ta, transposeB: tb)
            #expect(float.converted(to: Double.self).maxAbsoluteDifference(to: Matrix(expected)) < 1e-4)
        }
    }

    @Test func gemvMatchesGemm() {
        let random = RandomStream(seed: 3)
        let a = randomMatrix(rows: 9, columns: 5, random: random)
        let x = (0..<5).map { _ in random.normal() }
        let viaGemm = Matrix.product(a, Matrix(rows: 5, columns: 1, storage: x))
        #expect(maximumRelativeError(a.applied(to: x), viaGemm.storage) < 1e-14)
    }

    @Test func elementwiseOperationsAndTranspose() {
        let a = Matrix<Double>([[1, 2, 3], [4, 5, 6]])
        let b = Matrix<Double>([[6, 5, 4], [3, 2, 1]])
        #expect((a + b) == Matrix(rows: 2, columns: 3, repeating: 7))
        #expect((a - b).storage == [-5, -3, -1, 1, 3, 5])
        #expect((a .* b).storage == [6, 10, 12, 12, 10, 6])
        #expect((2 * a).storage == [2, 4, 6, 8, 10, 12])
        #expect(a.transposed == Matrix([[1, 4], [2, 5], [3, 6]]))
        #expect(a.transposed.transposed == a)
        #expect(a.row(1) == [4, 5, 6])
        var c = a
        c.setRow(0, to: [7, 8, 9])
        #expect(c[0, 2] == 9)
        #expect(a.isFinite && !Matrix<Double>(row: [.nan]).isFinite)
    }

    /// `[a | b]` row by row, in both precisions, including empty blocks.
    @Test func appendingColumns() {
        let a = Matrix<Float>([[1, 2, 3], [4, 5, 6]])
        let b = Matrix<Float>([[7], [8]])
        #expect(a.appendingColumns(b) == Matrix([[1, 2, 3, 7], [4, 5, 6, 8]]))
        #expect(b.appendingColumns(a).storage == [7, 1, 2, 3, 8, 4, 5, 6])
        #expect(a.appendingColumns(Matrix(rows: 2, columns: 0)) == a)
        #expect(Matrix<Double>(rows: 0, columns: 2).appendingColumns(Matrix(rows: 0, columns: 3)) == Matrix(rows: 0, columns: 5))
        let c = Matrix<Double>([[0.5, -1], [2, 3]])
        #expect(c.appendingColumns(c).row(1) == [2, 3, 2, 3])
    }

    @Test func orthogonalMatricesHaveOrthonormalRowsOrColumns() {
        let random = RandomStream(seed: 11)
        for (rows, columns) in [(8, 8), (12, 5), (5, 12)] {
            let q = Matrix<Double>.randomOrthogonal(rows: rows, columns: columns, random: random)
            let gram = rows >= columns ? Matrix.product(q, q, transposeA: true) : Matrix.product(q, q, transposeB: true)
            let n = min(rows, columns)
            var identity = Matrix<Double>(rows: n, columns: n)
            for i in 0..<n { identity[i, i] = 1 }
            #expect(gram.maxAbsoluteDifference(to: identity) < 1e-12)
        }
    }

    /// `allFinite` (bit patterns) agrees with `isFinite` value by value: every special value at
    /// every position of arrays of several lengths, in both precisions.
    @Test func allFiniteAgreesWithIsFinite() {
        func check<S: BLASScalar>(_: S.Type) {
            let specials: [S] = [
                .nan, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                .leastNonzeroMagnitude, -0.0, 0, 1, .signalingNaN,
            ]
            for count in [0, 1, 7, 64, 67] {
                let finite = (0..<count).map { S($0) - 3.5 }
                #expect(finite.allFinite())
                for position in 0..<count {
                    for special in specials {
                        var values = finite
                        values[position] = special
                        #expect(
                            values.allFinite() == values.allSatisfy(\.isFinite), "\(S.self) \(special) at \(position) of \(count)"
                        )
                    }
                }
            }
        }
        check(Float.self)
        check(Double.self)
    }
}

/// A dense row-major matrix whose rows are a batch: `rows` observations (or examples) of
/// `columns` features each. Generic over its scalar (`Float` by default, `Double` as the
/// reference precision); products go through CBLAS, elementwise work through plain loops over
/// contiguous storage that the compiler vectorises.
public struct Matrix<Scalar: BLASScalar>: Equatable, Sendable, Codable {
    /// Number of rows (batch size).
    public let rows: Int
    /// Number of columns (features).
    public let columns: Int
    /// The entries, row after row: entry (r, c) is `storage[r * columns + c]`.
    public var storage: [Scalar]

    /// A `rows × columns` matrix with every entry equal to `value`.
    @inlinable
    public init(rows: Int, columns: Int, repeating value: Scalar = 0) {
        precondition(rows >= 0 && columns >= 0, "Matrix dimensions must be non-negative")
        self.rows = rows
        self.columns = columns
        self.storage = Array(repeating: value, count: rows * columns)
    }

    /// A `rows × columns` matrix over the given row-major entries.
    @inlinable
    public init(rows: Int, columns: Int, storage: [Scalar]) {
        precondition(
            storage.count == rows * columns, "Matrix storage has \(storage.count) entries, expected \(rows) × \(columns)")
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    /// A matrix from an array of equally long rows.
    public init(_ rowArrays: [[Scalar]]) {
        let columns = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == columns }, "Rows of unequal length")
        self.init(rows: rowArrays.count, columns: columns, storage: rowArrays.flatMap { $0 })
    }

    /// A one-row matrix holding `vector`.
    @inlinable
    public init(row vector: [Scalar]) {
        self.init(rows: 1, columns: vector.count, storage: vector)
    }

    /// The entry at row `r`, column `c`.
    @inlinable
    public subscript(r: Int, c: Int) -> Scalar {
        get { storage[r * columns + c] }
        set { storage[r * columns + c] = newValue }
    }

    /// Row `r` as an array.
    @inlinable
    public func row(_ r: Int) -> [Scalar] {
        Array(storage[(r * columns)..<((r + 1) * columns)])
    }

    /// Replaces row `r`.
    @inlinable
    public mutating func setRow(_ r: Int, to values: [Scalar]) {
        precondition(values.count == columns)
        storage.replaceSubrange((r * columns)..<((r + 1) * columns), with: values)
    }

    /// All rows as arrays.
    public var rowArrays: [[Scalar]] { (0..<rows).map(row) }

    /// The `columns × rows` transpose.
    public var transposed: Matrix {
        var result = Matrix(rows: columns, columns: rows)
        for r in 0..<rows {
            for c in 0..<columns { result.storage[c * rows + r] = storage[r * columns + c] }
        }
        return result
    }

    /// The same entries in another precision. Explicit: Gauntlet never converts silently.
    @inlinable
    @_specialize(where Scalar == Float, Other == Double)
    @_specialize(where Scalar == Double, Other == Float)
    @_specialize(where Scalar == Float, Other == Float)
    public func converted<Other: BLASScalar>(to _: Other.Type) -> Matrix<Other> {
        Matrix<Other>(rows: rows, columns: columns, storage: storage.map { Other($0) })
    }

    /// The matrix product `op(a) · op(b)` through CBLAS gemm.
    @inlinable
    public static func product(
        _ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false
    ) -> Matrix {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let kB = transposeB ? b.columns : b.rows
        let n = transposeB ? b.rows : b.columns
        precondition(k == kB, "Inner dimensions differ: \(k) and \(kB)")
        var c = Matrix(rows: m, columns: n)
        if m == 0 || n == 0 { return c }
        if k == 0 { return c }
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                c.storage.withUnsafeMutableBufferPointer { pc in
                    Scalar.gemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                        alpha: 1, a: pa.baseAddress!, lda: a.columns, b: pb.baseAddress!,
                        ldb: b.columns, beta: 0, c: pc.baseAddress!, ldc: n)
                }
            }
        }
        return c
    }

    /// `self · vector` through CBLAS gemv.
    @inlinable
    public func applied(to vector: [Scalar]) -> [Scalar] {
        precondition(vector.count == columns)
        var y = [Scalar](repeating: 0, count: rows)
        if rows == 0 || columns == 0 { return y }
        storage.withUnsafeBufferPointer { pa in
            vector.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    Scalar.gemv(
                        transposeA: false, m: rows, n: columns, alpha: 1, a: pa.baseAddress!,
                        lda: columns, x: px.baseAddress!, beta: 0, y: py.baseAddress!)
                }
            }
        }
        return y
    }

    /// Applies `transform` to every entry.
    @inlinable
    public func map(_ transform: (Scalar) -> Scalar) -> Matrix {
        Matrix(rows: rows, columns: columns, storage: storage.map(transform))
    }

    /// Entrywise combination of two matrices of equal shape.
    @inlinable
    public func zipMap(_ other: Matrix, _ combine: (Scalar, Scalar) -> Scalar) -> Matrix {
        precondition(rows == other.rows && columns == other.columns, "Shapes differ")
        var result = self
        result.storage.withUnsafeMutableBufferPointer { r in
            other.storage.withUnsafeBufferPointer { o in
                for i in 0..<r.count { r[i] = combine(r[i], o[i]) }
            }
        }
        return result
    }

    @inlinable
    public static func + (lhs: Matrix, rhs: Matrix) -> Matrix { lhs.zipMap(rhs, +) }
    @inlinable
    public static func - (lhs: Matrix, rhs: Matrix) -> Matrix { lhs.zipMap(rhs, -) }
    /// Entrywise (Hadamard) product.
    @inlinable
    public static func .* (lhs: Matrix, rhs: Matrix) -> Matrix { lhs.zipMap(rhs, *) }
    @inlinable
    public static func * (lhs: Scalar, rhs: Matrix) -> Matrix { rhs.map { lhs * $0 } }

    /// The largest absolute difference to `other` (∞ if the shapes differ).
    public func maxAbsoluteDifference(to other: Matrix) -> Scalar {
        guard rows == other.rows && columns == other.columns else { return .infinity }
        return zip(storage, other.storage).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) }
    }

    /// Whether every entry is finite (no NaN, no ±∞).
    public var isFinite: Bool { storage.allFinite() }
}

infix operator .* : MultiplicationPrecedence

extension Matrix {
    /// `[self | other]`: each row of `self` followed by the same row of `other` (a critic's
    /// `[s, a]` input).
    /// Inlinable, so callers get it specialised: WocaR's worst-action search and SAC's critics
    /// call it on every step, and the generic version spent a quarter of WocaR's time looking up
    /// type metadata for its per-row arrays.
    @inlinable
    public func appendingColumns(_ other: Matrix) -> Matrix {
        precondition(rows == other.rows, "appending columns needs the same number of rows")
        let width = columns + other.columns
        var result = [Scalar](repeating: 0, count: rows * width)
        result.withUnsafeMutableBufferPointer { out in
            storage.withUnsafeBufferPointer { left in
                other.storage.withUnsafeBufferPointer { right in
                    for r in 0..<rows {
                        for c in 0..<columns { out[r * width + c] = left[r * columns + c] }
                        for c in 0..<other.columns { out[r * width + columns + c] = right[r * other.columns + c] }
                    }
                }
            }
        }
        return Matrix(rows: rows, columns: width, storage: result)
    }
}

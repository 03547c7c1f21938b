import CGSL

extension Matrix where Scalar == Double {
    /// A `rows × columns` matrix with orthonormal rows (if rows ≤ columns) or columns (otherwise),
    /// row-major: the Q factor of a Gaussian matrix's QR decomposition (GSL Householder QR), with
    /// column signs fixed by `sign(diag R)` so the distribution is uniform (Haar), as PyTorch does.
    public static func randomOrthogonal(rows: Int, columns: Int, random: RandomStream) -> Matrix<Double> {
        let tall = max(rows, columns)
        let narrow = min(rows, columns)
        let a = gsl_matrix_alloc(tall, narrow)!
        let tau = gsl_vector_alloc(narrow)!
        let q = gsl_matrix_alloc(tall, tall)!
        let r = gsl_matrix_alloc(tall, narrow)!
        defer {
            gsl_matrix_free(a)
            gsl_vector_free(tau)
            gsl_matrix_free(q)
            gsl_matrix_free(r)
        }
        // PyTorch fills the (rows × columns) matrix and transposes when rows < columns.
        for i in 0..<rows {
            for j in 0..<columns {
                let value = random.normal()
                if rows >= columns { gsl_matrix_set(a, i, j, value) } else { gsl_matrix_set(a, j, i, value) }
            }
        }
        gsl_linalg_QR_decomp(a, tau)
        gsl_linalg_QR_unpack(a, tau, q, r)
        var result = [Double](repeating: 0, count: rows * columns)
        for j in 0..<narrow {
            let sign: Double = gsl_matrix_get(r, j, j) < 0 ? -1 : 1
            for i in 0..<tall {
                let value = sign * gsl_matrix_get(q, i, j)
                if rows >= columns { result[i * columns + j] = value } else { result[j * columns + i] = value }
            }
        }
        return Matrix(rows: rows, columns: columns, storage: result)
    }
}

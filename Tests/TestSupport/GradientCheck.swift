import Linalg

/// Central finite differences `(f(x + h eᵢ) − f(x − h eᵢ)) / 2h` of a scalar function at every
/// coordinate of `x`: the independent reference every analytic gradient is checked against.
public func numericalGradient(of f: ([Double]) -> Double, at x: [Double], step h: Double = 1e-6) -> [Double] {
    var point = x
    return x.indices.map { i in
        point[i] = x[i] + h
        let plus = f(point)
        point[i] = x[i] - h
        let minus = f(point)
        point[i] = x[i]
        return (plus - minus) / (2 * h)
    }
}

/// The largest entrywise relative error `|a − b| / max(1, |a|, |b|)`.
public func maximumRelativeError(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1) / max(1, abs($1.0), abs($1.1))) }
}

/// A matrix of standard-normal entries.
public func randomMatrix(rows: Int, columns: Int, random: RandomStream, scale: Double = 1) -> Matrix<Double> {
    Matrix(rows: rows, columns: columns, storage: (0..<(rows * columns)).map { _ in scale * random.normal() })
}

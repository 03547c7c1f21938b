import CGSL

/// Descriptive statistics on GSL (`gsl_stats_*`, `gsl_sort`), computed in Double whatever the
/// input precision.
public enum Statistics {
    /// The arithmetic mean (`gsl_stats_mean`). NaN for an empty sample.
    public static func mean(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        return values.withUnsafeBufferPointer { gsl_stats_mean($0.baseAddress, 1, $0.count) }
    }

    /// The sample standard deviation with the n − 1 denominator (`gsl_stats_sd`); 0 for one value.
    public static func standardDeviation(_ values: [Double]) -> Double {
        guard values.count > 1 else { return values.isEmpty ? .nan : 0 }
        return values.withUnsafeBufferPointer { gsl_stats_sd($0.baseAddress, 1, $0.count) }
    }

    /// The sample variance with the n − 1 denominator (`gsl_stats_variance`).
    public static func variance(_ values: [Double]) -> Double {
        guard values.count > 1 else { return values.isEmpty ? .nan : 0 }
        return values.withUnsafeBufferPointer { gsl_stats_variance($0.baseAddress, 1, $0.count) }
    }

    /// The values sorted ascending (`gsl_sort`).
    public static func sorted(_ values: [Double]) -> [Double] {
        var copy = values
        copy.withUnsafeMutableBufferPointer { gsl_sort($0.baseAddress, 1, $0.count) }
        return copy
    }

    /// The `fraction` quantile (0 … 1) by linear interpolation between order statistics, as
    /// `gsl_stats_quantile_from_sorted_data` (and NumPy's default) define it.
    public static func quantile(_ values: [Double], _ fraction: Double) -> Double {
        quantile(sorted: sorted(values), fraction)
    }

    /// The `fraction` quantile of already sorted values.
    public static func quantile(sorted values: [Double], _ fraction: Double) -> Double {
        precondition((0...1).contains(fraction), "quantile fraction must lie in [0, 1]")
        guard !values.isEmpty else { return .nan }
        return values.withUnsafeBufferPointer {
            gsl_stats_quantile_from_sorted_data($0.baseAddress, 1, $0.count, fraction)
        }
    }

    /// The median.
    public static func median(_ values: [Double]) -> Double { quantile(values, 0.5) }

    /// The standard normal distribution function Φ(x) (`gsl_cdf_ugaussian_P`).
    public static func normalCDF(_ x: Double) -> Double { gsl_cdf_ugaussian_P(x) }

    /// Its inverse Φ⁻¹(p) for p in (0, 1) (`gsl_cdf_ugaussian_Pinv`).
    public static func normalQuantile(_ p: Double) -> Double { gsl_cdf_ugaussian_Pinv(p) }
}

import CGSL

/// A two-sided confidence interval `[lower, upper]` at level `confidence` (0.95 for 95%).
public struct ConfidenceInterval: Equatable, Sendable, Codable, CustomStringConvertible {
    public var lower: Double
    public var upper: Double
    public var confidence: Double

    public init(lower: Double, upper: Double, confidence: Double) {
        self.lower = lower
        self.upper = upper
        self.confidence = confidence
    }

    /// Whether `value` lies inside the closed interval.
    public func contains(_ value: Double) -> Bool { lower <= value && value <= upper }

    public var description: String { "[\(lower), \(upper)]" }
}

extension ConfidenceInterval {
    /// Percentile-bootstrap interval for the mean of `values`: resample with replacement
    /// `resamples` times, take the (α/2, 1 − α/2) quantiles of the resampled means.
    public static func bootstrapMean(
        _ values: [Double], confidence: Double = 0.95, resamples: Int = 10_000,
        random: RandomStream
    ) -> ConfidenceInterval {
        bootstrap(values, confidence: confidence, resamples: resamples, random: random) { sample in
            sample.reduce(0, +) / Double(sample.count)
        }
    }

    /// Percentile-bootstrap interval for any statistic of `values` (the median, a quantile).
    public static func bootstrap(
        _ values: [Double], confidence: Double = 0.95, resamples: Int = 10_000, random: RandomStream,
        statistic: ([Double]) -> Double
    ) -> ConfidenceInterval {
        precondition((0..<1).contains(confidence) && confidence > 0, "confidence must lie in (0, 1)")
        precondition(resamples > 0, "bootstrap needs at least one resample")
        guard !values.isEmpty else { return ConfidenceInterval(lower: .nan, upper: .nan, confidence: confidence) }
        let n = values.count
        var sample = [Double](repeating: 0, count: n)
        var estimates = [Double](repeating: 0, count: resamples)
        for b in 0..<resamples {
            for i in 0..<n { sample[i] = values[random.integer(below: n)] }
            estimates[b] = statistic(sample)
        }
        let sorted = Statistics.sorted(estimates)
        let alpha = 1 - confidence
        return ConfidenceInterval(
            lower: Statistics.quantile(sorted: sorted, alpha / 2),
            upper: Statistics.quantile(sorted: sorted, 1 - alpha / 2),
            confidence: confidence)
    }

    /// Percentile-bootstrap interval for the mean paired difference `mean(a − b)`: pairs are
    /// resampled together, so the variation shared by both members of a pair (the same episode
    /// seed, clean and attacked) cancels.
    public static func bootstrapPairedDifference(
        _ a: [Double], _ b: [Double], confidence: Double = 0.95, resamples: Int = 10_000,
        random: RandomStream
    ) -> ConfidenceInterval {
        precondition(a.count == b.count, "paired samples must have equal length")
        return bootstrapMean(
            zip(a, b).map { $0 - $1 }, confidence: confidence, resamples: resamples, random: random)
    }

    /// Wilson score interval for a binomial rate of `successes` out of `trials`.
    public static func wilson(successes: Int, trials: Int, confidence: Double = 0.95) -> ConfidenceInterval {
        precondition(trials > 0 && (0...trials).contains(successes), "wilson needs 0 ≤ successes ≤ trials, trials > 0")
        let n = Double(trials)
        let p = Double(successes) / n
        let z = gsl_cdf_ugaussian_Pinv(1 - (1 - confidence) / 2)
        let z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let halfWidth = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return ConfidenceInterval(
            lower: max(0, centre - halfWidth), upper: min(1, centre + halfWidth), confidence: confidence)
    }

    /// Exact Clopper–Pearson interval for a binomial rate, from Beta quantiles:
    /// `[B(α/2; k, n−k+1), B(1−α/2; k+1, n−k)]`.
    public static func clopperPearson(successes k: Int, trials n: Int, confidence: Double = 0.95) -> ConfidenceInterval {
        precondition(n > 0 && (0...n).contains(k), "clopperPearson needs 0 ≤ successes ≤ trials, trials > 0")
        let alpha = 1 - confidence
        let lower = k == 0 ? 0 : betaQuantile(alpha / 2, Double(k), Double(n - k + 1))
        let upper = k == n ? 1 : betaQuantile(1 - alpha / 2, Double(k + 1), Double(n - k))
        return ConfidenceInterval(lower: lower, upper: upper, confidence: confidence)
    }

    /// The `p`-quantile of Beta(a, b) by bisection on its distribution function
    /// (`gsl_cdf_beta_P`). GSL's own inverse, `gsl_cdf_beta_Pinv`, fails to converge — and aborts
    /// the process — for large `a + b` with `p` near a tail (e.g. 19 990 of 20 000 trials).
    static func betaQuantile(_ p: Double, _ a: Double, _ b: Double) -> Double {
        var low = 0.0
        var high = 1.0
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if middle == low || middle == high { break }
            if gsl_cdf_beta_P(middle, a, b) < p { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }
}

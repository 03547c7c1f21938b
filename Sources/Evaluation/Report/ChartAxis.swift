import Foundation

/// A numeric axis with "nice" ticks (Heckbert's rule): steps of 1, 2, 2.5 or 5 × 10ᵏ, between
/// five and eight ticks, the range widened outward to whole steps so the data sits inside.
struct ChartAxis: Equatable {
    /// The axis's extent: the first and last tick.
    var lower: Double
    var upper: Double
    var step: Double
    var ticks: [Double]

    static let tickCounts = 5...8
    static let mantissas = [1.0, 2.0, 2.5, 5.0]

    /// An axis covering `minimum…maximum` (a single value is widened to a unit-sized range).
    init(covering minimum: Double, _ maximum: Double) {
        var (low, high) = (min(minimum, maximum), max(minimum, maximum))
        if !(high - low > 1e-12 * max(1, abs(high))) {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            (low, high) = (low - pad, high + pad)
        }
        var best: (score: Double, count: Int, step: Double)? = nil
        let exponent = floor(log10(high - low))
        for power in stride(from: exponent - 2, through: exponent + 1, by: 1) {
            for mantissa in Self.mantissas {
                let step = mantissa * pow(10, power)
                let count = Int((ceil(high / step - 1e-9) - floor(low / step + 1e-9)).rounded()) + 1
                guard Self.tickCounts.contains(count) else { continue }
                // The share of the axis the data leaves empty; fewer ticks break ties.
                let waste = 1 - (high - low) / (Double(count - 1) * step)
                let score = waste + 0.01 * Double(count)
                if best == nil || score < best!.score { best = (score, count, step) }
            }
        }
        let step = best!.step
        let first = floor(low / step + 1e-9)
        ticks = (0..<best!.count).map { (first + Double($0)) * step }
        (lower, upper, self.step) = (ticks.first!, ticks.last!, step)
    }

    /// Decimals that show every tick exactly (2.5 × 10ᵏ needs one more than 10ᵏ).
    var decimals: Int {
        let exponent = Int(floor(log10(step) + 1e-9))
        let mantissa = step / pow(10, Double(exponent))
        return max(0, -exponent + (abs(mantissa - 2.5) < 1e-9 ? 1 : 0))
    }

    /// A tick's label: as many decimals as the step needs, no "-0".
    func label(_ value: Double) -> String {
        let text = String(format: "%.\(decimals)f", value)
        return Double(text) == 0 ? String(format: "%.\(decimals)f", 0.0) : text
    }

    /// Position of `value` on a segment from `start` (at `lower`) to `end` (at `upper`).
    func position(_ value: Double, from start: Double, to end: Double) -> Double {
        start + (value - lower) / (upper - lower) * (end - start)
    }
}

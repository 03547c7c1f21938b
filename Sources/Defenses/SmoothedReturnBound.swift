import Linalg

/// A certified lower bound on the expected return of a smoothed policy under any observation
/// perturbation within a total L2 budget — CROP's expectation bound (Wu et al. 2022, "CROP:
/// Certifying robust policies for reinforcement learning through functional smoothing",
/// Theorem 4, after Salman et al. 2019).
///
/// Treat the return as a function of the whole sequence of observation perturbations
/// `(δ_1, …, δ_H)`, bounded in `[J_min, J_max]`. Smoothing it with `N(0, σ²I)` noise on every
/// step gives `J̃`; for any adversarial sequence with `‖(δ_t)‖₂ ≤ B`,
///
///     J_adv ≥ J_min + (J_max − J_min) · Φ(Φ⁻¹((J̃ − J_min)/(J_max − J_min)) − B/σ).
///
/// `J̃` is estimated from returns of episodes played with the noise and replaced by its
/// one-sided Hoeffding lower bound at level α, so the bound holds with probability ≥ 1 − α. A
/// per-step budget ε over a horizon of H steps gives `B = ε √H`.
public struct SmoothedReturnBound: Equatable, Sendable, Codable {
    /// Mean return of the noisy episodes.
    public var smoothedReturn: Double
    /// Its Hoeffding lower bound.
    public var smoothedReturnLowerBound: Double
    /// The certified lower bound on the return under any perturbation within the budget.
    public var certifiedReturn: Double
    public var budget: Double

    public init(returns: [Double], returnRange: ClosedRange<Double>, sigma: Double, budget: Double, alpha: Double = 0.05) {
        precondition(!returns.isEmpty && sigma > 0 && budget >= 0 && returnRange.upperBound > returnRange.lowerBound)
        let span = returnRange.upperBound - returnRange.lowerBound
        let normalized = returns.map { min(max(($0 - returnRange.lowerBound) / span, 0), 1) }
        let mean = Statistics.mean(normalized)
        let lower = max(0, mean - (Double.log(1 / alpha) / (2 * Double(returns.count))).squareRoot())
        smoothedReturn = Statistics.mean(returns)
        smoothedReturnLowerBound = returnRange.lowerBound + span * lower
        self.budget = budget
        if lower <= 0 {
            certifiedReturn = returnRange.lowerBound
        } else {
            let p = min(lower, 1 - 1e-12)
            certifiedReturn = returnRange.lowerBound + span * Statistics.normalCDF(Statistics.normalQuantile(p) - budget / sigma)
        }
    }
}

import Attacks

/// Automated checks of a multi-attack evaluation, after Carlini et al. 2019 ("On evaluating
/// adversarial robustness"): each flags a pattern that means the evaluation, not the policy, is
/// suspect. Printed as warnings and stored with the results.
public struct SanityWarning: Equatable, Sendable, Codable, CustomStringConvertible {
    public enum Check: String, Sendable, Codable {
        /// An iterative attack did less damage than one step of FGSM.
        case iterativeWeakerThanOneStep = "iterative_weaker_than_one_step"
        /// An attack's return went up when ε grew.
        case notMonotoneInEpsilon = "not_monotone_in_epsilon"
        /// A random or black-box attack beat every white-box attack (gradient masking?).
        case gradientMasking = "gradient_masking"
        /// At ε = 0 an attack changed the returns (a harness bug).
        case zeroEpsilonChangedReturns = "zero_epsilon_changed_returns"
        /// A very large ε did not drive the return near the lowest seen (attack too weak, or masking).
        case unboundedNotMinimal = "unbounded_not_minimal"
        /// An attack did far less than its own making led to expect (a learned adversary whose
        /// victim scored much more under evaluation than while it trained, at the same ε).
        case weakerThanExpected = "weaker_than_expected"
    }

    public var check: Check
    public var message: String
    public var description: String { "warning [\(check.rawValue)]: \(message)" }

    public init(check: Check, message: String) {
        self.check = check
        self.message = message
    }
}

public enum SanityChecks {
    /// `run` with the tolerance every evaluation uses: 1% of the largest clean return's
    /// magnitude (at least 0.01).
    public static func run(_ reports: [AttackReport], attacks: AttackRegistry = .standard) -> [SanityWarning] {
        let returns = reports.flatMap(\.clean.returns)
        let scale = max(abs(returns.max() ?? 0), abs(returns.min() ?? 0), 1)
        return run(reports, tolerance: 0.01 * scale, attacks: attacks)
    }

    /// Runs every check on reports of one policy and environment (any mix of attacks and ε).
    /// `tolerance` is the return difference below which two means count as equal. Which checks
    /// an attack takes part in follows its family and ascent in `attacks`; an attack `attacks`
    /// does not describe is checked only for monotonicity in ε.
    public static func run(_ reports: [AttackReport], tolerance: Double, attacks: AttackRegistry = .standard) -> [SanityWarning] {
        func described(_ report: AttackReport) -> AttackDescription? { attacks.description(ofSpec: report.attack) }
        func isWhiteBox(_ report: AttackReport) -> Bool { described(report)?.family == .whiteBox }
        /// Iterative white-box attacks on FGSM's own objective should do at least as much damage as its one step.
        func isIterativeOnOneStepObjective(_ report: AttackReport) -> Bool {
            isWhiteBox(report) && described(report)?.ascent == .iterative(onOneStepObjective: true)
        }
        func isGradientFree(_ report: AttackReport) -> Bool { [.random, .blackBox].contains(described(report)?.family) }
        var warnings: [SanityWarning] = []
        let byEpsilon = Dictionary(grouping: reports) { $0.threatModel.epsilon }
        for (epsilon, group) in byEpsilon.sorted(by: { $0.key < $1.key }) {
            if epsilon == 0 {
                for r in group where r.attacked.returns != r.clean.returns {
                    warnings.append(
                        .init(
                            check: .zeroEpsilonChangedReturns,
                            message:
                                "\(r.attack) at ε = 0 changed the returns (clean \(r.clean.meanReturn), attacked \(r.attacked.meanReturn)): a harness bug"
                        ))
                }
                continue
            }
            let fgsm = group.filter { isWhiteBox($0) && described($0)?.ascent == .oneStep }.map(\.attacked.meanReturn).min()
            if let fgsm {
                for r in group
                where isIterativeOnOneStepObjective(r) && !r.attack.contains("loss=cw")
                    && r.attacked.meanReturn > fgsm + tolerance
                {
                    warnings.append(
                        .init(
                            check: .iterativeWeakerThanOneStep,
                            message:
                                "\(r.attack) left a return of \(r.attacked.meanReturn) at ε = \(epsilon), more than FGSM's \(fgsm)"
                        ))
                }
            }
            let white = group.filter(isWhiteBox).map(\.attacked.meanReturn).min()
            if let white {
                for r in group where isGradientFree(r) && r.attacked.meanReturn < white - tolerance {
                    warnings.append(
                        .init(
                            check: .gradientMasking,
                            message:
                                "\(r.attack) (no gradients) reached \(r.attacked.meanReturn) at ε = \(epsilon), below every white-box attack (best \(white)): gradient masking?"
                        ))
                }
            }
        }
        for (attack, runs) in Dictionary(grouping: reports, by: \.attack) {
            let ordered = runs.sorted { $0.threatModel.epsilon < $1.threatModel.epsilon }
            for (smaller, larger) in zip(ordered, ordered.dropFirst())
            where larger.attacked.meanReturn > smaller.attacked.meanReturn + tolerance {
                warnings.append(
                    .init(
                        check: .notMonotoneInEpsilon,
                        message:
                            "\(attack): return \(larger.attacked.meanReturn) at ε = \(larger.threatModel.epsilon) exceeds \(smaller.attacked.meanReturn) at ε = \(smaller.threatModel.epsilon)"
                    ))
            }
        }
        if let largest = reports.map(\.threatModel.epsilon).max(), largest >= unboundedEpsilon {
            let lowest = reports.flatMap(\.attacked.returns).min() ?? 0
            for r in reports where r.threatModel.epsilon == largest && isWhiteBox(r) && r.attacked.meanReturn > lowest + tolerance
            {
                warnings.append(
                    .init(
                        check: .unboundedNotMinimal,
                        message:
                            "\(r.attack) at the unbounded ε = \(largest) left \(r.attacked.meanReturn), above the lowest return seen (\(lowest))"
                    ))
            }
        }
        // An attack that says what it should achieve (a learned adversary's training return) and
        // left the victim far better off at the same ε: undertrained, or trained on other episodes.
        for r in reports {
            guard let expected = r.expectedEffect, abs(expected.epsilon - r.threatModel.epsilon) <= 1e-12 else { continue }
            let slack = max(tolerance, 0.25 * abs(r.clean.meanReturn - expected.attackedReturn))
            if r.attacked.meanReturn > expected.attackedReturn + slack {
                warnings.append(
                    .init(
                        check: .weakerThanExpected,
                        message:
                            "\(r.attack) at ε = \(r.threatModel.epsilon) left a return of \(r.attacked.meanReturn), far above \(expected.attackedReturn), \(expected.source) (clean \(r.clean.meanReturn)): the adversary may be undertrained"
                    ))
            }
        }
        return warnings
    }

    /// An ε at or beyond which a budget counts as unbounded.
    public static let unboundedEpsilon = 1e6
}

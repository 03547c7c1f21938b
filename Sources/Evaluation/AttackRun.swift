import Foundation
import Linalg

/// One `gauntlet attack` run: the policy file, its environment, the precision and every attack's
/// report. Its JSON is what `gauntlet attack --json` prints — `{"policy", "environment",
/// "precision", "attacks": [...]}`, or for a single attack that attack's object with the three
/// fields beside its own — and what `gauntlet results import` stores as sweep cells.
public struct AttackRun: Sendable, Codable {
    public var policy: String
    public var environment: String
    public var precision: Precision
    public var attacks: [AttackReport]

    public init(policy: String, environment: String, precision: Precision, attacks: [AttackReport]) {
        self.policy = policy
        self.environment = environment
        self.precision = precision
        self.attacks = attacks
    }

    enum Keys: String, CodingKey { case policy, environment, precision, attacks }

    /// Reads either form.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        policy = try container.decode(String.self, forKey: .policy)
        environment = try container.decode(String.self, forKey: .environment)
        precision = try container.decode(Precision.self, forKey: .precision)
        attacks =
            container.contains(.attacks)
            ? try container.decode([AttackReport].self, forKey: .attacks) : [try AttackReport(from: decoder)]
    }

    /// Writes the single-attack form when there is one attack, else the list.
    public func encode(to encoder: Encoder) throws {
        if attacks.count == 1 { try attacks[0].encode(to: encoder) }
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(policy, forKey: .policy)
        try container.encode(environment, forKey: .environment)
        try container.encode(precision, forKey: .precision)
        if attacks.count != 1 { try container.encode(attacks, forKey: .attacks) }
    }

    /// Reads a run's JSON file; errors name the file and what is wrong.
    public init(contentsOf path: String) throws(SweepError) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw SweepError("\(path): cannot read (\(error.localizedDescription))")
        }
        do { self = try JSONDecoder.gauntlet().decode(AttackRun.self, from: data) } catch let error as DecodingError {
            throw SweepError("\(path): not the JSON of `gauntlet attack --json` (\(error.readableDescription))")
        } catch {
            throw SweepError("\(path): \(error)")
        }
    }

    /// The sweep cells these reports are: each attack at its own ε, norm, units, seed and
    /// episode count, in this run's precision and the policy's own environment.
    public var cells: [(cell: SweepSpec.Cell, report: AttackReport)] {
        attacks.map { report in
            (
                SweepSpec.Cell(
                    policy: policy, attack: report.attack, epsilon: report.threatModel.epsilon, norm: report.threatModel.norm,
                    units: report.threatModel.units, seed: report.seed, episodes: report.episodes, precision: precision),
                report
            )
        }
    }
}

extension DecodingError {
    /// The coding path and what was wrong, without the underlying error's debug dump.
    var readableDescription: String {
        func path(_ context: Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "" : " at \(keys)"
        }
        switch self {
        case .keyNotFound(let key, let context): return "missing '\(key.stringValue)'\(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return context.debugDescription + path(context)
        @unknown default: return "\(self)"
        }
    }
}

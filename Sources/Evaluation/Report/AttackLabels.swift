import Attacks
import Foundation

/// Short, distinct names for the attack specs of a report, and one colour per spec shared by
/// every figure. A label is the attack's name with its non-default parameters: choices by their
/// value, then numbers as `key=value` (`pgd (cw, steps=20)`), a surrogate or adversary policy
/// file by its base name (`transfer ← cartpole-dqn`). The canonical spec stays available for a
/// key table and hover text.
struct AttackLabels {
    /// Spec → label, distinct across the report.
    private(set) var labels: [String: String] = [:]
    /// Spec → colour, by the spec's place among all specs of the report.
    private(set) var colours: [String: (colour: String, dash: String?)] = [:]

    /// Okabe & Ito's colour-blind-safe palette without its yellow (too faint on white); black
    /// is kept for the strongest-attack curve.
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#7F7F7F"]
    /// After the palette's colours, the same colours dashed.
    static let dashes: [String?] = [nil, "6 3", "2 2", "8 3 2 3"]
    /// The curve of the per-episode strongest attack.
    static let strongest = (label: "strongest (per episode)", colour: "#000000", dash: "5 3" as String?)

    init(specs: [String], registry: AttackRegistry) {
        let ordered = Array(Set(specs)).sorted()
        var byLabel: [String: [String]] = [:]
        for spec in ordered { byLabel[Self.label(of: spec, registry: registry), default: []].append(spec) }
        for (label, specs) in byLabel {
            for (index, spec) in specs.enumerated() { labels[spec] = index == 0 ? label : "\(label) #\(index + 1)" }
        }
        for (index, spec) in ordered.enumerated() {
            colours[spec] = (
                Self.palette[index % Self.palette.count], Self.dashes[(index / Self.palette.count) % Self.dashes.count]
            )
        }
    }

    func label(_ spec: String) -> String { labels[spec] ?? spec }
    func colour(_ spec: String) -> (colour: String, dash: String?) { colours[spec] ?? (Self.palette[0], nil) }

    /// The label of one spec, before labels that collide are numbered.
    static func label(of spec: String, registry: AttackRegistry) -> String {
        guard let parsed = try? AttackSpec(parsing: spec), let description = registry.description(named: parsed.name) else {
            return spec
        }
        var label = parsed.name
        var choices: [String] = []
        var details: [String] = []
        for parameter in description.parameters {
            guard let value = parsed.parameters[parameter.key], !isDefault(value, parameter.defaultValue) else { continue }
            switch parameter.kind {
            case .policyFile:
                label += " ← " + ReportData.shortName(value)
            case .choice: choices.append(value)
            default: details.append("\(parameter.key)=\(value)")
            }
        }
        for key in parsed.parameters.keys.sorted() where !description.parameters.contains(where: { $0.key == key }) {
            details.append("\(key)=\(parsed.parameters[key]!)")
        }
        details = choices + details
        return details.isEmpty ? label : "\(label) (\(details.joined(separator: ", ")))"
    }

    /// The value that stands for "the adversary trained against each policy" in a shared column.
    static let ownAdversary = "own"

    /// Heat-map columns, spec → column: attacks driven by an adversary or director trained
    /// against their victim (`learned`, `paad`) differ in that file from policy to policy, so
    /// they share one column (`learned ← own`) when no policy has two specs of that column;
    /// every other spec is its own column.
    static func columns(of cells: [(policy: String, attack: String)], registry: AttackRegistry) -> [String: String] {
        func shared(_ spec: String) -> String {
            guard let parsed = try? AttackSpec(parsing: spec), let description = registry.description(named: parsed.name) else {
                return spec
            }
            var parameters = parsed.parameters
            var trained = false
            for parameter in description.parameters {
                guard case .policyFile(let role) = parameter.kind, role != .surrogate, parameters[parameter.key] != nil else {
                    continue
                }
                parameters[parameter.key] = ownAdversary
                trained = true
            }
            guard trained else { return spec }
            return parsed.name + ":" + parameters.keys.sorted().map { "\($0)=\(parameters[$0]!)" }.joined(separator: ",")
        }
        var specsPerPolicy: [String: [String: Set<String>]] = [:]
        for (policy, attack) in cells { specsPerPolicy[shared(attack), default: [:]][policy, default: []].insert(attack) }
        var columns: [String: String] = [:]
        for (column, perPolicy) in specsPerPolicy {
            let collides = perPolicy.values.contains { $0.count > 1 }
            for attack in perPolicy.values.joined() { columns[attack] = collides ? attack : column }
        }
        return columns
    }

    /// Whether a spec's value is the parameter's default, numbers compared as numbers.
    static func isDefault(_ value: String, _ defaultValue: String?) -> Bool {
        guard let defaultValue else { return false }
        if let a = Double(value), let b = Double(defaultValue) { return a == b }
        return value == defaultValue
    }
}

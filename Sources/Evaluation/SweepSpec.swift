import Agents
import Attacks
import Foundation
import Linalg
import Yams

/// A robustness study as a grid (YAML): every policy × attack × ε × norm × seed is one cell,
/// evaluated on `episodes` episodes from that seed.
///
///     name: cartpole-robustness
///     policies: [policies/cartpole-dqn.safetensors, "policies/cartpole-*.safetensors"]   # globs allowed
///     attacks: [fgsm, "pgd:steps=10", {name: pgd, steps: [10, 20], restarts: [1, 4]}]     # grids expand
///     epsilons: [0, 0.05, 0.1]
///     norms: [linf]          # optional (linf)
///     units: raw             # optional (raw | std | normalized)
///     episodes: 20
///     seeds: [0]             # optional ([0])
///     precision: f32         # optional (f32 | f64)
///     environment: gym:CartPole-v1   # optional: instead of each policy file's own
public struct SweepSpec: Equatable, Sendable {
    public var name: String
    public var policies: [String]
    public var attacks: [String]
    public var epsilons: [Double]
    public var norms: [ThreatModel.Norm]
    public var units: ThreatModel.Units
    public var episodes: Int
    public var seeds: [UInt64]
    /// The precision every cell evaluates in (part of an f64 cell's key).
    public var precision: Precision
    /// The environment every policy is evaluated in, instead of the one its file names (the
    /// same task through the bridge, `gym:CartPole-v1`, or a variant); part of the cells' keys.
    public var environment: String?
    /// The spec text, stored with the results so shards can refuse mismatched specs.
    public var text: String

    /// Largest grid accepted.
    public static let maximumCells = 1_000_000

    /// Parses a spec; its attacks are made (and so checked) with `toolkit`.
    public init(yaml text: String, file: String, baseDirectory: URL, toolkit: Toolkit = .standard) throws(ConfigError) {
        let reader = try ConfigReader(yaml: text, file: file)
        try reader.requireKnown([
            "name", "policies", "attacks", "epsilons", "norms", "units", "episodes", "seeds", "precision", "environment",
        ])
        environment = try reader.string("environment")
        name = try reader.string("name") ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        policies = try Self.expandGlobs(try reader.stringList("policies") ?? [], base: baseDirectory, file: file)
        guard !policies.isEmpty else { throw ConfigError("\(file): 'policies' must name at least one policy file") }
        attacks = try reader.attackGrid("attacks")
        guard !attacks.isEmpty else { throw ConfigError("\(file): 'attacks' must name at least one attack") }
        // Canonical specs (every default written out), so equal attacks have equal cell keys.
        attacks = try attacks.map { spec throws(ConfigError) in
            do throws(AttackError) { return try toolkit.makeAttack(spec).spec } catch {
                throw ConfigError("\(file): attack '\(spec)': \(error.description)")
            }
        }
        epsilons = try reader.doubleList("epsilons", in: 0...1e9) ?? []
        guard !epsilons.isEmpty else { throw ConfigError("\(file): 'epsilons' must list at least one ε") }
        norms = try (reader.stringList("norms") ?? ["linf"]).map { name throws(ConfigError) in
            guard let norm = ThreatModel.Norm(rawValue: name) else {
                throw ConfigError("\(file): norm '\(name)' is not linf or l2")
            }
            return norm
        }
        let unitName = try reader.string("units") ?? "raw"
        guard let units = ThreatModel.Units(rawValue: unitName) else {
            throw ConfigError("\(file): 'units' must be raw, std or normalized, got '\(unitName)'")
        }
        self.units = units
        episodes = try reader.int("episodes", in: 1...1_000_000) ?? 20
        seeds = try (reader.intList("seeds", in: 0...Int(Int32.max)) ?? [0]).map(UInt64.init)
        let precisionName = try reader.string("precision") ?? "f32"
        guard let precision = Precision(rawValue: precisionName) else {
            throw ConfigError("\(file): 'precision' must be f32 or f64, got '\(precisionName)'")
        }
        self.precision = precision
        self.text = text
        let count = policies.count * attacks.count * epsilons.count * norms.count * seeds.count
        guard count <= Self.maximumCells else {
            throw ConfigError("\(file): the grid has \(count) cells, more than the limit of \(Self.maximumCells)")
        }
    }

    public init(contentsOf url: URL, toolkit: Toolkit = .standard) throws(ConfigError) {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ConfigError("\(url.path): cannot read the sweep spec")
        }
        try self.init(
            yaml: String(decoding: data, as: UTF8.self), file: url.path, baseDirectory: url.deletingLastPathComponent(),
            toolkit: toolkit)
    }

    static func expandGlobs(_ patterns: [String], base: URL, file: String) throws(ConfigError) -> [String] {
        var result: [String] = []
        for pattern in patterns {
            guard pattern.contains("*") || pattern.contains("?") else {
                result.append(pattern)
                continue
            }
            var matches: glob_t = glob_t()
            defer { globfree(&matches) }
            guard glob(pattern, 0, nil, &matches) == 0 else { throw ConfigError("\(file): no policy file matches '\(pattern)'") }
            for i in 0..<Int(matches.gl_pathc) { if let path = matches.gl_pathv[i] { result.append(String(cString: path)) } }
        }
        return result
    }

    /// One cell of the grid.
    public struct Cell: Equatable, Hashable, Sendable, Codable {
        public var policy: String
        public var attack: String
        public var epsilon: Double
        public var norm: ThreatModel.Norm
        public var units: ThreatModel.Units
        public var seed: UInt64
        public var episodes: Int
        public var precision: Precision
        /// The environment, when the spec gives one instead of the policy file's.
        public var environment: String? = nil

        /// A stable identity of the cell (the database key; f32 cells in their policy's own
        /// environment keep the key they had before precision and environment were fields, so
        /// older databases stay valid).
        public var key: String {
            "\(policy)|\(attack)|\(epsilon)|\(norm.rawValue)|\(units.rawValue)|\(seed)|\(episodes)"
                + (precision == .f32 ? "" : "|\(precision.rawValue)") + (environment.map { "|env=\($0)" } ?? "")
        }
    }

    /// Every cell, in a fixed order.
    public var cells: [Cell] {
        var cells: [Cell] = []
        for policy in policies {
            for seed in seeds {
                for norm in norms {
                    for epsilon in epsilons {
                        for attack in attacks {
                            cells.append(
                                Cell(
                                    policy: policy, attack: attack, epsilon: epsilon, norm: norm, units: units, seed: seed,
                                    episodes: episodes, precision: precision, environment: environment))
                        }
                    }
                }
            }
        }
        return cells
    }

    /// The cells of shard `index` of `count` (every cell in exactly one shard, by a stable hash
    /// of its key).
    public func cells(shard index: Int, of count: Int) -> [Cell] {
        cells.filter { Int(FNV1a.hash($0.key.utf8) % UInt64(count)) == index }
    }
}

extension ConfigReader {
    func stringList(_ key: String) throws(ConfigError) -> [String]? {
        guard has(key) else { return nil }
        guard let items = try list(key) else { return nil }
        var result: [String] = []
        for item in items {
            guard item.scalar != nil, let text = item.string else {
                throw ConfigError("\(file): '\(key)' must be a list of strings")
            }
            result.append(text)
        }
        return result
    }

    func doubleList(_ key: String, in range: ClosedRange<Double>) throws(ConfigError) -> [Double]? {
        guard let items = try list(key) else { return nil }
        var result: [Double] = []
        for item in items {
            guard item.bool == nil, let value = item.float ?? item.int.map(Double.init), value.isFinite, range.contains(value)
            else {
                throw ConfigError("\(file): '\(key)' must be a list of numbers in [\(range.lowerBound), \(range.upperBound)]")
            }
            result.append(value)
        }
        return result
    }

    /// Attack specs: strings, or mappings `{name: pgd, steps: [10, 20]}` whose list values
    /// expand to every combination.
    func attackGrid(_ key: String) throws(ConfigError) -> [String] {
        guard let items = try list(key) else { return [] }
        var result: [String] = []
        for item in items {
            if let text = item.string, item.scalar != nil {
                result.append(text)
                continue
            }
            guard let mapping = item.mapping, let name = mapping["name"]?.string else {
                throw ConfigError("\(file): each of '\(key)' is a spec string or a mapping with a 'name'")
            }
            var combinations: [[(String, String)]] = [[]]
            for (k, v) in mapping where k.string != "name" {
                guard let parameter = k.string else { continue }
                let values = v.sequence.map { $0.compactMap(\.string) } ?? [v.string].compactMap { $0 }
                combinations = combinations.flatMap { prefix in values.map { prefix + [(parameter, $0)] } }
            }
            for combination in combinations {
                let sorted = combination.sorted { $0.0 < $1.0 }
                result.append(sorted.isEmpty ? name : name + ":" + sorted.map { "\($0.0)=\($0.1)" }.joined(separator: ","))
            }
        }
        return result
    }
}

import Linalg

/// A hyperparameter of a training config, declared once next to its config: the YAML key, what
/// it means, the values it accepts and the field it sets (whose initial value is the default).
/// The config reader, the unknown-key check and `gauntlet train --help` all read these
/// declarations, so a new hyperparameter is one field and one declaration.
public struct Hyperparameter<Config>: @unchecked Sendable {
    public let key: String
    public let summary: String
    /// The values accepted, as help prints them (`integer in 1...1000`, `number in [0, 1]`).
    public let accepted: String
    let read: (ConfigReader, inout Config) throws(ConfigError) -> Void
    /// The value a config holds for it, as JSON (nil: unset).
    public let value: (Config) -> JSONValue?
    /// The value help prints as the default: `value`, even where a record leaves it out.
    private var shownValue: (Config) -> JSONValue?

    public init(
        key: String, summary: String, accepted: String, read: @escaping (ConfigReader, inout Config) throws(ConfigError) -> Void,
        value: @escaping (Config) -> JSONValue?
    ) {
        self.key = key
        self.summary = summary
        self.accepted = accepted
        self.read = read
        self.value = value
        self.shownValue = value
    }

    /// This key recorded (in a run's settings and policy files) only for configs that `uses`:
    /// a method's own keys stay out of other methods' records.
    public func recorded(when uses: @escaping (Config) -> Bool) -> Hyperparameter {
        let value = value
        var gated = Hyperparameter(key: key, summary: summary, accepted: accepted, read: read) { uses($0) ? value($0) : nil }
        gated.shownValue = value
        return gated
    }

    /// The value `config` holds, printed as help shows defaults.
    public func printedValue(of config: Config) -> String {
        guard let value = shownValue(config) else { return "unset" }
        return value.string ?? value.compactJSON
    }

    public static func int(_ key: String, _ field: WritableKeyPath<Config, Int>, in range: ClosedRange<Int>, _ summary: String)
        -> Self
    {
        Self(
            key: key, summary: summary,
            accepted: range.upperBound == .max
                ? "integer ≥ \(range.lowerBound)" : "integer in \(range.lowerBound)...\(range.upperBound)",
            read: { r, config throws(ConfigError) in if let v = try r.int(key, in: range) { config[keyPath: field] = v } },
            value: { .number(Double($0[keyPath: field])) })
    }

    public static func double(
        _ key: String, _ field: WritableKeyPath<Config, Double>, in range: ClosedRange<Double>, _ summary: String
    )
        -> Self
    {
        Self(
            key: key, summary: summary, accepted: "number in \(interval(range))",
            read: { r, config throws(ConfigError) in if let v = try r.double(key, in: range) { config[keyPath: field] = v } },
            value: { .number($0[keyPath: field]) })
    }

    /// A number that may be absent (nil: the feature is off).
    public static func optionalDouble(
        _ key: String, _ field: WritableKeyPath<Config, Double?>, in range: ClosedRange<Double>, _ summary: String
    ) -> Self {
        Self(
            key: key, summary: summary, accepted: "number in \(interval(range))",
            read: { r, config throws(ConfigError) in if let v = try r.double(key, in: range) { config[keyPath: field] = v } },
            value: { $0[keyPath: field].map { .number($0) } })
    }

    public static func bool(_ key: String, _ field: WritableKeyPath<Config, Bool>, _ summary: String) -> Self {
        Self(
            key: key, summary: summary, accepted: "true or false",
            read: { r, config throws(ConfigError) in if let v = try r.bool(key) { config[keyPath: field] = v } },
            value: { .bool($0[keyPath: field]) })
    }

    /// A text that may be absent (nil: the feature is off), such as a file's path.
    public static func optionalString(
        _ key: String, _ field: WritableKeyPath<Config, String?>, accepted: String, _ summary: String
    ) -> Self {
        Self(
            key: key, summary: summary, accepted: accepted,
            read: { r, config throws(ConfigError) in if let v = try r.string(key) { config[keyPath: field] = v } },
            value: { $0[keyPath: field].map { .string($0) } })
    }

    /// A name; with `options`, one of them.
    public static func string(
        _ key: String, _ field: WritableKeyPath<Config, String>, options: [String]? = nil, _ summary: String
    )
        -> Self
    {
        Self(
            key: key, summary: summary, accepted: options.map { "one of \($0.joined(separator: ", "))" } ?? "a name",
            read: { r, config throws(ConfigError) in
                guard let v = try r.string(key) else { return }
                if let options, !options.contains(v) {
                    throw r.error(at: key, "'\(key)' must be one of \(options.joined(separator: ", ")), got '\(v)'")
                }
                config[keyPath: field] = v
            },
            value: { .string($0[keyPath: field]) })
    }

    /// A constant, or `lin_<number>` (rl-zoo's linear decay to 0).
    public static func schedule(
        _ key: String, _ field: WritableKeyPath<Config, Schedule>, in range: ClosedRange<Double>, _ summary: String
    )
        -> Self
    {
        Self(
            key: key, summary: summary, accepted: "number in \(interval(range)) or lin_<number>",
            read: { r, config throws(ConfigError) in if let v = try r.schedule(key, in: range) { config[keyPath: field] = v } },
            value: { $0[keyPath: field].printed })
    }

    /// A schedule that may be absent (nil: the learner uses another, as `summary` says).
    public static func optionalSchedule(
        _ key: String, _ field: WritableKeyPath<Config, Schedule?>, in range: ClosedRange<Double>, _ summary: String
    ) -> Self {
        Self(
            key: key, summary: summary, accepted: "number in \(interval(range)) or lin_<number>",
            read: { r, config throws(ConfigError) in if let v = try r.schedule(key, in: range) { config[keyPath: field] = v } },
            value: { $0[keyPath: field]?.printed })
    }
}

extension Schedule {
    /// As a config writes it: a number, `lin_<start>`, or a description of another linear schedule.
    fileprivate var printed: JSONValue {
        switch self {
        case .constant(let v): .number(v)
        case .linear(let start, let end, let fraction):
            end == 0 && fraction == 1 ? .string("lin_\(start)") : .string("linear \(start) → \(end) over \(fraction)")
        }
    }
}

extension Array {
    /// Reads every declared hyperparameter present in `r` into `config`.
    func read<Config>(_ r: ConfigReader, into config: inout Config) throws(ConfigError) where Element == Hyperparameter<Config> {
        for parameter in self { try parameter.read(r, &config) }
    }

    /// One line per hyperparameter: key, default, accepted values and meaning.
    func help<Config>(defaults: Config) -> String where Element == Hyperparameter<Config> {
        map { "  \($0.key) = \($0.printedValue(of: defaults)) (\($0.accepted)): \($0.summary)" }.joined(separator: "\n")
    }
}

/// `[a, b]` with both ends in their shortest form.
private func interval(_ range: ClosedRange<Double>) -> String {
    "[\(JSONValue.number(range.lowerBound).compactJSON), \(JSONValue.number(range.upperBound).compactJSON)]"
}

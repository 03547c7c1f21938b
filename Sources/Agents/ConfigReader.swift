import Linalg
import Yams

/// Typed access to a YAML mapping for configs: every key must be known, every value of its
/// type, and every error names the file, the line and column, and the key.
public struct ConfigReader {
    public let file: String
    private let entries: [(key: String, value: Node)]
    private let mark: Mark?

    /// Parses `text` and checks that it is a mapping with string keys, none repeated.
    public init(yaml text: String, file: String) throws(ConfigError) {
        self.file = file
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let error as YamlError {
            throw ConfigError("\(file): \(Self.describe(error))")
        } catch {
            throw ConfigError("\(file): \(error)")
        }
        guard let root, let mapping = root.mapping else {
            throw ConfigError("\(file):1:1: expected a mapping of 'key: value' lines")
        }
        var entries: [(String, Node)] = []
        for (key, value) in mapping {
            guard let name = key.string else { throw ConfigError("\(file):\(Self.position(key.mark)): keys must be strings") }
            if entries.contains(where: { $0.0 == name }) {
                throw ConfigError("\(file):\(Self.position(key.mark)): key '\(name)' given twice")
            }
            entries.append((name, value))
        }
        self.entries = entries
        self.mark = root.mark
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            "\(mark.line):\(mark.column): invalid YAML: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            "\(context.mark.line):\(context.mark.column): key '\(duplicates.joined(separator: "', '"))' given twice"
        default:
            "invalid YAML: \(error)"
        }
    }

    private static func position(_ mark: Mark?) -> String { mark.map { "\($0.line):\($0.column)" } ?? "1:1" }

    private func fail(_ key: String, _ node: Node, _ expected: String) -> ConfigError {
        ConfigError("\(file):\(Self.position(node.mark)): '\(key)' must be \(expected), got '\(node.string ?? "\(node.any)")'")
    }

    /// Throws unless every key is in `known`.
    public func requireKnown(_ known: [String]) throws(ConfigError) {
        for (key, value) in entries where !known.contains(key) {
            let suggestion = known.min { editDistance($0, key) < editDistance($1, key) }.map { " (did you mean '\($0)'?)" } ?? ""
            throw ConfigError("\(file):\(Self.position(value.mark)): unknown key '\(key)'\(suggestion)")
        }
    }

    public func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// Every key with its value as JSON (YAML's booleans, numbers and strings kept apart).
    public var json: [String: JSONValue] {
        func convert(_ node: Node) -> JSONValue {
            if let items = node.sequence { return .array(items.map(convert)) }
            if let mapping = node.mapping {
                return .object(Dictionary(mapping.compactMap { key, value in key.string.map { ($0, convert(value)) } }) { $1 })
            }
            if node.null != nil { return .null }
            if let value = node.bool { return .bool(value) }
            if let value = node.int { return .number(Double(value)) }
            if let value = node.float, value.isFinite { return .number(value) }
            return .string(node.string ?? "")
        }
        return Dictionary(entries.map { ($0.key, convert($0.value)) }) { $1 }
    }

    /// An error about `key`, placed at its value's line and column (the mapping's when absent).
    public func error(at key: String, _ message: String) -> ConfigError {
        ConfigError("\(file):\(Self.position(node(key)?.mark ?? mark)): \(message)")
    }

    /// The items of a YAML sequence, or nil when the key is absent.
    public func list(_ key: String) throws(ConfigError) -> [Node]? {
        guard let node = node(key) else { return nil }
        guard let items = node.sequence else { throw fail(key, node, "a list") }
        return Array(items)
    }

    private func node(_ key: String) -> Node? { entries.first { $0.key == key }?.value }

    public func string(_ key: String) throws(ConfigError) -> String? {
        guard let node = node(key) else { return nil }
        guard node.scalar != nil, let value = node.string else { throw fail(key, node, "a string") }
        return value
    }

    /// A string, or a list of strings.
    public func strings(_ key: String) throws(ConfigError) -> [String]? {
        guard let node = node(key) else { return nil }
        if node.scalar != nil, let value = node.string { return [value] }
        guard let items = node.sequence, !items.isEmpty else { throw fail(key, node, "a name or a non-empty list of names") }
        var result: [String] = []
        for item in items {
            guard item.scalar != nil, let value = item.string else {
                throw fail(key, item, "a name or a non-empty list of names")
            }
            result.append(value)
        }
        return result
    }

    public func requiredString(_ key: String) throws(ConfigError) -> String {
        guard let value = try string(key) else {
            throw ConfigError("\(file):\(Self.position(mark)): missing required key '\(key)'")
        }
        return value
    }

    public func int(_ key: String, in range: ClosedRange<Int> = Int.min...Int.max) throws(ConfigError) -> Int? {
        guard let node = node(key) else { return nil }
        guard let value = node.int ?? node.float.flatMap({ $0 == $0.rounded() && abs($0) < 1e15 ? Int($0) : nil }),
            range.contains(value)
        else {
            throw fail(key, node, "an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    public func double(
        _ key: String, in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude
    ) throws(ConfigError) -> Double? {
        guard let node = node(key) else { return nil }
        guard node.bool == nil, let value = node.float ?? node.int.map(Double.init), value.isFinite, range.contains(value) else {
            throw fail(key, node, "a number in [\(range.lowerBound), \(range.upperBound)]")
        }
        return value
    }

    public func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let node = node(key) else { return nil }
        guard let value = node.bool else { throw fail(key, node, "true or false") }
        return value
    }

    public func intList(_ key: String, in range: ClosedRange<Int> = 1...100_000) throws(ConfigError) -> [Int]? {
        guard let node = node(key) else { return nil }
        return try ints(node, key: key, in: range)
    }

    private func ints(_ node: Node, key: String, in range: ClosedRange<Int>) throws(ConfigError) -> [Int] {
        guard let items = node.sequence else { throw fail(key, node, "a list of integers like [64, 64]") }
        var result: [Int] = []
        for item in items {
            guard let value = item.int, range.contains(value) else {
                throw fail(key, item, "a list of integers in \(range.lowerBound)...\(range.upperBound)")
            }
            result.append(value)
        }
        return result
    }

    /// A list of integers, or a mapping from each of `parts` to one (SB3's
    /// `net_arch=dict(pi=[...], vf=[...])`); a list stands for every part.
    public func intLists(_ key: String, parts: [String], in range: ClosedRange<Int> = 1...100_000) throws(ConfigError) -> [String:
        [Int]]?
    {
        guard let node = node(key) else { return nil }
        guard let mapping = node.mapping else {
            let shared = try ints(node, key: key, in: range)
            return Dictionary(uniqueKeysWithValues: parts.map { ($0, shared) })
        }
        var result: [String: [Int]] = [:]
        for (part, value) in mapping {
            guard let name = part.string, parts.contains(name), result[name] == nil else {
                throw fail(key, part, "a list or a mapping with the keys \(parts.joined(separator: ", ")), each once")
            }
            result[name] = try ints(value, key: "\(key).\(name)", in: range)
        }
        if let missing = parts.first(where: { result[$0] == nil }) {
            throw ConfigError(
                "\(file):\(Self.position(node.mark)): '\(key)' needs '\(missing)' (\(parts.joined(separator: ", ")))")
        }
        return result
    }

    /// A number, or rl-zoo's `lin_X` for a value falling linearly from X to 0 over training.
    public func schedule(_ key: String, in range: ClosedRange<Double> = 0...1e6) throws(ConfigError) -> Schedule? {
        guard let node = node(key) else { return nil }
        if let text = node.string, text.hasPrefix("lin_") {
            guard let start = Double(text.dropFirst(4)), range.contains(start) else {
                throw fail(key, node, "a number or lin_<number>")
            }
            return .linear(start: start, end: 0, fraction: 1)
        }
        guard let value = try double(key, in: range) else { return nil }
        return .constant(value)
    }
}

/// An invalid config; the description names file, line, column and key.
public struct ConfigError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var previous = row[0]
        row[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            let current = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
            previous = current
        }
    }
    return row[b.count]
}

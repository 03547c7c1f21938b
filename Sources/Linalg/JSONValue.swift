import Foundation

/// A parsed JSON document that keeps JSON's own types apart (a boolean is never a number), for
/// parsers of user files that must say exactly what was wrong.
public enum JSONValue: Equatable, Sendable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Parses `data`; the error says why and where (line and column) the text is not JSON.
    public static func parse(_ data: Data) throws(JSONParseError) -> JSONValue {
        if let value = try? JSONDecoder().decode(JSONValue.self, from: data) { return value }
        // JSONDecoder gives no position; JSONSerialization names the character offset.
        do { _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            throw JSONParseError(locate(reason, in: data))
        }
        throw JSONParseError("not valid JSON (a number out of range?)")
    }

    /// Rewrites "… around character N." into "line L, column C: …".
    private static func locate(_ reason: String, in data: Data) -> String {
        guard let range = reason.range(of: "around character "),
            let offset = Int(reason[range.upperBound...].prefix { $0.isNumber })
        else { return reason }
        var line = 1
        var column = 1
        for byte in data.prefix(offset) {
            if byte == UInt8(ascii: "\n") { (line, column) = (line + 1, 1) } else { column += 1 }
        }
        return "line \(line), column \(column): \(reason[..<range.lowerBound].trimmingCharacters(in: .whitespaces))"
    }

    /// A list of numbers as JSON (the inverse of `numbers`).
    public init(_ numbers: [Double]) { self = .array(numbers.map { .number($0) }) }

    /// `value` as JSON (what `JSONEncoder` makes of it).
    public init<T: Encodable>(encoding value: T) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }

    /// The value as compact JSON, keys sorted.
    public var compactJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    public var number: Double? { if case .number(let v) = self { v } else { nil } }
    public var string: String? { if case .string(let v) = self { v } else { nil } }
    public var array: [JSONValue]? { if case .array(let v) = self { v } else { nil } }
    public var object: [String: JSONValue]? { if case .object(let v) = self { v } else { nil } }

    /// A whole number within ±2⁵³ (JSON has no integer type of its own), or nil.
    public var integer: Int? {
        guard let v = number, v == v.rounded(), abs(v) <= 9_007_199_254_740_992 else { return nil }
        return Int(v)
    }

    /// An array of numbers, or nil.
    public var numbers: [Double]? {
        guard let items = array else { return nil }
        var result: [Double] = []
        for item in items {
            guard let v = item.number else { return nil }
            result.append(v)
        }
        return result
    }

    /// An array of whole numbers, or nil.
    public var integers: [Int]? {
        guard let items = array else { return nil }
        var result: [Int] = []
        for item in items {
            guard let v = item.integer else { return nil }
            result.append(v)
        }
        return result
    }
}

/// Text that is not valid JSON.
public struct JSONParseError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension JSONEncoder {
    /// The encoder of every JSON Gauntlet writes (`--json` output, reports, replays, policy
    /// descriptions, checkpoints, `summary.json`, `run.json`): snake_case keys, sorted (the same
    /// value gives the same bytes), and the non-finite numbers JSON lacks written as the strings
    /// `inf`, `-inf` and `nan`.
    public static func gauntlet(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }
}

extension JSONDecoder {
    /// Reads what `JSONEncoder.gauntlet()` writes, and the camelCase keys of files written before
    /// Gauntlet wrote snake_case everywhere (a key without underscores is left as it is).
    public static func gauntlet() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}

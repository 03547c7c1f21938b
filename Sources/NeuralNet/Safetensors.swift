import Foundation
import Linalg

/// The safetensors format (Hugging Face): an 8-byte little-endian header length `N`, `N` bytes
/// of JSON naming each tensor's dtype, shape and byte range in the data section, and the
/// little-endian data. `__metadata__` maps strings to strings.
///
/// Reading validates everything before touching the data: a truncated file, a header longer
/// than the file, offsets outside the data or overlapping, a dtype it does not know, a shape that
/// disagrees with its byte range — each is a `SafetensorsError` naming the problem, never a
/// crash or an out-of-bounds read.
public struct Safetensors: Equatable, Sendable {
    /// One tensor: its shape and its values in their stored dtype.
    public struct Tensor: Equatable, Sendable {
        public var shape: [Int]
        public var values: Values

        public enum Values: Equatable, Sendable {
            case f32([Float])
            case f64([Double])
            case i64([Int64])
            case u8([UInt8])
        }

        public init(shape: [Int], values: Values) {
            self.shape = shape
            self.values = values
        }

        public init(shape: [Int], float32 values: [Float]) { self.init(shape: shape, values: .f32(values)) }
        public init(shape: [Int], float64 values: [Double]) { self.init(shape: shape, values: .f64(values)) }
        public init(shape: [Int], int64 values: [Int64]) { self.init(shape: shape, values: .i64(values)) }

        /// The dtype name as safetensors spells it.
        public var dtype: String {
            switch values {
            case .f32: "F32"
            case .f64: "F64"
            case .i64: "I64"
            case .u8: "U8"
            }
        }

        /// Number of elements.
        public var count: Int {
            switch values {
            case .f32(let v): v.count
            case .f64(let v): v.count
            case .i64(let v): v.count
            case .u8(let v): v.count
            }
        }

        /// The values as Float32, if the tensor is F32.
        public var float32: [Float]? { if case .f32(let v) = values { v } else { nil } }
        /// The values as Float64, if the tensor is F64.
        public var float64: [Double]? { if case .f64(let v) = values { v } else { nil } }
        /// The values as Int64, if the tensor is I64.
        public var int64: [Int64]? { if case .i64(let v) = values { v } else { nil } }

        /// The floating-point values converted to `S` (F32 or F64 tensors only).
        public func floatingPoint<S: BLASScalar>(as _: S.Type) -> [S]? {
            switch values {
            case .f32(let v): v.map { S($0) }
            case .f64(let v): v.map { S($0) }
            default: nil
            }
        }

        fileprivate var byteCount: Int {
            switch values {
            case .f32(let v): v.count * 4
            case .f64(let v): v.count * 8
            case .i64(let v): v.count * 8
            case .u8(let v): v.count
            }
        }

        fileprivate func appendBytes(to data: inout Data) {
            switch values {
            case .f32(let v): v.withUnsafeBytes { data.append(contentsOf: $0) }
            case .f64(let v): v.withUnsafeBytes { data.append(contentsOf: $0) }
            case .i64(let v): v.withUnsafeBytes { data.append(contentsOf: $0) }
            case .u8(let v): data.append(contentsOf: v)
            }
        }
    }

    public var tensors: [String: Tensor]
    public var metadata: [String: String]

    public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Largest header accepted (the reference implementation's limit).
    public static let maximumHeaderLength = 100_000_000

    // MARK: - Reading

    /// Reads and validates the file at `url`.
    public static func read(contentsOf url: URL) throws(SafetensorsError) -> Safetensors {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw SafetensorsError("cannot read \(url.path): \(readProblem(at: url, error))")
        }
        do { return try Safetensors(data: data) } catch {
            throw SafetensorsError("\(url.path): \(error.description)")
        }
    }

    /// Parses and validates the bytes of a safetensors file.
    public init(data: Data) throws(SafetensorsError) {
        guard data.count >= 8 else {
            throw SafetensorsError("truncated file: \(data.count) bytes, fewer than the 8-byte header length")
        }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(Self.maximumHeaderLength) else {
            throw SafetensorsError("header length \(headerLength) exceeds the limit of \(Self.maximumHeaderLength) bytes")
        }
        guard headerLength <= UInt64(data.count - 8) else {
            throw SafetensorsError(
                "header length \(headerLength) is longer than the \(data.count - 8) bytes after it (truncated file?)")
        }
        let headerEnd = 8 + Int(headerLength)
        let headerBytes = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + headerEnd))
        guard let header = (try? JSONValue.parse(headerBytes))?.object else {
            throw SafetensorsError("header is not a JSON object")
        }
        let dataSize = data.count - headerEnd

        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let map = value.object else { throw SafetensorsError("__metadata__ is not a JSON object") }
                for (key, item) in map {
                    guard let text = item.string else { throw SafetensorsError("__metadata__ entry '\(key)' is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard let info = value.object else { throw SafetensorsError("tensor '\(name)': entry is not a JSON object") }
            guard let dtype = info["dtype"]?.string else {
                throw SafetensorsError("tensor '\(name)': missing or non-string dtype")
            }
            guard let shape = info["shape"]?.integers, shape.allSatisfy({ $0 >= 0 }) else {
                throw SafetensorsError("tensor '\(name)': shape must be a list of non-negative integers")
            }
            guard let offsets = info["data_offsets"]?.integers, offsets.count == 2 else {
                throw SafetensorsError("tensor '\(name)': data_offsets must be two integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw SafetensorsError(
                    "tensor '\(name)': data_offsets [\(begin), \(end)] outside the \(dataSize)-byte data section")
            }
            guard let elementSize = Self.elementSize(dtype) else {
                throw SafetensorsError("tensor '\(name)': unsupported dtype \(dtype) (expected F32, F64, I64 or U8)")
            }
            var elements = 1
            for dimension in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= dataSize else {
                    throw SafetensorsError("tensor '\(name)': shape \(shape) is larger than the file")
                }
                elements = product
            }
            guard elements * elementSize == end - begin else {
                throw SafetensorsError(
                    "tensor '\(name)': shape \(shape) of \(dtype) needs \(elements * elementSize) bytes but data_offsets span \(end - begin)"
                )
            }
            entries.append((name, dtype, shape, begin, end))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var position = 0
        for entry in entries {
            if entry.begin < position {
                throw SafetensorsError(
                    "tensor '\(entry.name)': data_offsets [\(entry.begin), \(entry.end)] overlap another tensor")
            }
            if entry.begin > position {
                throw SafetensorsError("tensor '\(entry.name)': gap of \(entry.begin - position) bytes before its data")
            }
            position = entry.end
        }
        guard position == dataSize else {
            throw SafetensorsError("data section has \(dataSize) bytes but the tensors cover \(position)")
        }

        var tensors: [String: Tensor] = [:]
        data.withUnsafeBytes { raw in
            let base = raw.baseAddress! + headerEnd
            for entry in entries {
                let bytes = UnsafeRawBufferPointer(start: base + entry.begin, count: entry.end - entry.begin)
                tensors[entry.name] = Tensor(shape: entry.shape, values: Self.decode(bytes, dtype: entry.dtype))
            }
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    private static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F32": 4
        case "F64", "I64": 8
        case "U8", "BOOL": 1
        default: nil
        }
    }

    private static func decode(_ bytes: UnsafeRawBufferPointer, dtype: String) -> Tensor.Values {
        func load<T>(_: T.Type) -> [T] {
            let count = bytes.count / MemoryLayout<T>.size
            return (0..<count).map { bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) }
        }
        switch dtype {
        case "F32": return .f32(load(UInt32.self).map { Float(bitPattern: UInt32(littleEndian: $0)) })
        case "F64": return .f64(load(UInt64.self).map { Double(bitPattern: UInt64(littleEndian: $0)) })
        case "I64": return .i64(load(Int64.self).map { Int64(littleEndian: $0) })
        default: return .u8(Array(bytes))
        }
    }

    // MARK: - Writing

    /// The file's bytes: tensors laid out contiguously in name order, the header padded with
    /// spaces to a multiple of 8 bytes (as the reference writer does).
    public func serialized() -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let tensor = tensors[name]!
            header[name] = ["dtype": tensor.dtype, "shape": tensor.shape, "data_offsets": [offset, offset + tensor.byteCount]]
            offset += tensor.byteCount
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var headerData = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        while headerData.count % 8 != 0 { headerData.append(0x20) }
        var data = Data()
        data.reserveCapacity(8 + headerData.count + offset)
        withUnsafeBytes(of: UInt64(headerData.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(headerData)
        for name in names { tensors[name]!.appendBytes(to: &data) }
        return data
    }

    /// Writes the file atomically (to a temporary file, then renamed over `url`), so a reader
    /// never sees a half-written file, even if the process is killed mid-write.
    public func write(to url: URL) throws(SafetensorsError) {
        do {
            // The folder too, as `train --output` makes its own (`--record runs/x.safetensors` in a fresh clone).
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try serialized().write(to: url, options: .atomic)
        } catch {
            throw SafetensorsError("cannot write \(url.path): \(error.localizedDescription)")
        }
    }
}

/// A malformed or unreadable safetensors file; the description says what is wrong.
public struct SafetensorsError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

import Foundation
import Linalg
import ZIPFoundation

/// PyTorch's `torch.save` file (the zip format of PyTorch ≥ 1.6) holding a state dict, read
/// without Python: the archive's `<prefix>/data.pkl` goes through `RestrictedPickle` (which never
/// executes anything), and each tensor is gathered from the raw little-endian bytes of its
/// storage `<prefix>/data/<key>` through its offset and strides.
public enum TorchCheckpoint {
    /// Reads the state dict in the `torch.save` file at `url`.
    public static func stateDict(contentsOf url: URL) throws(StateDictFormatError) -> [String: Safetensors.Tensor] {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw StateDictFormatError("cannot read \(url.path): \(readProblem(at: url, error))")
        }
        do { return try stateDict(data: data) } catch { throw StateDictFormatError("\(url.path): \(error.description)") }
    }

    /// Reads the state dict in the bytes of a `torch.save` file.
    public static func stateDict(data: Data) throws(StateDictFormatError) -> [String: Safetensors.Tensor] {
        if data.first == 0x80 {
            throw StateDictFormatError(
                "a bare pickle (torch.save before PyTorch 1.6, or _use_new_zipfile_serialization=False): save it again with a recent PyTorch"
            )
        }
        let archive = try ZipArchive(data: data)
        let pickles = archive.paths.filter { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }
        guard pickles.count == 1, let pickle = pickles.first else {
            throw StateDictFormatError("a torch.save archive holds one data.pkl; this one holds \(pickles.count)")
        }
        let prefix = String(pickle.dropLast("data.pkl".count))
        if archive.paths.contains(prefix + "byteorder") {
            let order = String(decoding: try archive.contents(of: prefix + "byteorder"), as: UTF8.self)
            guard order == "little" else {
                throw StateDictFormatError("tensors stored in '\(order)' byte order; only little-endian files are read")
            }
        }
        return try stateDict(pickle: try archive.contents(of: pickle)) { key throws(StateDictFormatError) in
            try archive.contents(of: prefix + "data/" + key)
        }
    }

    /// The state dict a `data.pkl` describes, with each storage's bytes from `storage(key)`
    /// (read once per key).
    public static func stateDict(pickle: Data, storage: (String) throws(StateDictFormatError) -> Data)
        throws(StateDictFormatError) -> [String: Safetensors.Tensor]
    {
        var storages: [String: Data] = [:]
        var result: [String: Safetensors.Tensor] = [:]
        for (name, view) in try views(pickle: [UInt8](pickle)) {
            guard result[name] == nil else { throw StateDictFormatError("data.pkl: '\(name)' appears twice") }
            let key = view.storage.key
            if storages[key] == nil { storages[key] = try storage(key) }
            result[name] = try tensor(view, bytes: storages[key]!, name: name)
        }
        return result
    }

    /// The names and tensor views of the state dict a `data.pkl` holds, in file order.
    static func views(pickle: [UInt8]) throws(StateDictFormatError) -> [(name: String, tensor: RestrictedPickle.TensorView)] {
        guard case .dict(let container) = try RestrictedPickle.load(pickle, vocabulary: .stateDict) else {
            throw StateDictFormatError("data.pkl: the pickled object is not a dict (a state dict maps names to tensors)")
        }
        var result: [(String, RestrictedPickle.TensorView)] = []
        for (key, value) in zip(container.keys, container.items) {
            guard case .string(let name) = key else { throw StateDictFormatError("data.pkl: a state dict key is not a string") }
            guard case .tensor(let tensor) = value else { throw StateDictFormatError("data.pkl: '\(name)' is not a tensor") }
            result.append((name, tensor))
        }
        return result
    }

    /// The elements of a strided view, in row-major order of its shape.
    static func tensor(_ view: RestrictedPickle.TensorView, bytes: Data, name: String) throws(StateDictFormatError)
        -> Safetensors.Tensor
    {
        let type = view.storage.dtype
        let (needed, overflow) = view.storage.count.multipliedReportingOverflow(by: type.byteCount)
        guard !overflow, bytes.count >= needed else {
            throw StateDictFormatError(
                "storage '\(view.storage.key)' of '\(name)' has \(bytes.count) bytes, fewer than its \(view.storage.count) \(type.rawValue) elements"
            )
        }
        let count = view.shape.reduce(1, *)
        var indices = [Int](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: view.shape.count)
        for element in 0..<count {
            indices[element] = view.offset + zip(index, view.strides).reduce(0) { $0 + $1.0 * $1.1 }
            var axis = view.shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < view.shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return bytes.withUnsafeBytes { raw in
            func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
                T(littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
            }
            switch type {
            case .float: return .init(shape: view.shape, float32: indices.map { Float(bitPattern: load(UInt32.self, $0)) })
            case .double: return .init(shape: view.shape, float64: indices.map { Double(bitPattern: load(UInt64.self, $0)) })
            case .long: return .init(shape: view.shape, int64: indices.map { Int64(bitPattern: load(UInt64.self, $0)) })
            case .half:
                return .init(shape: view.shape, float32: indices.map { Float(Float16(bitPattern: load(UInt16.self, $0))) })
            case .bfloat16:
                return .init(shape: view.shape, float32: indices.map { Float(bitPattern: UInt32(load(UInt16.self, $0)) << 16) })
            }
        }
    }
}

/// A zip archive whose members are read whole, with a bound on their size (a small compressed
/// member can claim gigabytes). Errors name the member.
///
/// The archive is always read from a file: ZIPFoundation's in-memory mode (`Archive(data:)`)
/// traps when a corrupt offset points past the end of the data (found by `FuzzTests`), while
/// reading past the end of a file just returns nothing.
public struct ZipArchive {
    /// Largest member read into memory.
    public static let maximumMemberBytes = 1 << 30

    private let archive: Archive
    /// The members' paths.
    public let paths: [String]

    /// Opens the zip file at `url`.
    public init(url: URL) throws(StateDictFormatError) {
        let bytes: Data
        do { bytes = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw StateDictFormatError("cannot read \(url.path)")
        }
        guard bytes.starts(with: [0x50, 0x4B]) else { throw StateDictFormatError("not a zip archive") }
        try Self.checkCentralDirectory(bytes)
        do { archive = try Archive(url: url, accessMode: .read) } catch {
            throw StateDictFormatError("not a readable zip archive (\(error))")
        }
        paths = archive.map(\.path)
    }

    /// Opens a zip archive held in memory (through an unlinked temporary file).
    public init(data: Data) throws(StateDictFormatError) {
        guard data.count >= 22, data.starts(with: [0x50, 0x4B]) else { throw StateDictFormatError("not a zip archive") }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-\(UUID()).zip")
        do { try data.write(to: url) } catch {
            throw StateDictFormatError("cannot write a temporary file: \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: url) }
        try self.init(url: url)
    }

    /// Checks that the end-of-central-directory record (ZIP64 included) and every central
    /// directory entry point inside the file. ZIPFoundation 0.9.20 converts such offsets and
    /// sizes to `off_t` unchecked, so a corrupt value past `Int64.max` traps instead of throwing
    /// (found by `FuzzTests`); this keeps it from seeing one.
    static func checkCentralDirectory(_ bytes: Data) throws(StateDictFormatError) {
        let size = UInt64(bytes.count)
        func read(_ offset: UInt64, _ width: Int) throws(StateDictFormatError) -> UInt64 {
            guard offset <= size, UInt64(width) <= size - offset else {
                throw StateDictFormatError("zip structure points past the end of the file")
            }
            var value: UInt64 = 0
            for k in 0..<width { value |= UInt64(bytes[bytes.startIndex + Int(offset) + k]) << (8 * UInt64(k)) }
            return value
        }
        guard size >= 22 else { throw StateDictFormatError("not a zip archive (no end of central directory)") }
        var end = size - 22
        let earliest = size > 22 + 65_535 ? size - 22 - 65_535 : 0
        while try read(end, 4) != 0x0605_4B50 {
            guard end > earliest else { throw StateDictFormatError("not a zip archive (no end of central directory)") }
            end -= 1
        }
        var entries = try read(end + 10, 2)
        var directorySize = try read(end + 12, 4)
        var directoryOffset = try read(end + 16, 4)
        // ZIPFoundation takes the ZIP64 record whenever its locator is there (torch.save writes one).
        var hasLocator = false
        if end >= 20 { hasLocator = try read(end - 20, 4) == 0x0706_4B50 }
        if hasLocator || entries == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            guard hasLocator else { throw StateDictFormatError("ZIP64 archive without its locator") }
            let record = try read(end - 12, 8)
            guard try read(record, 4) == 0x0606_4B50 else {
                throw StateDictFormatError("ZIP64 end of central directory not where its locator says")
            }
            (entries, directorySize, directoryOffset) = (
                try read(record + 32, 8), try read(record + 40, 8), try read(record + 48, 8)
            )
        }
        guard directoryOffset <= size, directorySize <= size - directoryOffset, entries <= directorySize / 46 + 1 else {
            throw StateDictFormatError("the central directory lies outside the file")
        }
        var position = directoryOffset
        for _ in 0..<entries {
            guard try read(position, 4) == 0x0201_4B50 else { throw StateDictFormatError("a central directory entry is damaged") }
            // uncompressed size, compressed size, local header offset
            var fields = [try read(position + 24, 4), try read(position + 20, 4), try read(position + 42, 4)]
            let nameLength = try read(position + 28, 2)
            let extraLength = try read(position + 30, 2)
            let commentLength = try read(position + 32, 2)
            // ZIP64 extended information replaces, in this order, the fields that are 0xFFFFFFFF.
            var extra = position + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = try read(extra, 2)
                let length = try read(extra + 2, 2)
                if id == 0x0001 {
                    var field = extra + 4
                    for i in fields.indices where fields[i] == 0xFFFF_FFFF {
                        fields[i] = try read(field, 8)
                        field += 8
                    }
                }
                extra += 4 + length
            }
            let (uncompressed, compressed, local) = (fields[0], fields[1], fields[2])
            guard local < size, 30 <= size - local, compressed <= size - local, uncompressed < 1 << 62 else {
                throw StateDictFormatError("a central directory entry points outside the file")
            }
            position = extraEnd + commentLength
        }
    }

    /// The bytes of the member at `path`.
    public func contents(of path: String) throws(StateDictFormatError) -> Data {
        guard let entry = archive[path] else { throw StateDictFormatError("the archive has no member '\(path)'") }
        guard entry.type == .file, entry.uncompressedSize <= UInt64(Self.maximumMemberBytes) else {
            throw StateDictFormatError("member '\(path)' is not a file of at most \(Self.maximumMemberBytes) bytes")
        }
        var data = Data()
        do {
            _ = try archive.extract(entry) { chunk in
                data.append(chunk)
                if data.count > Self.maximumMemberBytes { throw CocoaError(.fileReadTooLarge) }
            }
        } catch {
            throw StateDictFormatError("member '\(path)' cannot be read (\(error))")
        }
        return data
    }
}

import Foundation

/// A restricted unpickler for the one thing a PyTorch checkpoint's `data.pkl` must hold to be a
/// policy: a state dict, i.e. an (ordered) dict from names to tensors.
///
/// Python's `pickle` is a small stack machine whose `GLOBAL` + `REDUCE` opcodes call any
/// importable function, which is why loading an untrusted pickle executes code. This reader
/// never calls anything: it interprets the protocol 2–5 opcodes a state dict uses and accepts
/// exactly these globals, each mapped to what it would build —
///
/// - `collections.OrderedDict` → a dict (its `_metadata` attribute, set by `BUILD`, is ignored);
/// - `torch._utils._rebuild_tensor_v2` / `_rebuild_parameter` → a tensor reference (storage,
///   offset, shape, strides);
/// - `torch.FloatStorage`, `DoubleStorage`, `HalfStorage`, `BFloat16Storage`, `LongStorage` →
///   the dtype of a persistent storage id `('storage', type, key, location, numel)`.
///
/// Any other global or opcode is refused with its name and byte offset. Every length is checked
/// against the bytes that remain, and stack, memo and container sizes are bounded, so a
/// malformed or hostile file is a `StateDictFormatError`, never a crash or a huge allocation.
struct StateDictPickle {
    /// A storage a tensor views: `data/<key>` in the archive, `count` elements of `dtype`.
    struct Storage: Equatable {
        var dtype: StorageType
        var key: String
        var count: Int
    }

    /// The storage element types a policy's tensors can have.
    enum StorageType: String, CaseIterable {
        case float = "FloatStorage"
        case double = "DoubleStorage"
        case half = "HalfStorage"
        case bfloat16 = "BFloat16Storage"
        case long = "LongStorage"

        var byteCount: Int {
            switch self {
            case .float: 4
            case .double, .long: 8
            case .half, .bfloat16: 2
            }
        }
    }

    /// A tensor: a strided view of a storage.
    struct TensorView: Equatable {
        var storage: Storage
        var offset: Int
        var shape: [Int]
        var strides: [Int]
    }

    /// Mutable containers are shared through the memo, as in Python.
    final class Container {
        var items: [Value] = []
        var keys: [Value] = []
    }

    indirect enum Value {
        case none
        case bool(Bool)
        case int(Int)
        case float(Double)
        case string(String)
        case bytes(Int)
        case tuple([Value])
        case list(Container)
        case dict(Container)
        case global(module: String, name: String)
        case storageType(StorageType)
        case storage(Storage)
        case tensor(TensorView)
        case mark
    }

    /// Bounds on what one pickle may build; a state dict of a policy needs far less.
    static let maximumItems = 1 << 20

    private let bytes: [UInt8]
    private var position = 0
    private var stack: [Value] = []
    private var memo: [Int: Value] = [:]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The state dict the pickle describes: names and tensor views, in file order.
    static func stateDict(from bytes: [UInt8]) throws(StateDictFormatError) -> [(name: String, tensor: TensorView)] {
        var reader = StateDictPickle(bytes)
        let top = try reader.run()
        guard case .dict(let container) = top else {
            throw StateDictFormatError("data.pkl: the pickled object is not a dict (a state dict maps names to tensors)")
        }
        var result: [(String, TensorView)] = []
        for (key, value) in zip(container.keys, container.items) {
            guard case .string(let name) = key else { throw StateDictFormatError("data.pkl: a state dict key is not a string") }
            guard case .tensor(let tensor) = value else { throw StateDictFormatError("data.pkl: '\(name)' is not a tensor") }
            result.append((name, tensor))
        }
        return result
    }

    private func error(_ message: String, at offset: Int) -> StateDictFormatError {
        StateDictFormatError("data.pkl, byte \(offset): \(message)")
    }

    private mutating func take(_ count: Int, at offset: Int) throws(StateDictFormatError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - position else {
            throw error("truncated (needs \(count) more bytes)", at: offset)
        }
        defer { position += count }
        return bytes[position..<position + count]
    }

    private mutating func littleEndian(_ count: Int, at offset: Int) throws(StateDictFormatError) -> UInt64 {
        var value: UInt64 = 0
        for (i, byte) in try take(count, at: offset).enumerated() { value |= UInt64(byte) << (8 * UInt64(i)) }
        return value
    }

    private mutating func line(at offset: Int) throws(StateDictFormatError) -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A), end - position <= 256 else {
            throw error("unterminated name", at: offset)
        }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    private mutating func text(_ count: Int, at offset: Int) throws(StateDictFormatError) -> String {
        let slice = try take(count, at: offset)
        guard let string = String(bytes: slice, encoding: .utf8) else { throw error("a string is not valid UTF-8", at: offset) }
        return string
    }

    private mutating func push(_ value: Value, at offset: Int) throws(StateDictFormatError) {
        guard stack.count < Self.maximumItems else {
            throw error("the pickle stack exceeds \(Self.maximumItems) items", at: offset)
        }
        stack.append(value)
    }

    private mutating func pop(at offset: Int) throws(StateDictFormatError) -> Value {
        guard let value = stack.popLast() else { throw error("stack underflow", at: offset) }
        if case .mark = value { throw error("unexpected mark", at: offset) }
        return value
    }

    /// The values above the topmost mark, removing them and the mark.
    private mutating func popToMark(at offset: Int) throws(StateDictFormatError) -> [Value] {
        guard let markIndex = stack.lastIndex(where: { if case .mark = $0 { true } else { false } }) else {
            throw error("no mark on the stack", at: offset)
        }
        let values = Array(stack[(markIndex + 1)...])
        stack.removeSubrange(markIndex...)
        return values
    }

    private mutating func memoize(_ index: Int, at offset: Int) throws(StateDictFormatError) {
        guard let top = stack.last else { throw error("memo put with an empty stack", at: offset) }
        guard memo.count < Self.maximumItems else { throw error("the memo exceeds \(Self.maximumItems) entries", at: offset) }
        memo[index] = top
    }

    private mutating func recall(_ index: Int, at offset: Int) throws(StateDictFormatError) {
        guard let value = memo[index] else { throw error("memo entry \(index) was never stored", at: offset) }
        try push(value, at: offset)
    }

    private func integer(_ value: Value, _ what: String, at offset: Int) throws(StateDictFormatError) -> Int {
        guard case .int(let n) = value else { throw error("\(what) is not an integer", at: offset) }
        return n
    }

    private func integers(_ value: Value, _ what: String, at offset: Int) throws(StateDictFormatError) -> [Int] {
        guard case .tuple(let items) = value else { throw error("\(what) is not a tuple", at: offset) }
        var result: [Int] = []
        for item in items { result.append(try integer(item, what, at: offset)) }
        return result
    }

    private func global(module: String, name: String, at offset: Int) throws(StateDictFormatError) -> Value {
        switch (module, name) {
        case ("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"):
            return .global(module: module, name: name)
        case ("torch", _):
            if let type = StorageType(rawValue: name) { return .storageType(type) }
        default:
            break
        }
        throw error(
            "the global '\(module).\(name)' is not allowed: a state dict of tensors needs only collections.OrderedDict, torch._utils._rebuild_tensor_v2/_rebuild_parameter and torch.{\(StorageType.allCases.map(\.rawValue).joined(separator: ","))}",
            at: offset)
    }

    /// What calling an allowed global with `arguments` builds.
    private func reduce(_ callable: Value, _ arguments: Value, at offset: Int) throws(StateDictFormatError) -> Value {
        guard case .global(let module, let name) = callable, case .tuple(let args) = arguments else {
            throw error("REDUCE needs an allowed global and an argument tuple", at: offset)
        }
        switch name {
        case "OrderedDict":
            guard args.isEmpty else { throw error("OrderedDict with arguments", at: offset) }
            return .dict(Container())
        case "_rebuild_tensor_v2":
            guard args.count >= 4, case .storage(let storage) = args[0] else {
                throw error("\(module).\(name) needs (storage, offset, size, stride, …)", at: offset)
            }
            let start = try integer(args[1], "storage offset", at: offset)
            let shape = try integers(args[2], "tensor size", at: offset)
            let strides = try integers(args[3], "tensor stride", at: offset)
            guard shape.count == strides.count, shape.count <= 8, start >= 0, shape.allSatisfy({ $0 >= 0 }),
                strides.allSatisfy({ $0 >= 0 })
            else {
                throw error("tensor size \(shape) and stride \(strides) at offset \(start) are not a valid view", at: offset)
            }
            // The largest element the view touches must lie inside the storage.
            var count = 1
            var last = start
            for (size, stride) in zip(shape, strides) {
                let (product, overflow) = count.multipliedReportingOverflow(by: size)
                guard !overflow, product <= storage.count || size == 0 else {
                    throw error("tensor size \(shape) exceeds its storage of \(storage.count) elements", at: offset)
                }
                count = product
                if size > 0 {
                    let (step, stepOverflow) = (size - 1).multipliedReportingOverflow(by: stride)
                    let (sum, sumOverflow) = last.addingReportingOverflow(step)
                    guard !stepOverflow, !sumOverflow else { throw error("tensor stride \(strides) overflows", at: offset) }
                    last = sum
                }
            }
            guard count == 0 || last < storage.count else {
                throw error("tensor view reaches element \(last) of a storage of \(storage.count)", at: offset)
            }
            return .tensor(TensorView(storage: storage, offset: start, shape: shape, strides: strides))
        case "_rebuild_parameter":
            guard let first = args.first, case .tensor = first else {
                throw error("_rebuild_parameter needs a tensor", at: offset)
            }
            return first
        default:
            throw error("cannot call \(module).\(name)", at: offset)
        }
    }

    private func persistentStorage(_ id: Value, at offset: Int) throws(StateDictFormatError) -> Value {
        guard case .tuple(let parts) = id, parts.count == 5, case .string("storage") = parts[0],
            case .storageType(let type) = parts[1],
            case .string(let key) = parts[2], case .string = parts[3], case .int(let count) = parts[4], count >= 0,
            !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
        else {
            throw error("a persistent id is not ('storage', torch.<Type>Storage, key, location, numel)", at: offset)
        }
        return .storage(Storage(dtype: type, key: key, count: count))
    }

    /// Runs the opcodes to `STOP` and returns the object built.
    private mutating func run() throws(StateDictFormatError) -> Value {
        while position < bytes.count {
            let offset = position
            let opcode = bytes[position]
            position += 1
            switch opcode {
            case 0x80:  // PROTO
                let version = try littleEndian(1, at: offset)
                guard (2...5).contains(version) else { throw error("pickle protocol \(version) (expected 2–5)", at: offset) }
            case 0x95:  // FRAME: a length prefix only
                _ = try littleEndian(8, at: offset)
            case 0x2E:  // STOP
                guard stack.count == 1 else { throw error("STOP with \(stack.count) values on the stack", at: offset) }
                return try pop(at: offset)
            case 0x28: try push(.mark, at: offset)  // MARK
            case 0x4E: try push(.none, at: offset)  // NONE
            case 0x88: try push(.bool(true), at: offset)  // NEWTRUE
            case 0x89: try push(.bool(false), at: offset)  // NEWFALSE
            case 0x4B: try push(.int(Int(try littleEndian(1, at: offset))), at: offset)  // BININT1
            case 0x4D: try push(.int(Int(try littleEndian(2, at: offset))), at: offset)  // BININT2
            case 0x4A: try push(.int(Int(Int32(truncatingIfNeeded: try littleEndian(4, at: offset)))), at: offset)  // BININT
            case 0x8A:  // LONG1
                let count = Int(try littleEndian(1, at: offset))
                guard count <= 8 else { throw error("an integer of \(count) bytes", at: offset) }
                var value = try littleEndian(count, at: offset)
                if count > 0, count < 8, value & (1 << (8 * UInt64(count) - 1)) != 0 { value |= ~0 << (8 * UInt64(count)) }
                try push(.int(Int(Int64(bitPattern: value))), at: offset)
            case 0x47:  // BINFLOAT (big-endian)
                var bits: UInt64 = 0
                for byte in try take(8, at: offset) { bits = bits << 8 | UInt64(byte) }
                try push(.float(Double(bitPattern: bits)), at: offset)
            case 0x58: try push(.string(try text(Int(try littleEndian(4, at: offset)), at: offset)), at: offset)  // BINUNICODE
            // SHORT_BINUNICODE
            case 0x8C: try push(.string(try text(Int(try littleEndian(1, at: offset)), at: offset)), at: offset)
            // SHORT_BINBYTES
            case 0x43: try push(.bytes((try take(Int(try littleEndian(1, at: offset)), at: offset)).count), at: offset)
            // BINBYTES
            case 0x42: try push(.bytes((try take(Int(try littleEndian(4, at: offset)), at: offset)).count), at: offset)
            case 0x29: try push(.tuple([]), at: offset)  // EMPTY_TUPLE
            case 0x85: try push(.tuple([try pop(at: offset)]), at: offset)  // TUPLE1
            case 0x86:  // TUPLE2
                let b = try pop(at: offset)
                let a = try pop(at: offset)
                try push(.tuple([a, b]), at: offset)
            case 0x87:  // TUPLE3
                let c = try pop(at: offset)
                let b = try pop(at: offset)
                let a = try pop(at: offset)
                try push(.tuple([a, b, c]), at: offset)
            case 0x74: try push(.tuple(try popToMark(at: offset)), at: offset)  // TUPLE
            case 0x7D: try push(.dict(Container()), at: offset)  // EMPTY_DICT
            case 0x5D: try push(.list(Container()), at: offset)  // EMPTY_LIST
            case 0x73:  // SETITEM
                let value = try pop(at: offset)
                let key = try pop(at: offset)
                try setItems([key, value], at: offset)
            case 0x75: try setItems(try popToMark(at: offset), at: offset)  // SETITEMS
            case 0x61:  // APPEND
                let value = try pop(at: offset)
                try append([value], at: offset)
            case 0x65: try append(try popToMark(at: offset), at: offset)  // APPENDS
            case 0x63:  // GLOBAL "module\nname\n"
                let module = try line(at: offset)
                let name = try line(at: offset)
                try push(try global(module: module, name: name, at: offset), at: offset)
            case 0x93:  // STACK_GLOBAL
                let nameValue = try pop(at: offset)
                let moduleValue = try pop(at: offset)
                guard case .string(let module) = moduleValue, case .string(let name) = nameValue else {
                    throw error("STACK_GLOBAL needs two strings", at: offset)
                }
                try push(try global(module: module, name: name, at: offset), at: offset)
            case 0x52:  // REDUCE
                let arguments = try pop(at: offset)
                let callable = try pop(at: offset)
                try push(try reduce(callable, arguments, at: offset), at: offset)
            case 0x62:  // BUILD: only an OrderedDict's attributes (`_metadata`), which a policy does not need
                guard case .dict = try pop(at: offset), case .dict = stack.last else {
                    throw error("BUILD needs a dict of attributes on a dict", at: offset)
                }
            case 0x51:  // BINPERSID
                try push(try persistentStorage(try pop(at: offset), at: offset), at: offset)
            case 0x71: try memoize(Int(try littleEndian(1, at: offset)), at: offset)  // BINPUT
            case 0x72: try memoize(Int(try littleEndian(4, at: offset)), at: offset)  // LONG_BINPUT
            case 0x94: try memoize(memo.count, at: offset)  // MEMOIZE
            case 0x68: try recall(Int(try littleEndian(1, at: offset)), at: offset)  // BINGET
            case 0x6A: try recall(Int(try littleEndian(4, at: offset)), at: offset)  // LONG_BINGET
            default:
                throw error(String(format: "opcode 0x%02x is not one a state dict uses", opcode), at: offset)
            }
        }
        throw StateDictFormatError("data.pkl: ends without STOP")
    }

    private mutating func setItems(_ pairs: [Value], at offset: Int) throws(StateDictFormatError) {
        guard pairs.count % 2 == 0, case .dict(let container) = stack.last else {
            throw error("SETITEMS needs a dict and key–value pairs", at: offset)
        }
        guard container.keys.count + pairs.count / 2 <= Self.maximumItems else {
            throw error("a dict exceeds \(Self.maximumItems) items", at: offset)
        }
        for i in stride(from: 0, to: pairs.count, by: 2) {
            container.keys.append(pairs[i])
            container.items.append(pairs[i + 1])
        }
    }

    private mutating func append(_ values: [Value], at offset: Int) throws(StateDictFormatError) {
        guard case .list(let container) = stack.last else { throw error("APPENDS needs a list", at: offset) }
        guard container.items.count + values.count <= Self.maximumItems else {
            throw error("a list exceeds \(Self.maximumItems) items", at: offset)
        }
        container.items.append(contentsOf: values)
    }
}

/// A file that is not a PyTorch checkpoint of a state dict Gauntlet can read.
public struct StateDictFormatError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

import Foundation

/// A restricted unpickler: reads the Python pickles Gauntlet imports (a PyTorch state dict's
/// `data.pkl`, Stable-Baselines3's `vec_normalize.pkl`) without ever calling anything.
///
/// Python's `pickle` is a small stack machine whose `GLOBAL` + `REDUCE`/`NEWOBJ` opcodes call any
/// importable function, which is why loading an untrusted pickle executes code. This reader
/// interprets the protocol 2–5 opcodes and accepts only the globals of its `Vocabulary`, each
/// mapped to the value it would build:
///
/// | global | builds |
/// |---|---|
/// | `collections.OrderedDict` | a dict (its `_metadata` attribute, set by `BUILD`, is ignored) |
/// | `torch._utils._rebuild_tensor_v2` / `_rebuild_parameter` | a tensor view (storage, offset, shape, strides) |
/// | `torch.FloatStorage`, `DoubleStorage`, `HalfStorage`, `BFloat16Storage`, `LongStorage` | the dtype of a persistent storage id `('storage', type, key, location, numel)` |
/// | `numpy.dtype` | a dtype (`'f8'`, `'f4'`, `'b1'`, …; byte order from its `BUILD` state) |
/// | `numpy._core.multiarray._reconstruct` (NumPy ≥ 2; `numpy.core…` before) with `numpy.ndarray` | an array, filled by its `BUILD` state `(version, shape, dtype, fortran, bytes)` |
/// | `numpy._core.multiarray.scalar` | a number from a dtype and its bytes |
/// | a class of the vocabulary through `NEWOBJ` (or a `numpy.random._pickle` constructor) | an object: its class name and the state `BUILD` gives it, never constructed |
///
/// Any other global or opcode is refused with its name and byte offset. Every length is checked
/// against the bytes that remain, and stack, memo and container sizes are bounded, so a
/// malformed or hostile file is a `StateDictFormatError`, never a crash or a huge allocation.
package struct RestrictedPickle {
    /// The globals one kind of pickle may name (`"module.name"`), and what the file is called in
    /// error messages.
    package struct Vocabulary: Sendable {
        package var file: String
        package var globals: Set<String>
        package init(file: String, globals: Set<String>) {
            self.file = file
            self.globals = globals
        }

        /// What a PyTorch state dict needs.
        package static let stateDict = Vocabulary(
            file: "data.pkl",
            globals: Set(
                ["collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter"]
                    + StorageType.allCases.map { "torch.\($0.rawValue)" }))
    }

    /// A storage a tensor views: `data/<key>` in the archive, `count` elements of `dtype`.
    package struct Storage: Equatable {
        package var dtype: StorageType
        package var key: String
        package var count: Int
    }

    /// The storage element types a policy's tensors can have.
    package enum StorageType: String, CaseIterable {
        case float = "FloatStorage"
        case double = "DoubleStorage"
        case half = "HalfStorage"
        case bfloat16 = "BFloat16Storage"
        case long = "LongStorage"

        package var byteCount: Int {
            switch self {
            case .float: 4
            case .double, .long: 8
            case .half, .bfloat16: 2
            }
        }
    }

    /// A tensor: a strided view of a storage.
    package struct TensorView: Equatable {
        package var storage: Storage
        package var offset: Int
        package var shape: [Int]
        package var strides: [Int]
    }

    /// Mutable containers are shared through the memo, as in Python.
    package final class Container {
        package var items: [Value] = []
        package var keys: [Value] = []

        /// The value under the string key `name` (dicts).
        package subscript(name: String) -> Value? {
            for (key, item) in zip(keys, items) { if case .string(name) = key { return item } }
            return nil
        }
    }

    /// A NumPy dtype: kind and size (`f8`, `b1`, …) and byte order (`<`, `>`, `|`, `=`).
    package final class DType {
        package let code: String
        package var byteOrder = "="
        init(code: String) { self.code = code }
    }

    /// A NumPy array as pickled: shape, dtype and the raw bytes in C or Fortran order.
    package final class NumPyArray {
        package var shape: [Int] = []
        package var dtype: DType?
        package var fortranOrder = false
        package var data: [UInt8] = []

        /// The elements as `Double`s, in C order (floating-point, integer and boolean dtypes).
        package func doubles(file: String) throws(StateDictFormatError) -> [Double] {
            guard let dtype, let element = NumPyArray.elementReader(dtype.code) else {
                throw StateDictFormatError("\(file): an array of dtype '\(dtype?.code ?? "?")' (expected a number type)")
            }
            guard dtype.byteOrder != ">" else { throw StateDictFormatError("\(file): a big-endian array") }
            let count = shape.reduce(1, *)
            guard data.count == count * element.size else {
                throw StateDictFormatError(
                    "\(file): an array of shape \(shape) and dtype \(dtype.code) holds \(data.count) bytes")
            }
            guard !fortranOrder || shape.count < 2 else {
                throw StateDictFormatError("\(file): a Fortran-ordered array of shape \(shape) (expected C order)")
            }
            return (0..<count).map { element.read(data, $0 * element.size) }
        }

        static func elementReader(_ code: String) -> (size: Int, read: ([UInt8], Int) -> Double)? {
            func bits(_ bytes: [UInt8], _ at: Int, _ count: Int) -> UInt64 {
                (0..<count).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
            }
            switch code {
            case "f8": return (8, { Double(bitPattern: bits($0, $1, 8)) })
            case "f4": return (4, { Double(Float(bitPattern: UInt32(bits($0, $1, 4)))) })
            case "i8": return (8, { Double(Int64(bitPattern: bits($0, $1, 8))) })
            case "i4": return (4, { Double(Int32(truncatingIfNeeded: bits($0, $1, 4))) })
            case "u4": return (4, { Double(UInt32(bits($0, $1, 4))) })
            case "u8": return (8, { Double(bits($0, $1, 8)) })
            case "b1", "u1": return (1, { Double($0[$1]) })
            default: return nil
            }
        }
    }

    /// An instance of an allowed class, never constructed: its class and the state `BUILD` set.
    package final class Object {
        package let className: String
        package var state: Value?
        init(className: String) { self.className = className }
    }

    package indirect enum Value {
        case none
        case bool(Bool)
        case int(Int)
        /// An integer wider than 64 bits (a random generator's state); its value is not kept.
        case wideInt
        case float(Double)
        case string(String)
        case bytes([UInt8])
        case tuple([Value])
        case list(Container)
        case dict(Container)
        case global(String)
        case storageType(StorageType)
        case storage(Storage)
        case tensor(TensorView)
        case dtype(DType)
        case array(NumPyArray)
        case object(Object)
        case mark
    }

    /// Bounds on what one pickle may build; the files Gauntlet reads need far less.
    static let maximumItems = 1 << 20

    private let bytes: [UInt8]
    private let vocabulary: Vocabulary
    private var position = 0
    private var stack: [Value] = []
    private var memo: [Int: Value] = [:]

    /// The object the pickle `bytes` builds with the globals of `vocabulary`.
    package static func load(_ bytes: [UInt8], vocabulary: Vocabulary) throws(StateDictFormatError) -> Value {
        var reader = RestrictedPickle(bytes: bytes, vocabulary: vocabulary)
        return try reader.run()
    }

    private init(bytes: [UInt8], vocabulary: Vocabulary) {
        self.bytes = bytes
        self.vocabulary = vocabulary
    }

    private func error(_ message: String, at offset: Int) -> StateDictFormatError {
        StateDictFormatError("\(vocabulary.file), byte \(offset): \(message)")
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

    private mutating func length(_ count: Int, at offset: Int) throws(StateDictFormatError) -> Int {
        let value = try littleEndian(count, at: offset)
        guard value <= UInt64(bytes.count) else { throw error("truncated (needs \(value) more bytes)", at: offset) }
        return Int(value)
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
        let qualified = "\(module).\(name)"
        guard vocabulary.globals.contains(qualified) else {
            throw error(
                "the global '\(qualified)' is not allowed: \(vocabulary.file) may name only \(vocabulary.globals.sorted().joined(separator: ", "))",
                at: offset)
        }
        if module == "torch", let type = StorageType(rawValue: name) { return .storageType(type) }
        return .global(qualified)
    }

    /// What calling an allowed global with `arguments` builds.
    private func reduce(_ callable: Value, _ arguments: Value, at offset: Int) throws(StateDictFormatError) -> Value {
        guard case .global(let name) = callable, case .tuple(let args) = arguments else {
            throw error("REDUCE needs an allowed global and an argument tuple", at: offset)
        }
        switch name {
        case "collections.OrderedDict":
            guard args.isEmpty else { throw error("OrderedDict with arguments", at: offset) }
            return .dict(Container())
        case "torch._utils._rebuild_tensor_v2":
            return try tensorView(args, at: offset)
        case "torch._utils._rebuild_parameter":
            guard let first = args.first, case .tensor = first else {
                throw error("_rebuild_parameter needs a tensor", at: offset)
            }
            return first
        case "numpy.dtype":
            guard args.count == 3, case .string(let code) = args[0], code.count <= 8 else {
                throw error("numpy.dtype needs (code, align, copy)", at: offset)
            }
            return .dtype(DType(code: code))
        case "numpy._core.multiarray._reconstruct", "numpy.core.multiarray._reconstruct":
            guard args.count == 3, case .global(let type) = args[0], type == "numpy.ndarray" else {
                throw error("\(name) needs (numpy.ndarray, shape, typecode)", at: offset)
            }
            return .array(NumPyArray())
        case "numpy._core.multiarray.scalar", "numpy.core.multiarray.scalar":
            guard args.count == 2, case .dtype(let dtype) = args[0], case .bytes(let data) = args[1],
                let element = NumPyArray.elementReader(dtype.code), data.count == element.size
            else {
                throw error("\(name) needs (a number dtype, its bytes)", at: offset)
            }
            return .float(element.read(data, 0))
        default:
            // The constructors of pickled NumPy random generators and other allowed classes:
            // their state is kept as an object, nothing is built.
            return .object(Object(className: name))
        }
    }

    private func tensorView(_ args: [Value], at offset: Int) throws(StateDictFormatError) -> Value {
        guard args.count >= 4, case .storage(let storage) = args[0] else {
            throw error("torch._utils._rebuild_tensor_v2 needs (storage, offset, size, stride, …)", at: offset)
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
    }

    /// `BUILD`: sets the state of the object, array or dtype below it.
    private func build(_ target: Value, state: Value, at offset: Int) throws(StateDictFormatError) {
        switch (target, state) {
        case (.dict, .dict):  // an OrderedDict's attributes (`_metadata`), which nothing needs
            break
        case (.object(let object), _):
            guard object.state == nil else { throw error("BUILD on an object that already has a state", at: offset) }
            object.state = state
        case (.dtype(let dtype), .tuple(let parts)):
            guard parts.count >= 2, case .string(let order) = parts[1], ["<", ">", "|", "="].contains(order) else {
                throw error("a dtype state without a byte order", at: offset)
            }
            dtype.byteOrder = order
        case (.array(let array), .tuple(let parts)):
            guard parts.count == 5, case .dtype(let dtype) = parts[2], case .bool(let fortran) = parts[3],
                case .bytes(let data) = parts[4]
            else {
                throw error("an array state is not (version, shape, dtype, fortran order, bytes)", at: offset)
            }
            let shape = try integers(parts[1], "array shape", at: offset)
            let (count, overflow) = shape.reduce((1, false)) { partial, size in
                let (product, o) = partial.0.multipliedReportingOverflow(by: size)
                return (product, partial.1 || o || size < 0)
            }
            guard !overflow, count <= Self.maximumItems else { throw error("array shape \(shape) is too large", at: offset) }
            array.shape = shape
            array.dtype = dtype
            array.fortranOrder = fortran
            array.data = data
        default:
            throw error("BUILD with a state this reader does not set", at: offset)
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
                guard count <= 8 else {
                    _ = try take(count, at: offset)
                    try push(.wideInt, at: offset)
                    break
                }
                var value = try littleEndian(count, at: offset)
                if count > 0, count < 8, value & (1 << (8 * UInt64(count) - 1)) != 0 { value |= ~0 << (8 * UInt64(count)) }
                try push(.int(Int(Int64(bitPattern: value))), at: offset)
            case 0x47:  // BINFLOAT (big-endian)
                var bits: UInt64 = 0
                for byte in try take(8, at: offset) { bits = bits << 8 | UInt64(byte) }
                try push(.float(Double(bitPattern: bits)), at: offset)
            case 0x58: try push(.string(try text(try length(4, at: offset), at: offset)), at: offset)  // BINUNICODE
            case 0x8C: try push(.string(try text(try length(1, at: offset), at: offset)), at: offset)  // SHORT_BINUNICODE
            case 0x43: try push(.bytes(Array(try take(try length(1, at: offset), at: offset))), at: offset)  // SHORT_BINBYTES
            case 0x42: try push(.bytes(Array(try take(try length(4, at: offset), at: offset))), at: offset)  // BINBYTES
            case 0x8E: try push(.bytes(Array(try take(try length(8, at: offset), at: offset))), at: offset)  // BINBYTES8
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
            case 0x81:  // NEWOBJ: cls.__new__(cls, *args), kept as an object of that class
                let arguments = try pop(at: offset)
                guard case .global(let className) = try pop(at: offset), case .tuple = arguments else {
                    throw error("NEWOBJ needs an allowed class and an argument tuple", at: offset)
                }
                try push(.object(Object(className: className)), at: offset)
            case 0x62:  // BUILD
                let state = try pop(at: offset)
                guard let target = stack.last else { throw error("BUILD with nothing to build", at: offset) }
                try build(target, state: state, at: offset)
            case 0x51:  // BINPERSID
                try push(try persistentStorage(try pop(at: offset), at: offset), at: offset)
            case 0x71: try memoize(Int(try littleEndian(1, at: offset)), at: offset)  // BINPUT
            case 0x72: try memoize(Int(try littleEndian(4, at: offset)), at: offset)  // LONG_BINPUT
            case 0x94: try memoize(memo.count, at: offset)  // MEMOIZE
            case 0x68: try recall(Int(try littleEndian(1, at: offset)), at: offset)  // BINGET
            case 0x6A: try recall(Int(try littleEndian(4, at: offset)), at: offset)  // LONG_BINGET
            default:
                throw error(String(format: "opcode 0x%02x is not one this reader interprets", opcode), at: offset)
            }
        }
        throw StateDictFormatError("\(vocabulary.file): ends without STOP")
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

/// A file that is not a pickle or checkpoint Gauntlet can read.
public struct StateDictFormatError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

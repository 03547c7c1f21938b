import Environments
import Foundation
import Linalg
import NeuralNet

/// Builds a checkpoint: named arrays as safetensors tensors (exact, in their own precision) and
/// the learner's small state as JSON in the metadata.
public struct CheckpointWriter {
    public private(set) var file = Safetensors()

    public init() {}

    public mutating func put(_ name: String, _ values: [Float]) {
        file.tensors[name] = .init(shape: [values.count], float32: values)
    }
    public mutating func put(_ name: String, _ values: [Double]) {
        file.tensors[name] = .init(shape: [values.count], float64: values)
    }
    public mutating func put(_ name: String, bytes: [UInt8]) {
        file.tensors[name] = .init(shape: [bytes.count], values: .u8(bytes))
    }

    /// Stores scalars of either precision in their own dtype.
    public mutating func put<S: BLASScalar>(_ name: String, scalars values: [S]) {
        if let floats = values as? [Float] { put(name, floats) } else { put(name, values.map { Double($0) }) }
    }

    /// Stores `value` as JSON metadata; non-finite numbers (a mean over no episodes yet) are
    /// written as the strings `nan`, `inf`, `-inf`, which `json(_:as:)` reads back.
    public mutating func putJSON<T: Encodable>(_ key: String, _ value: T) {
        file.metadata[key] = String(decoding: try! JSONEncoder.gauntlet().encode(value), as: UTF8.self)
    }

    /// Stores everything `other` holds under `prefix.` (a learner inside another's checkpoint).
    public mutating func put(prefix: String, _ other: CheckpointWriter) {
        for (name, tensor) in other.file.tensors { file.tensors["\(prefix).\(name)"] = tensor }
        for (key, value) in other.file.metadata { file.metadata["\(prefix).\(key)"] = value }
    }

    /// Writes atomically: a reader (or a resumed run) sees the old checkpoint or the new one.
    public func write(to url: URL) throws(CheckpointError) {
        do { try file.write(to: url) } catch { throw CheckpointError(error.description) }
    }
}

/// Reads a checkpoint written by `CheckpointWriter`, checking every name, dtype and size.
public struct CheckpointReader {
    public let file: Safetensors

    public init(_ file: Safetensors) { self.file = file }

    public init(contentsOf url: URL) throws(CheckpointError) {
        do { file = try Safetensors.read(contentsOf: url) } catch { throw CheckpointError(error.description) }
    }

    /// What a checkpoint stored with `put(prefix:_:)` under `prefix`.
    public func scoped(_ prefix: String) -> CheckpointReader {
        var inner = Safetensors()
        let head = prefix + "."
        for (name, tensor) in file.tensors where name.hasPrefix(head) {
            inner.tensors[String(name.dropFirst(head.count))] = tensor
        }
        for (key, value) in file.metadata where key.hasPrefix(head) { inner.metadata[String(key.dropFirst(head.count))] = value }
        return CheckpointReader(inner)
    }

    private func tensor(_ name: String, count: Int?) throws(CheckpointError) -> Safetensors.Tensor {
        guard let tensor = file.tensors[name] else { throw CheckpointError("checkpoint has no '\(name)'") }
        if let count, tensor.count != count {
            throw CheckpointError("checkpoint '\(name)' has \(tensor.count) values, expected \(count)")
        }
        return tensor
    }

    public func float32(_ name: String, count: Int? = nil) throws(CheckpointError) -> [Float] {
        guard let values = try tensor(name, count: count).float32 else {
            throw CheckpointError("checkpoint '\(name)' is not F32")
        }
        return values
    }

    public func float64(_ name: String, count: Int? = nil) throws(CheckpointError) -> [Double] {
        guard let values = try tensor(name, count: count).float64 else {
            throw CheckpointError("checkpoint '\(name)' is not F64")
        }
        return values
    }

    public func bytes(_ name: String, count: Int? = nil) throws(CheckpointError) -> [UInt8] {
        guard case .u8(let values) = try tensor(name, count: count).values else {
            throw CheckpointError("checkpoint '\(name)' is not U8")
        }
        return values
    }

    /// Scalars stored by `put(_:scalars:)` in precision `S`.
    public func scalars<S: BLASScalar>(_ name: String, count: Int? = nil, as _: S.Type = S.self) throws(CheckpointError) -> [S] {
        let tensor = try tensor(name, count: count)
        guard tensor.dtype == (S.self == Float.self ? "F32" : "F64"), let values = tensor.floatingPoint(as: S.self) else {
            throw CheckpointError(
                "checkpoint '\(name)' is \(tensor.dtype), this run computes in \(S.dtypeName) (resume with the precision it was started with)"
            )
        }
        return values
    }

    public func json<T: Decodable>(_ key: String, as _: T.Type = T.self) throws(CheckpointError) -> T {
        guard let text = file.metadata[key] else { throw CheckpointError("checkpoint has no '\(key)' metadata") }
        do { return try JSONDecoder.gauntlet().decode(T.self, from: Data(text.utf8)) } catch {
            throw CheckpointError("checkpoint metadata '\(key)' is invalid: \(error)")
        }
    }
}

/// A checkpoint that cannot be used; the description says why.
public struct CheckpointError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension CheckpointWriter {
    /// Stores an Adam optimiser's moments and step.
    public mutating func put<S: BLASScalar>(_ name: String, adam: Adam<S>) {
        put("\(name).m", scalars: adam.firstMoment)
        put("\(name).v", scalars: adam.secondMoment)
        put("\(name).step", [Double(adam.step)])
    }

    /// Stores an RMSProp optimiser's running averages.
    public mutating func put<S: BLASScalar>(_ name: String, rmsprop: RMSProp<S>) {
        put("\(name).square_average", scalars: rmsprop.squareAverage)
        if rmsprop.centered { put("\(name).gradient_average", scalars: rmsprop.gradientAverage) }
        if rmsprop.momentum > 0 { put("\(name).momentum_buffer", scalars: rmsprop.momentumBuffer) }
    }

    /// Stores a random stream's state.
    public mutating func put(_ name: String, random: RandomStream) { put(name, bytes: random.state) }
}

extension CheckpointReader {
    public func restore<S: BLASScalar>(_ adam: inout Adam<S>, _ name: String) throws(CheckpointError) {
        let m: [S] = try scalars("\(name).m", count: adam.firstMoment.count)
        let v: [S] = try scalars("\(name).v", count: adam.secondMoment.count)
        let step = try float64("\(name).step", count: 1)[0]
        adam.restore(firstMoment: m, secondMoment: v, step: Int(step))
    }

    public func restore<S: BLASScalar>(_ rmsprop: inout RMSProp<S>, _ name: String) throws(CheckpointError) {
        let s: [S] = try scalars("\(name).square_average", count: rmsprop.squareAverage.count)
        let m: [S] = rmsprop.centered ? try scalars("\(name).gradient_average", count: rmsprop.gradientAverage.count) : []
        let b: [S] = rmsprop.momentum > 0 ? try scalars("\(name).momentum_buffer", count: rmsprop.momentumBuffer.count) : []
        rmsprop.restore(squareAverage: s, gradientAverage: m, momentumBuffer: b)
    }

    /// Puts a random stream back in the state `put(_:random:)` stored.
    public func restore(_ random: RandomStream, _ name: String) throws(CheckpointError) {
        let state = try bytes(name, count: random.state.count)
        random.restore(state: state)
    }
}

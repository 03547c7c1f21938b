import Foundation
import Linalg
import NeuralNet
import PropertyBased
import TestSupport
import Testing

/// Builds a file by hand: header JSON text and raw data bytes, so malformed cases can be made.
private func rawFile(header: String, data: [UInt8] = [], headerLength: UInt64? = nil) -> Data {
    var file = Data()
    let headerBytes = Data(header.utf8)
    withUnsafeBytes(of: (headerLength ?? UInt64(headerBytes.count)).littleEndian) { file.append(contentsOf: $0) }
    file.append(headerBytes)
    file.append(contentsOf: data)
    return file
}

private func expectError(_ data: Data, mentioning phrase: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try Safetensors(data: data)
        Issue.record("accepted a malformed file (expected an error mentioning '\(phrase)')", sourceLocation: sourceLocation)
    } catch {
        #expect(error.description.contains(phrase), "\(error.description)", sourceLocation: sourceLocation)
    }
}

@Suite struct SafetensorsTests {
    @Test func roundTripKeepsEveryDtypeShapeAndMetadata() throws {
        let original = Safetensors(
            tensors: [
                "a": .init(shape: [2, 3], float32: [1, -2, 3.5, .pi, -0, 1e-30]),
                "b": .init(shape: [4], float64: [1, 2, 3, -.greatestFiniteMagnitude]),
                "c": .init(shape: [2], int64: [-5, .max]),
                "empty": .init(shape: [0, 3], float32: []),
                "scalar": .init(shape: [], float32: [7]),
                "bytes": .init(shape: [3], values: .u8([0, 1, 255])),
            ],
            metadata: ["note": "ünïcødé \"quoted\"", "k": "v"])
        let data = original.serialized()
        #expect(try Safetensors(data: data) == original)
        let headerLength = data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(headerLength % 8 == 0)
    }

    /// Writing into a folder that does not exist yet makes it (README commands record into
    /// `runs/`, which a fresh clone lacks).
    @Test func writingMakesTheFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-st-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("runs/file.safetensors")
        let file = Safetensors(tensors: ["a": .init(shape: [1], float32: [2])], metadata: [:])
        try file.write(to: url)
        #expect(try Safetensors(data: Data(contentsOf: url)) == file)
    }

    @Test func aFileWrittenByPyTorchLoads() throws {
        let file = try Safetensors.read(contentsOf: fixtureURL("torch_policy.safetensors"))
        #expect(file.tensors["0.weight"]?.shape == [16, 4])
        #expect(file.tensors["4.bias"]?.shape == [3])
        #expect(file.metadata["gauntlet"] != nil)
    }

    @Test func truncatedFiles() {
        expectError(Data([1, 2, 3]), mentioning: "truncated")
        let good = Safetensors(tensors: ["x": .init(shape: [4], float32: [1, 2, 3, 4])]).serialized()
        expectError(good.prefix(good.count - 1), mentioning: "data_offsets [0, 16] outside the 15-byte data section")
        expectError(good + Data([0]), mentioning: "data section has 17 bytes but the tensors cover 16")
        expectError(good.prefix(12), mentioning: "longer than")
    }

    @Test func headerLengthBeyondTheFileOrAbsurd() {
        expectError(rawFile(header: "{}", headerLength: 1000), mentioning: "longer than")
        expectError(rawFile(header: "{}", headerLength: 10_000_000_000), mentioning: "exceeds the limit")
        expectError(rawFile(header: "{}", headerLength: .max), mentioning: "exceeds the limit")
    }

    @Test func headerThatIsNotAJSONObject() {
        expectError(rawFile(header: "[1, 2]"), mentioning: "not a JSON object")
        expectError(rawFile(header: "{\"a\": "), mentioning: "not a JSON object")
        expectError(rawFile(header: "{\"a\": 3}"), mentioning: "tensor 'a': entry is not a JSON object")
    }

    @Test func offsetsOutOfRangeOverlappingOrWithGaps() {
        expectError(
            rawFile(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]),
            mentioning: "outside the 4-byte data section")
        expectError(
            rawFile(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: [UInt8](repeating: 0, count: 4)),
            mentioning: "outside")
        expectError(
            rawFile(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, data: [UInt8](repeating: 0, count: 4)),
            mentioning: "outside")
        expectError(
            rawFile(
                header:
                    #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                data: [UInt8](repeating: 0, count: 12)), mentioning: "overlap")
        expectError(
            rawFile(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: [UInt8](repeating: 0, count: 8)),
            mentioning: "gap of 4 bytes")
        expectError(
            rawFile(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, data: [0, 0, 0, 0]),
            mentioning: "data_offsets must be two integers")
        expectError(
            rawFile(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0, 4.5]}}"#, data: [0, 0, 0, 0]),
            mentioning: "data_offsets must be two integers")
    }

    @Test func wrongDtypeOrShape() {
        expectError(
            rawFile(header: #"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]),
            mentioning: "unsupported dtype F16")
        expectError(
            rawFile(header: #"{"a":{"shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]),
            mentioning: "missing or non-string dtype")
        expectError(
            rawFile(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)),
            mentioning: "needs 12 bytes but data_offsets span 8")
        expectError(
            rawFile(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]),
            mentioning: "non-negative integers")
        expectError(
            rawFile(
                header: #"{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]),
            mentioning: "larger than the file")
    }

    @Test func metadataMustMapStringsToStrings() {
        expectError(rawFile(header: #"{"__metadata__":{"a":1}}"#), mentioning: "'a' is not a string")
        expectError(rawFile(header: #"{"__metadata__":[1]}"#), mentioning: "__metadata__ is not a JSON object")
    }

    /// Random corruptions of a valid file are rejected with an error or parse to something —
    /// never a crash or an out-of-bounds read.
    @Test func corruptedFilesNeverCrash() async {
        let valid = Safetensors(
            tensors: [
                "0.weight": .init(shape: [3, 2], float32: [1, 2, 3, 4, 5, 6]), "0.bias": .init(shape: [3], float32: [1, 2, 3]),
            ],
            metadata: ["gauntlet": "{}"]
        ).serialized()
        await propertyCheck(count: 2000, input: Gen.int(in: 0..<valid.count).array(of: 1...6), Gen.uint8(in: 0...255)) {
            positions, byte in
            var corrupted = valid
            for position in positions { corrupted[position] = byte &+ UInt8(position % 7) }
            _ = try? Safetensors(data: corrupted)
            _ = try? Safetensors(data: corrupted.prefix(positions[0]))
        }
    }
}

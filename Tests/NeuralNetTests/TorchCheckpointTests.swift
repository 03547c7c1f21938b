import Foundation
import NeuralNet
import TestSupport
import Testing

private struct StoredTensor: Codable {
    var shape: [Int]
    var values: [Double]
}

@Suite struct TorchCheckpointTests {
    /// `torch_state_dict.pth` (written by `torch.save` in `make_sb3_fixtures.py`) holds a
    /// transposed view and a float64 tensor; every value equals what PyTorch listed.
    @Test func readsATorchSaveFile() throws {
        let tensors = try TorchCheckpoint.stateDict(contentsOf: fixtureURL("torch_state_dict.pth"))
        let expected = try loadFixture("torch_state_dict_pth.json", as: [String: StoredTensor].self)
        #expect(Set(tensors.keys) == Set(expected.keys))
        for (name, stored) in expected {
            let tensor = try #require(tensors[name])
            #expect(tensor.shape == stored.shape, "\(name)")
            let values = try #require(tensor.floatingPoint(as: Double.self))
            #expect(values == stored.values.map { name == "2.bias" ? $0 : Double(Float($0)) }, "\(name)")
        }
        #expect(tensors["2.bias"]?.dtype == "F64")
        #expect(tensors["0.weight"]?.dtype == "F32")
    }

    static func pickleArchive(_ pickle: [UInt8]) throws -> Data {
        try zipArchive([
            ("archive/data.pkl", Data(pickle)), ("archive/byteorder", Data("little".utf8)), ("archive/data/0", Data(count: 64)),
        ])
    }

    func rejection(_ pickle: [UInt8]) throws -> String {
        let archive = try Self.pickleArchive(pickle)
        do {
            _ = try TorchCheckpoint.stateDict(data: archive)
            return ""
        } catch {
            return error.description
        }
    }

    /// The classic exploit — `os.system("…")` through GLOBAL + REDUCE — is refused by name, and
    /// nothing runs.
    @Test func refusesGlobalsAStateDictDoesNotNeed() throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("pickle-ran-\(UUID())").path
        let command = Array("touch \(marker)".utf8)
        var exploit: [UInt8] =
            [0x80, 0x02] + Array("cos\nsystem\n".utf8) + [0x58]
            + withUnsafeBytes(of: UInt32(command.count).littleEndian, Array.init)
        exploit += command + [0x85, 0x52, 0x2E]
        let message = try rejection(exploit)
        #expect(message.contains("'os.system' is not allowed"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(try rejection([0x80, 0x02] + Array("cbuiltins\neval\n".utf8) + [0x2E]).contains("builtins.eval"))
        #expect(
            try rejection([0x80, 0x02] + Array("ctorch._utils\n_rebuild_tensor_v2\n".utf8) + [0x29, 0x52, 0x2E]).contains(
                "needs (storage"))
    }

    @Test func refusesMalformedPickles() throws {
        #expect(try rejection([0x80, 0x02, 0x7D]).contains("ends without STOP"))
        #expect(try rejection([0x80, 0x02, 0x2E]).contains("STOP with 0 values"))
        #expect(try rejection([0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F]).contains("truncated"))
        #expect(try rejection([0x80, 0x02, 0x68, 0x05]).contains("memo entry 5"))
        #expect(try rejection([0x80, 0x02, 0x4E, 0x2E]).contains("not a dict"))
        #expect(try rejection([0x80, 0x02, 0x69]).contains("opcode 0x69"))
        #expect(try rejection([0x80, 0x09]).contains("protocol 9"))
        // A view reaching past its storage of 4 elements: shape (2, 2), strides (3, 1).
        var view: [UInt8] = [0x80, 0x02, 0x7D, 0x58, 1, 0, 0, 0, 0x77]
        view += Array("ctorch._utils\n_rebuild_tensor_v2\n(".utf8)
        view += [0x28, 0x58, 7, 0, 0, 0] + Array("storage".utf8) + Array("ctorch\nFloatStorage\n".utf8)
        view += [0x58, 1, 0, 0, 0, 0x30, 0x58, 3, 0, 0, 0] + Array("cpu".utf8) + [0x4B, 4, 0x74, 0x51]
        view += [0x4B, 0, 0x4B, 2, 0x4B, 2, 0x86, 0x4B, 3, 0x4B, 1, 0x86, 0x89, 0x7D, 0x74, 0x52, 0x73, 0x2E]
        #expect(try rejection(view).contains("reaches element 4 of a storage of 4"))
    }

    @Test func refusesOtherFiles() throws {
        #expect(throws: StateDictFormatError.self) { try TorchCheckpoint.stateDict(data: Data("not a zip".utf8)) }
        #expect(throws: StateDictFormatError.self) { try TorchCheckpoint.stateDict(data: Data([0x80, 0x02, 0x7D, 0x2E])) }
        let truncated = try Data(contentsOf: fixtureURL("torch_state_dict.pth")).prefix(900)
        #expect(throws: StateDictFormatError.self) { try TorchCheckpoint.stateDict(data: truncated) }
    }
}

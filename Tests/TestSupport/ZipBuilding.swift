import Foundation
import ZIPFoundation

/// The bytes of a zip archive holding `members` (path, contents) in order, stored uncompressed
/// as `torch.save` writes them.
public func zipArchive(_ members: [(path: String, contents: Data)]) throws -> Data {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-zip-\(UUID()).zip")
    defer { try? FileManager.default.removeItem(at: url) }
    do {
        let archive = try Archive(url: url, accessMode: .create)
        for (path, contents) in members {
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(contents.count)) { position, size in
                contents.subdata(in: Int(position)..<Int(position) + size)
            }
        }
    }
    return try Data(contentsOf: url)
}

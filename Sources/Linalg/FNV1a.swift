import Foundation

/// The 64-bit FNV-1a hash: stable across runs and machines (unlike `Hasher`), for seeds derived
/// from names, config and spec hashes, cell shards and file fingerprints.
public enum FNV1a {
    public static func hash<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return h
    }

    /// The hash of a string's UTF-8 bytes, in hexadecimal.
    public static func hex(_ text: String) -> String { String(hash(text.utf8), radix: 16) }

    /// The hash of a file's bytes, in hexadecimal; nil if the file cannot be read.
    public static func hex(fileAt url: URL) -> String? {
        FileManager.default.contents(atPath: url.path).map { String(hash($0), radix: 16) }
    }
}

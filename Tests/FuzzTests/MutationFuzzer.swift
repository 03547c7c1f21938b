import Foundation
import Linalg
import Testing

/// A structured mutation fuzzer in the manner of libFuzzer's mutators, for the parsers a user
/// can feed: each input is a seed from the corpus (real files) changed by a few mutations —
/// bit flips, interesting bytes and integers, insertions and deletions, duplicated or spliced
/// ranges, truncation, and tokens of the target's grammar. Mutations favour a file's first
/// bytes (headers, where formats keep their structure) without ignoring the rest.
///
/// A target passes when every input is either accepted or rejected with a clear error (a message
/// of its own, not a reflected Swift value), none takes longer than `timeLimit` (a hang), and
/// none crashes (which ends the test process). `GAUNTLET_FUZZ_INPUTS` sets the number of inputs
/// per target (the suite's short run uses the default); `GAUNTLET_FUZZ_SEED` the seed; with
/// `GAUNTLET_FUZZ_ARTIFACTS` set to a directory, each input is written to `<dir>/<target>.input`
/// before it runs, so the one that crashed the process is there to reproduce it.
struct MutationFuzzer {
    var name: String
    var corpus: [Data]
    var tokens: [String] = []
    /// How far into a seed mutations concentrate (then anywhere, one time in four).
    var headerBytes = 512

    static var inputCount: Int { ProcessInfo.processInfo.environment["GAUNTLET_FUZZ_INPUTS"].flatMap(Int.init) ?? 1000 }
    static var seed: UInt64 { ProcessInfo.processInfo.environment["GAUNTLET_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_261_125 }
    static var artifacts: URL? { ProcessInfo.processInfo.environment["GAUNTLET_FUZZ_ARTIFACTS"].map { URL(fileURLWithPath: $0) } }
    static var timeLimit: Double { ProcessInfo.processInfo.environment["GAUNTLET_FUZZ_TIME_LIMIT"].flatMap(Double.init) ?? 5 }

    /// What a run saw, printed by the fuzz script.
    struct Summary: CustomStringConvertible {
        var name: String
        var inputs = 0
        var accepted = 0
        var rejected = 0
        var slowestSeconds = 0.0
        var seconds = 0.0
        var description: String {
            "fuzz \(name): \(inputs) inputs, \(accepted) accepted, \(rejected) rejected with an error, slowest \(String(format: "%.4f", slowestSeconds)) s, total \(String(format: "%.1f", seconds)) s"
        }
    }

    static let interestingIntegers: [UInt64] = [
        0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, .max, 1 << 40,
    ]

    func mutate(_ seed: Data, random: RandomStream) -> [UInt8] {
        var bytes = [UInt8](seed)
        let rounds = 1 + random.integer(below: 4)
        for _ in 0..<rounds {
            func position() -> Int {
                guard !bytes.isEmpty else { return 0 }
                let span = random.integer(below: 4) == 0 ? bytes.count : min(bytes.count, headerBytes)
                return random.integer(below: span)
            }
            switch random.integer(below: 10) {
            case 0 where !bytes.isEmpty:  // flip a bit
                let i = position()
                bytes[i] ^= 1 << UInt8(random.integer(below: 8))
            case 1 where !bytes.isEmpty:  // a random byte
                bytes[position()] = UInt8(random.integer(below: 256))
            case 2 where bytes.count >= 8:  // an interesting integer, little- or big-endian, 1–8 bytes wide
                let width = [1, 2, 4, 8][random.integer(below: 4)]
                let i = min(position(), bytes.count - width)
                let value = Self.interestingIntegers[random.integer(below: Self.interestingIntegers.count)]
                let bigEndian = random.integer(below: 2) == 0
                for k in 0..<width {
                    let shift = UInt64(8 * (bigEndian ? width - 1 - k : k))
                    bytes[i + k] = UInt8(truncatingIfNeeded: value >> shift)
                }
            case 3:  // insert random bytes
                let i = position()
                bytes.insert(
                    contentsOf: (0..<(1 + random.integer(below: 8))).map { _ in UInt8(random.integer(below: 256)) }, at: i)
            case 4 where !bytes.isEmpty:  // delete a range
                let i = position()
                bytes.removeSubrange(i..<min(bytes.count, i + 1 + random.integer(below: 16)))
            case 5 where !bytes.isEmpty:  // duplicate a range
                let i = position()
                let range = bytes[i..<min(bytes.count, i + 1 + random.integer(below: 64))]
                bytes.insert(contentsOf: range, at: position())
            case 6 where !bytes.isEmpty:  // truncate
                bytes.removeSubrange(random.integer(below: bytes.count)...)
            case 7 where corpus.count > 1:  // splice with another seed
                let other = corpus[random.integer(below: corpus.count)]
                guard !other.isEmpty else { break }
                let start = random.integer(below: other.count)
                let piece = other[
                    (other.startIndex + start)..<(other.startIndex + min(other.count, start + 1 + random.integer(below: 128)))]
                let i = position()
                bytes.replaceSubrange(i..<min(bytes.count, i + piece.count), with: piece)
            case 8 where !tokens.isEmpty, 9 where !tokens.isEmpty:  // a grammar token, inserted or overwriting
                let token = Array(tokens[random.integer(below: tokens.count)].utf8)
                let i = position()
                if random.integer(below: 2) == 0 {
                    bytes.insert(contentsOf: token, at: i)
                } else {
                    bytes.replaceSubrange(i..<min(bytes.count, i + token.count), with: token)
                }
            default:
                break
            }
        }
        return bytes
    }

    /// Feeds `inputCount` mutated inputs to `target`, recording an issue for an unclear error or
    /// a slow input.
    @discardableResult
    func run(_ target: (Data) throws -> Void) -> Summary {
        let random = RandomStream(seed: Self.seed).child(name)
        var summary = Summary(name: name)
        let start = DispatchTime.now().uptimeNanoseconds
        for index in 0..<Self.inputCount {
            let seed = corpus[random.integer(below: corpus.count)]
            let input = index < corpus.count ? [UInt8](corpus[index]) : mutate(seed, random: random)
            if let artifacts = Self.artifacts { try? Data(input).write(to: artifacts.appendingPathComponent("\(name).input")) }
            let began = DispatchTime.now().uptimeNanoseconds
            do {
                try target(Data(input))
                summary.accepted += 1
            } catch {
                summary.rejected += 1
                let message = String(describing: error)
                if message.isEmpty || message.hasPrefix("Swift.") || message.contains("(description: ")
                    || message.hasPrefix("\(type(of: error))(")
                {
                    Issue.record("\(name): input \(index) was rejected without a clear message: \(message)")
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
            summary.slowestSeconds = max(summary.slowestSeconds, seconds)
            if seconds > Self.timeLimit {
                Issue.record(
                    "\(name): input \(index) took \(seconds) s (limit \(Self.timeLimit) s): \(Data(input.prefix(64)).base64EncodedString())"
                )
            }
            summary.inputs += 1
        }
        summary.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        FileHandle.standardError.write(Data((summary.description + "\n").utf8))  // unbuffered: a later crash cannot lose it
        return summary
    }
}

import Foundation
import Linalg
import TestSupport
import Testing

@testable import Environments

/// Gauntlet's MinAtar games against the `minatar` package (Tests/Fixtures/make_minatar_fixtures.py):
/// from the same seeds and actions, every observation, reward and termination is the package's,
/// over several episodes in a row (the random stream running on) and over 5000 frames of
/// difficulty ramping.
@Suite struct MinAtarTests {
    struct Trajectory: Decodable {
        var id: String
        var seed: UInt64
        var steps: Int
        var actions: String
        var rewards: [String: Double]
        var terminated: [Int]
        var observations: [String]?
        var checksums: [UInt32]?
    }

    static let fixtures: [String: [Trajectory]] = {
        try! JSONDecoder().decode([String: [Trajectory]].self, from: Data(contentsOf: fixtureURL("minatar_trajectories.json")))
    }()

    /// An observation (channels × 10 × 10) as the package's array (10 × 10 × channels, C order)
    /// packed into bits, most significant first (numpy.packbits).
    static func packed(_ observation: [Float], channels: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: (100 * channels + 7) / 8)
        for row in 0..<10 {
            for column in 0..<10 {
                for channel in 0..<channels where observation[(channel * 10 + row) * 10 + column] == 1 {
                    let bit = (row * 10 + column) * channels + channel
                    bytes[bit / 8] |= 0x80 >> UInt8(bit % 8)
                }
            }
        }
        return bytes
    }

    /// zlib's CRC-32 (reflected polynomial 0xEDB88320).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    @Test(arguments: ["Asterix", "Breakout", "Freeway", "Seaquest", "SpaceInvaders"])
    func matchesTheMinAtarPackage(game: String) throws {
        for trajectory in Self.fixtures[game]! {
            let env = try Registry.make(trajectory.id)
            let channels = env.base.observationSpace.dimension / 100
            var grids: [[UInt8]] = [Self.packed(env.reset(seed: trajectory.seed), channels: channels)]
            var rewards: [String: Double] = [:]
            var terminated: [Int] = []
            for (step, digit) in trajectory.actions.enumerated() {
                let result = env.step(.discrete(digit.wholeNumberValue!))
                if result.reward != 0 { rewards["\(step)"] = result.reward }
                grids.append(Self.packed(result.observation, channels: channels))
                #expect(!result.truncated)
                if result.terminated {
                    terminated.append(step)
                    grids.append(Self.packed(env.reset(seed: nil), channels: channels))
                }
            }
            let what = "\(trajectory.id) seed \(trajectory.seed)"
            #expect(rewards == trajectory.rewards, "\(what)")
            #expect(terminated == trajectory.terminated, "\(what)")
            if let observations = trajectory.observations {
                let expected = observations.map { [UInt8](Data(base64Encoded: $0)!) }
                #expect(grids.count == expected.count, "\(what)")
                let first = zip(grids, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                #expect(first == nil, "\(what): the first different observation is number \(first ?? -1)")
            } else {
                let checksums = grids.map(Self.crc32)
                let first = zip(checksums, trajectory.checksums!).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                #expect(checksums.count == trajectory.checksums!.count && first == nil, "\(what): observation \(first ?? -1)")
            }
        }
    }

    /// NumPy's legacy generator from its documented outputs: `RandomState(0)`'s first raw words
    /// are MT19937's reference outputs for `init_genrand(0)`, its first `random_sample()` is
    /// 0.5488135039273248 and `randint(10)` draws `mask = 15` rejections.
    @Test func numPyGenerator() {
        #expect(RandomStream.numPy(seed: 5489).next32() == 3_499_211_612)  // MT19937's reference first output
        #expect(RandomStream.numPy(seed: 0).numPyUniform() == 0.5488135039273248)
        let integers = RandomStream.numPy(seed: 0)
        #expect((0..<5).map { _ in integers.numPyInteger(0, 10) } == [5, 0, 3, 3, 7])
    }

    /// The snapshot holds everything: a game restored from another's mid-episode snapshot plays
    /// on identically — through episode ends, whose unseeded resets continue the restored
    /// random stream — and differs once the stream is not restored.
    @Test func statesAndSnapshotsRestoreTheGame() throws {
        for id in [
            "MinAtar/Asterix-v1", "MinAtar/Breakout-v1", "MinAtar/Freeway-v0", "MinAtar/Seaquest-v1", "MinAtar/SpaceInvaders-v1",
        ] {
            let a = try Registry.make(id)
            let b = try Registry.make(id)
            let c = try Registry.make(id)
            a.reset(seed: 3)
            c.reset(seed: 99)
            for k in 0..<150 where a.step(.discrete(k % 3)).terminated { a.reset(seed: nil) }
            try b.base.restore(a.base.snapshot)
            try c.base.setState(a.base.state)  // the game, not the random stream
            var (same, differentWithoutStream) = (true, false)
            for k in 0..<300 {
                let (x, y, z) = (a.step(.discrete(k % 3)), b.step(.discrete(k % 3)), c.step(.discrete(k % 3)))
                same = same && x == y
                differentWithoutStream = differentWithoutStream || x != z
                if x.terminated { _ = (a.reset(seed: nil), b.reset(seed: nil)) }
                if z.terminated { c.reset(seed: nil) }
            }
            #expect(same, "\(id): the restored game went its own way")
            #expect(differentWithoutStream, "\(id): 300 steps never used the random stream")
            #expect(throws: EnvironmentError.self) {
                try a.base.setState([Double](repeating: 0.5, count: a.base.stateLabels.count))
            }
        }
    }

    /// What `randomActionWeights` rests on: in every game the actions outside its minimal set do
    /// what no-op does — with all six actions, a game played with them and one played with no-op
    /// in their place see the same frames, rewards and ends — so a random action of the six falls
    /// on the minimal set with these weights.
    @Test(arguments: ["Asterix", "Breakout", "Freeway", "Seaquest", "SpaceInvaders"])
    func actionsOutsideTheMinimalSetActAsNoOp(game: String) throws {
        let minimal: [String: [MinAtarAction]] = [
            "Asterix": [.noop, .left, .up, .right, .down], "Breakout": [.noop, .left, .right],
            "Freeway": [.noop, .up, .down], "Seaquest": MinAtarAction.allCases,
            "SpaceInvaders": [.noop, .left, .right, .fire],
        ]
        let (all, folded) = (try Registry.make("MinAtar/\(game)-v0"), try Registry.make("MinAtar/\(game)-v0"))
        _ = (all.reset(seed: 11), folded.reset(seed: 11))
        let random = RandomStream(seed: 7)
        var (same, episodes) = (true, 0)
        for _ in 0..<3000 {
            let action = MinAtarAction(rawValue: random.integer(below: 6))!
            let substitute = minimal[game]!.contains(action) ? action : .noop
            let (x, y) = (all.step(.discrete(action.rawValue)), folded.step(.discrete(substitute.rawValue)))
            same = same && x == y
            if x.terminated || x.truncated {
                episodes += 1
                _ = (all.reset(seed: nil), folded.reset(seed: nil))
            }
        }
        #expect(same, "\(game): an action outside the minimal set did something")
        #expect(episodes > 0)
        let six = Double(MinAtarAction.allCases.count)
        let expected = minimal[game]!.map { action in
            Double(MinAtarAction.allCases.filter { ($0 == action) || (action == .noop && !minimal[game]!.contains($0)) }.count)
                / six
        }
        #expect(try Registry.make("MinAtar/\(game)-v1").base.randomActionWeights == expected)
        #expect(try Registry.make("MinAtar/\(game)-v1").base.actionSpace == .discrete(minimal[game]!.count))
    }
}

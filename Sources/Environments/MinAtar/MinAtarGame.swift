import Linalg

/// One of MinAtar's games (Young & Tian 2019, the `minatar` package): a 10×10 grid of `n`
/// binary channels, six actions, its own random draws. `MinAtar` wraps a game with sticky
/// actions and its action set; each game is one file, ported from the package's.
public protocol MinAtarGame: Sendable {
    /// The name in the game's Gymnasium ids (`Breakout` → `MinAtar/Breakout-v1`).
    static var name: String { get }
    /// The grid's channels, in MinAtar's order.
    static var channels: [String] { get }
    /// MinAtar's minimal action set: the actions that do something in this game.
    static var minimalActions: [MinAtarAction] { get }
    /// Labels of `values`.
    static var valueLabels: [String] { get }
    /// The game in a start state (drawing what MinAtar's `reset` draws).
    init(random: RandomStream)
    /// One frame: the reward and whether the game is over. After the end, nothing moves.
    mutating func act(_ action: MinAtarAction, random: RandomStream) -> (reward: Double, terminal: Bool)
    /// Sets the cells of the game's objects in `grid` (cleared beforehand).
    func draw(_ grid: inout MinAtarGrid)
    /// Everything that decides what the game does next, as numbers.
    var values: [Double] { get }
    /// The game in the state `values` describe; fails for values no game reaches (wrong count,
    /// positions off the grid).
    init(values: [Double]) throws(EnvironmentError)
}

/// MinAtar's actions, in its numbering (`action_map = ['n','l','u','r','d','f']`).
public enum MinAtarAction: Int, Sendable, CaseIterable {
    case noop, left, up, right, down, fire
}

/// A 10×10 grid of binary channels, stored channel by channel, row by row (channels × 10 × 10):
/// the layout PyTorch's convolutions take, which MinAtar's own DQN makes by permuting the
/// package's rows × columns × channels array.
public struct MinAtarGrid: Equatable, Sendable {
    public let channels: Int
    public private(set) var cells: [Bool]

    public init(channels: Int) {
        self.channels = channels
        cells = [Bool](repeating: false, count: channels * 100)
    }

    public subscript(channel: Int, row: Int, column: Int) -> Bool {
        get { cells[(channel * 10 + row) * 10 + column] }
        set { cells[(channel * 10 + row) * 10 + column] = newValue }
    }

    mutating func clear() { cells.withUnsafeMutableBufferPointer { $0.update(repeating: false) } }
}

/// Reads a game's `values` back, checking each against its range.
struct MinAtarValueReader {
    let game: String
    let values: [Double]
    var position = 0

    init(_ values: [Double], game: String, count: Int) throws(EnvironmentError) {
        guard values.count == count else { throw EnvironmentError("\(game): a state has \(count) values, got \(values.count)") }
        self.values = values
        self.game = game
    }

    /// The next value as an integer in `range`.
    mutating func integer(_ range: ClosedRange<Int>) throws(EnvironmentError) -> Int {
        let value = values[position]
        guard value.isFinite, value == value.rounded(), range.contains(Int(value)) else {
            throw EnvironmentError("\(game): state value \(position) is \(value), expected an integer in \(range)")
        }
        position += 1
        return Int(value)
    }

    mutating func flag() throws(EnvironmentError) -> Bool { try integer(0...1) == 1 }
}

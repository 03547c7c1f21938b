import Linalg

/// A MinAtar game as its `minatar` package's Gymnasium environment plays it
/// (`MinAtar/<Game>-v1`: the minimal action set; `-v0`: all six actions): sticky actions — with
/// probability 0.1 a step repeats the previous step's action instead — and difficulty ramping,
/// MinAtar's defaults. No time limit (the package registers none).
///
/// | | |
/// |---|---|
/// | observation | the 10×10 grid's `n` binary channels as 0/1 floats, channel by channel (`n × 10 × 10`, as convolutions take it; the package's array is `10 × 10 × n`) |
/// | actions | `Discrete(k)`: the game's minimal action set (v1) or MinAtar's six (v0) |
/// | state | the game's variables and the last action (`stateLabels`) |
/// | random stream | NumPy's `RandomState(seed)` (`RandomStream.numPy`, the seed's low 32 bits), shared by sticky actions and the game as in the package, so the same seed and actions give the package's trajectory exactly |
///
/// A seeded reset also forgets the last action (the package keeps it across resets; a freshly
/// made environment starts from no-op), so an episode depends on its seed alone.
public final class MinAtar<Game: MinAtarGame>: Environment {
    public let id: String
    /// The actions the environment's action indices stand for.
    public let actions: [MinAtarAction]
    /// MinAtar's default.
    public static var stickyActionProbability: Double { 0.1 }
    public let observationSpace: BoxSpace
    public var random = RandomStream.numPy(seed: 0)
    private(set) var game: Game
    private var lastAction = MinAtarAction.noop
    private var grid = MinAtarGrid(channels: Game.channels.count)

    /// The game with its minimal action set (`-v1`) or all six actions (`-v0`).
    public init(minimalActionSet: Bool = true) {
        id = "MinAtar/\(Game.name)-\(minimalActionSet ? "v1" : "v0")"
        actions = minimalActionSet ? Game.minimalActions : MinAtarAction.allCases
        observationSpace = BoxSpace(
            low: [Float](repeating: 0, count: Game.channels.count * 100),
            high: [Float](repeating: 1, count: Game.channels.count * 100))
        game = Game(random: random)
    }

    public var actionSpace: ActionSpace { .discrete(actions.count) }

    /// MinAtar's six actions, uniformly, folded onto `actions`: in every game the actions outside
    /// its minimal set do what no-op does, so no-op carries their share (Breakout's minimal set
    /// no-op, left, right: 4/6, 1/6, 1/6). The MinAtar paper's DQN explored over all six.
    public var randomActionWeights: [Double]? {
        let all = Double(MinAtarAction.allCases.count)
        return actions.map { $0 == .noop ? (all - Double(actions.count) + 1) / all : 1 / all }
    }

    public var stateLabels: [String] { Game.valueLabels + ["last_action"] }
    public var state: [Double] { game.values + [Double(lastAction.rawValue)] }

    public func setState(_ state: [Double]) throws(EnvironmentError) {
        try validateState(state)
        guard let last = state.last, let action = MinAtarAction(rawValue: Int(last)), Double(action.rawValue) == last else {
            throw EnvironmentError("\(id): the last state value is the last action, 0…5")
        }
        game = try Game(values: Array(state.dropLast()))
        lastAction = action
    }

    public var snapshot: EnvironmentSnapshot { EnvironmentSnapshot(values: state, random: random.state) }

    public func restore(_ snapshot: EnvironmentSnapshot) throws(EnvironmentError) {
        try setState(snapshot.values)
        try restoreRandom(snapshot.random)
    }

    public func resetState(seed: UInt64?) {
        if let seed {
            random = .numPy(seed: UInt32(truncatingIfNeeded: seed))
            lastAction = .noop
        }
        game = Game(random: random)
    }

    public func advance(_ action: Action) -> (reward: Double, terminated: Bool) {
        guard case .discrete(let index) = action, actions.indices.contains(index) else {
            preconditionFailure("\(id): invalid action \(action)")
        }
        // The package draws for stickiness on every step, the game's own draws follow.
        let chosen = random.numPyUniform() < Self.stickyActionProbability ? lastAction : actions[index]
        lastAction = chosen
        let (reward, terminal) = game.act(chosen, random: random)
        return (reward, terminal)
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        grid.clear()
        game.draw(&grid)
        for (k, cell) in grid.cells.enumerated() { observation[k] = cell ? 1 : 0 }
    }

    /// The grid, each cell in the colour of the highest channel set there (as MinAtar's own
    /// display), channel names in a legend.
    public func renderSVG() -> String {
        grid.clear()
        game.draw(&grid)
        let size = 24.0
        let colours = [
            "#0072B2", "#E69F00", "#999999", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000", "#882255",
        ]
        let channels = Game.channels.count
        return SVG.document(width: Int(size * 10), height: Int(size * 10) + 18 * ((channels + 2) / 3)) {
            for row in 0..<10 {
                for column in 0..<10 {
                    let top = (0..<channels).last { grid[$0, row, column] }
                    SVG.rect(
                        x: Double(column) * size, y: Double(row) * size, width: size, height: size,
                        fill: top.map { colours[$0 % colours.count] } ?? "#fff", stroke: "#ddd")
                }
            }
            for (k, name) in Game.channels.enumerated() {
                let x = Double(k % 3) * 80 + 4
                let y = size * 10 + 14 + Double(k / 3) * 18
                SVG.rect(x: x, y: y - 10, width: 10, height: 10, fill: colours[k % colours.count])
                SVG.text(x: x + 14, y: y, name, size: 11)
            }
        }
    }
}

extension MinAtar: ImageObservations {
    /// The grid, channel by channel.
    public var imageShape: ImageShape? { ImageShape(channels: Game.channels.count, height: 10, width: 10, channelsLast: false) }
}

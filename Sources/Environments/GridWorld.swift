import Foundation
import Linalg

/// A gridworld from a text map (`GridMap`, files in `envs/`): the agent moves up, down, left or
/// right; walls block; wind cells push; goals and lava end the episode. Small enough that the
/// full tabular model is available (`model`), so dynamic programming gives exact optimal values
/// and, later, the exact optimal observation adversary.
///
/// ## Action Space
/// `Discrete(4)`: 0 up, 1 down, 2 left, 3 right. With probability `slip` the move goes to one
/// of the two perpendicular directions instead (each with `slip / 2`).
///
/// ## Observation Space
/// Chosen at creation (`ObservationMode`), all within [0, 1]:
/// - `coordinates`: (row / (rows − 1), column / (columns − 1)) of the agent;
/// - `oneHot`: one entry per non-wall cell, 1 at the agent's;
/// - `localView(k)`: the k × k cells centred on the agent, row-major, each a cell-type code / 5
///   (floor 0, wall 1, goal 2, small goal 3, lava 4, wind 5; outside the map counts as wall).
///
/// ## Rewards
/// `goal_reward` on entering `G`, `small_goal_reward` on `g`, `lava_reward` on `L`, otherwise
/// `step_reward` (map header).
///
/// ## Starting State
/// The cell `S`.
///
/// ## Episode End
/// Termination: entering `G`, `g` or `L`. Truncation: the map's `step_limit`.
public final class GridWorld: Environment {
    public enum ObservationMode: Equatable, Hashable, Sendable {
        case coordinates
        case oneHot
        case localView(size: Int)

        /// `coordinates`, `onehot`, or `localK` (odd K ≥ 3, e.g. `local5`).
        public init?(name: String) {
            switch name {
            case "coordinates", "coords": self = .coordinates
            case "onehot", "one-hot": self = .oneHot
            default:
                guard name.hasPrefix("local"), let k = Int(name.dropFirst(5)), k >= 1, k % 2 == 1, k <= 31 else { return nil }
                self = .localView(size: k)
            }
        }

        public var name: String {
            switch self {
            case .coordinates: "coordinates"
            case .oneHot: "onehot"
            case .localView(let k): "local\(k)"
            }
        }
    }

    /// Moves of actions 0…3 as (row, column) offsets.
    static let moves = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    /// The two perpendicular actions a slip may take instead.
    static let perpendicular = [[2, 3], [2, 3], [0, 1], [0, 1]]

    public let map: GridMap
    public let observationMode: ObservationMode
    public var id: String { "grid:\(map.name)" + (observationMode == .coordinates ? "" : ":\(observationMode.name)") }
    /// Non-wall cells in row-major order; a tabular state is an index into this list.
    public let cells: [(row: Int, column: Int)]
    private let stateIndex: [Int: Int]
    /// The full tabular model (states index `cells`).
    public let model: TabularModel

    public private(set) var row: Int
    public private(set) var column: Int
    public var random = RandomStream(seed: 0)

    public init(map: GridMap, observation: ObservationMode = .coordinates) {
        self.map = map
        self.observationMode = observation
        var cells: [(Int, Int)] = []
        var index: [Int: Int] = [:]
        for r in 0..<map.rows {
            for c in 0..<map.columns where map.cells[r][c] != .wall {
                index[r * map.columns + c] = cells.count
                cells.append((r, c))
            }
        }
        self.cells = cells
        self.stateIndex = index
        self.model = Self.buildModel(map: map, cells: cells, index: index)
        (row, column) = (map.startRow, map.startColumn)
    }

    /// The tabular state (index into `cells`) of the agent.
    public var tabularState: Int { stateIndex[row * map.columns + column]! }

    /// The tabular state of a cell, or nil for walls.
    public func tabularState(row: Int, column: Int) -> Int? { stateIndex[row * map.columns + column] }

    public var observationSpace: BoxSpace {
        let n =
            switch observationMode {
            case .coordinates: 2
            case .oneHot: cells.count
            case .localView(let k): k * k
            }
        return BoxSpace(low: [Float](repeating: 0, count: n), high: [Float](repeating: 1, count: n))
    }
    public let actionSpace = ActionSpace.discrete(4)
    public let stateLabels = ["row", "column"]
    public var state: [Double] { [Double(row), Double(column)] }

    public func setState(_ state: [Double]) throws(EnvironmentError) {
        try validateState(state)
        guard let r = Int(exactly: state[0]), let c = Int(exactly: state[1]), tabularState(row: r, column: c) != nil,
            (0..<map.rows).contains(r), (0..<map.columns).contains(c)
        else { throw EnvironmentError("\(id): state \(state) is not a non-wall cell of the \(map.rows) × \(map.columns) map") }
        (row, column) = (r, c)
    }

    /// Moves the agent to tabular state `s`.
    public func setTabularState(_ s: Int) { (row, column) = cells[s] }

    public func resetState(seed: UInt64?) {
        if let seed { random = RandomStream(seed: seed) }
        (row, column) = (map.startRow, map.startColumn)
    }

    public func advance(_ action: Action) -> (reward: Double, terminated: Bool) {
        guard case .discrete(let a) = action, (0..<4).contains(a) else {
            preconditionFailure("GridWorld: invalid action \(action)")
        }
        let outcomes = model.outcomes[tabularState][a]
        // Stepping on after termination (undefined in Gymnasium) stays put and earns nothing.
        guard !outcomes.isEmpty else { return (0, true) }
        var chosen = outcomes[0]
        if outcomes.count > 1 {
            let u = random.uniform()
            var cumulative = 0.0
            for outcome in outcomes {
                cumulative += outcome.probability
                chosen = outcome
                if u < cumulative { break }
            }
        }
        setTabularState(chosen.nextState)
        return (chosen.reward, chosen.terminated)
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        switch observationMode {
        case .coordinates:
            observation[0] = map.rows > 1 ? Float(row) / Float(map.rows - 1) : 0
            observation[1] = map.columns > 1 ? Float(column) / Float(map.columns - 1) : 0
        case .oneHot:
            for i in 0..<observation.count { observation[i] = 0 }
            observation[tabularState] = 1
        case .localView(let k):
            let half = k / 2
            for dr in 0..<k {
                for dc in 0..<k {
                    observation[dr * k + dc] = map.cell(row + dr - half, column + dc - half).code / 5
                }
            }
        }
    }

    // MARK: - Model

    /// Where a move from a cell ends: blocked by walls, then pushed by the wind of the cell it
    /// started from (also blocked by walls).
    static func destination(map: GridMap, from cell: (Int, Int), move: (Int, Int)) -> (Int, Int) {
        var target = (cell.0 + move.0, cell.1 + move.1)
        if map.cell(target.0, target.1) == .wall { target = cell }
        if let wind = map.cell(cell.0, cell.1).wind {
            let pushed = (target.0 + wind.0, target.1 + wind.1)
            if map.cell(pushed.0, pushed.1) != .wall { target = pushed }
        }
        return target
    }

    static func buildModel(map: GridMap, cells: [(Int, Int)], index: [Int: Int]) -> TabularModel {
        var outcomes: [[[TabularModel.Outcome]]] = []
        var isTerminal: [Bool] = []
        for cell in cells {
            let terminal = map.cell(cell.0, cell.1).isTerminal
            isTerminal.append(terminal)
            guard !terminal else {
                outcomes.append(Array(repeating: [], count: 4))
                continue
            }
            outcomes.append(
                (0..<4).map { action in
                    var byState: [Int: Double] = [:]
                    var order: [Int] = []
                    let choices = [(action, 1 - map.slip)] + perpendicular[action].map { ($0, map.slip / 2) }
                    for (direction, probability) in choices where probability > 0 {
                        let target = destination(map: map, from: cell, move: moves[direction])
                        let next = index[target.0 * map.columns + target.1]!
                        if byState[next] == nil { order.append(next) }
                        byState[next, default: 0] += probability
                    }
                    return order.map { next in
                        let (r, c) = cells[next]
                        let entered = map.cell(r, c)
                        let reward =
                            switch entered {
                            case .goal: map.goalReward
                            case .smallGoal: map.smallGoalReward
                            case .lava: map.lavaReward
                            default: map.stepReward
                            }
                        return TabularModel.Outcome(
                            probability: byState[next]!, nextState: next, reward: reward, terminated: entered.isTerminal)
                    }
                })
        }
        return TabularModel(stateCount: cells.count, actionCount: 4, outcomes: outcomes, isTerminal: isTerminal)
    }

    // MARK: - Rendering

    /// The map with the agent drawn as `A`.
    public func renderASCII() -> String {
        var lines = map.cells.map { $0.map(\.rawValue) }
        lines[row][column] = "A"
        return lines.map { String($0) }.joined(separator: "\n")
    }

    public func renderSVG() -> String {
        let size = 24.0
        let colours: [GridMap.Cell: String] = [
            .wall: "#444", .floor: "#fff", .start: "#dde", .goal: "#2a2", .smallGoal: "#9d9", .lava: "#e52",
            .windUp: "#cdf", .windDown: "#cdf", .windLeft: "#cdf", .windRight: "#cdf",
        ]
        return SVG.document(width: Int(size) * map.columns, height: Int(size) * map.rows) {
            for r in 0..<map.rows {
                for c in 0..<map.columns {
                    SVG.rect(
                        x: Double(c) * size, y: Double(r) * size, width: size, height: size,
                        fill: colours[map.cells[r][c]]!, stroke: "#bbb")
                }
            }
            SVG.circle(cx: (Double(column) + 0.5) * size, cy: (Double(row) + 0.5) * size, r: size / 3, fill: "#36c")
        }
    }
}

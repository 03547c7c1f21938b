import Foundation

/// A gridworld map parsed from its text file: a header of `key: value` lines, a line `---`,
/// then the grid, one character a cell.
///
///     # comment lines start with '#' in the header
///     name: four-rooms
///     step_limit: 100        # optional, default 100
///     step_reward: -0.01     # reward of an ordinary step, default 0
///     goal_reward: 1         # entering G, default 1
///     small_goal_reward: 0.3 # entering g, default 0.3
///     lava_reward: -1        # entering L, default -1
///     slip: 0.1              # probability the move goes to a perpendicular direction, default 0
///     ---
///     #######
///     #S..#G#
///     #######
///
/// Cells: `#` wall, `.` floor, `S` start (exactly one), `G` goal and `g` smaller goal (terminal),
/// `L` lava (terminal), `^ v < >` wind (floor that pushes the agent one more cell that way after
/// its move). At least one of `G`/`g` is required. The grid is closed: moves into a wall or off
/// the map leave the agent in place.
public struct GridMap: Equatable, Sendable {
    public enum Cell: Character, Equatable, Sendable, CaseIterable {
        case wall = "#"
        case floor = "."
        case start = "S"
        case goal = "G"
        case smallGoal = "g"
        case lava = "L"
        case windUp = "^"
        case windDown = "v"
        case windLeft = "<"
        case windRight = ">"

        /// Whether entering the cell ends the episode.
        public var isTerminal: Bool { self == .goal || self == .smallGoal || self == .lava }

        /// The push of a wind cell as (row, column) offsets.
        var wind: (Int, Int)? {
            switch self {
            case .windUp: (-1, 0)
            case .windDown: (1, 0)
            case .windLeft: (0, -1)
            case .windRight: (0, 1)
            default: nil
            }
        }

        /// A number per cell type for egocentric views: floor-like 0, wall 1, goal 2, small goal 3,
        /// lava 4, wind 5 (then divided by 5 so views lie in [0, 1]).
        var code: Float {
            switch self {
            case .floor, .start: 0
            case .wall: 1
            case .goal: 2
            case .smallGoal: 3
            case .lava: 4
            case .windUp, .windDown, .windLeft, .windRight: 5
            }
        }
    }

    public var name: String
    public var stepLimit: Int
    public var stepReward: Double
    public var goalReward: Double
    public var smallGoalReward: Double
    public var lavaReward: Double
    public var slip: Double
    /// Cells row by row; `cells[r][c]`.
    public var cells: [[Cell]]
    /// Row and column of the start cell `S`.
    public var startRow: Int
    public var startColumn: Int

    public var rows: Int { cells.count }
    public var columns: Int { cells[0].count }

    /// Largest map accepted, in cells.
    public static let maximumCells = 1_000_000

    /// Reads and parses a map file.
    public static func load(contentsOf url: URL) throws(EnvironmentError) -> GridMap {
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        if let size = attributes?[.size] as? Int, size > 4 * maximumCells {
            throw EnvironmentError(
                "\(url.path): map file of \(size) bytes is larger than any map of at most \(maximumCells) cells")
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw EnvironmentError("\(url.path): cannot read the map file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EnvironmentError("\(url.path): the map file is not UTF-8 text")
        }
        return try GridMap(parsing: text, file: url.path)
    }

    /// Parses map text; errors name `file`, the line and the column.
    public init(parsing text: String, file: String = "<map>") throws(EnvironmentError) {
        func fail(_ line: Int, _ column: Int, _ message: String) -> EnvironmentError {
            EnvironmentError("\(file):\(line):\(column): \(message)")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        guard let separator = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "---" }) else {
            throw fail(1, 1, "missing the line '---' that separates the header from the grid")
        }
        var values: [String: (value: Substring, line: Int, column: Int)] = [:]
        let known = ["name", "step_limit", "step_reward", "goal_reward", "small_goal_reward", "lava_reward", "slip"]
        for (index, line) in lines[..<separator].enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            if content.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard let colon = content.firstIndex(of: ":") else {
                throw fail(index + 1, 1, "expected 'key: value' in the header")
            }
            let key = content[..<colon].trimmingCharacters(in: .whitespaces)
            guard known.contains(key) else {
                throw fail(index + 1, 1, "unknown header key '\(key)' (expected one of \(known.joined(separator: ", ")))")
            }
            guard values[key] == nil else { throw fail(index + 1, 1, "header key '\(key)' given twice") }
            let afterColon = content[content.index(after: colon)...]
            let leading = afterColon.prefix { $0 == " " || $0 == "\t" }.count
            let column = content.distance(from: content.startIndex, to: colon) + 2 + leading
            values[key] = (Substring(afterColon.trimmingCharacters(in: .whitespaces)), index + 1, column)
        }
        func number(_ key: String, default fallback: Double) throws(EnvironmentError) -> Double {
            guard let entry = values[key] else { return fallback }
            guard let value = Double(entry.value), value.isFinite else {
                throw fail(entry.line, entry.column, "'\(key)' must be a finite number, got '\(entry.value)'")
            }
            return value
        }
        name =
            values["name"].map { String($0.value) }
            ?? (file as NSString).lastPathComponent.replacingOccurrences(of: ".txt", with: "")
        stepReward = try number("step_reward", default: 0)
        goalReward = try number("goal_reward", default: 1)
        smallGoalReward = try number("small_goal_reward", default: 0.3)
        lavaReward = try number("lava_reward", default: -1)
        slip = try number("slip", default: 0)
        if let entry = values["slip"], !(0...1).contains(slip) {
            throw fail(entry.line, entry.column, "'slip' must lie in [0, 1], got \(slip)")
        }
        if let entry = values["step_limit"] {
            guard let limit = Int(entry.value), limit > 0, limit <= 1_000_000 else {
                throw fail(entry.line, entry.column, "'step_limit' must be an integer in 1...1000000, got '\(entry.value)'")
            }
            stepLimit = limit
        } else {
            stepLimit = 100
        }

        var gridLines = Array(lines[(separator + 1)...].enumerated())
        while let last = gridLines.last, last.element.trimmingCharacters(in: .whitespaces).isEmpty { gridLines.removeLast() }
        guard let first = gridLines.first else { throw fail(separator + 2, 1, "the grid is empty") }
        let width = first.element.count
        guard width > 0 else { throw fail(separator + 2, 1, "the grid's first row is empty") }
        guard gridLines.count * width <= Self.maximumCells else {
            throw fail(separator + 2, 1, "a \(gridLines.count) × \(width) grid exceeds the limit of \(Self.maximumCells) cells")
        }
        var cells: [[Cell]] = []
        var start: (Int, Int)? = nil
        var goals = 0
        for (offset, line) in gridLines {
            let lineNumber = separator + 2 + offset
            var row: [Cell] = []
            for (column, character) in line.enumerated() {
                guard let cell = Cell(rawValue: character) else {
                    throw fail(
                        lineNumber, column + 1,
                        "unknown cell '\(character)' (expected one of \(Cell.allCases.map { String($0.rawValue) }.joined()))")
                }
                if cell == .start {
                    if start != nil { throw fail(lineNumber, column + 1, "a second start 'S' (there must be exactly one)") }
                    start = (cells.count, column)
                }
                if cell == .goal || cell == .smallGoal { goals += 1 }
                row.append(cell)
            }
            guard row.count == width else {
                throw fail(lineNumber, min(row.count, width) + 1, "row has \(row.count) cells but the first row has \(width)")
            }
            cells.append(row)
        }
        guard let start else { throw fail(separator + 2, 1, "the grid has no start 'S'") }
        guard goals > 0 else { throw fail(separator + 2, 1, "the grid has no goal 'G' or 'g'") }
        self.cells = cells
        (startRow, startColumn) = start
    }

    /// The cell at (row, column), walls outside the map.
    public func cell(_ row: Int, _ column: Int) -> Cell {
        guard (0..<rows).contains(row) && (0..<columns).contains(column) else { return .wall }
        return cells[row][column]
    }

    /// The map as text (the grid only).
    public var gridText: String { cells.map { String($0.map(\.rawValue)) }.joined(separator: "\n") }
}

import Linalg

/// MinAtar's Breakout: a paddle on the bottom row bounces a ball that breaks three rows of
/// bricks at the top, +1 a brick; cleared rows come back; the game ends when the ball passes the
/// paddle. The ball moves one cell diagonally a frame; the trail channel shows where it was.
///
/// | | |
/// |---|---|
/// | channels | paddle, ball, trail, brick |
/// | actions | minimal: no-op, left, right |
/// | start | ball at row 3, column 0 heading down-right or column 9 heading down-left (one draw) |
/// | reward | +1 per brick |
///
/// Each frame: the paddle moves; the ball steps to `(x ± 1, y ± 1)`. Off a side wall it stays at
/// the wall and its horizontal direction flips; off the top it stays on row 0 and its vertical
/// direction flips; into a brick (unless it struck one the frame before) it breaks it, stays on
/// its row and flips vertically; onto the bottom row it bounces straight back off the paddle
/// below it, diagonally off the paddle where it lands, else the game ends — and if no bricks
/// are left, three new rows appear first.
public struct Breakout: MinAtarGame {
    public static let name = "Breakout"
    public static let channels = ["paddle", "ball", "trail", "brick"]
    public static let minimalActions: [MinAtarAction] = [.noop, .left, .right]
    public static let valueLabels =
        ["ball_x", "ball_y", "ball_dir", "pos", "last_x", "last_y", "strike", "terminal"]
        + (0..<100).map { "brick[\($0 / 10),\($0 % 10)]" }

    var ballX = 0, ballY = 3
    /// 0: up-left, 1: up-right, 2: down-right, 3: down-left.
    var ballDirection = 2
    var paddle = 4
    var lastX = 0, lastY = 3
    var strike = false
    var terminal = false
    /// Row-major bricks.
    var bricks = [Bool](repeating: false, count: 100)

    public init(random: RandomStream) {
        (ballX, ballDirection) = random.numPyInteger(0, 2) == 0 ? (0, 2) : (9, 3)
        for cell in 10..<40 { bricks[cell] = true }
        (lastX, lastY) = (ballX, ballY)
    }

    public mutating func act(_ action: MinAtarAction, random: RandomStream) -> (reward: Double, terminal: Bool) {
        guard !terminal else { return (0, true) }
        var reward = 0.0
        if action == .left { paddle = max(0, paddle - 1) }
        if action == .right { paddle = min(9, paddle + 1) }
        (lastX, lastY) = (ballX, ballY)
        var newX = ballX + (ballDirection == 1 || ballDirection == 2 ? 1 : -1)
        var newY = ballY + (ballDirection < 2 ? -1 : 1)
        var struck = false
        if newX < 0 || newX > 9 {
            newX = min(max(newX, 0), 9)
            ballDirection = [1, 0, 3, 2][ballDirection]
        }
        if newY < 0 {
            newY = 0
            ballDirection = [3, 2, 1, 0][ballDirection]
        } else if bricks[newY * 10 + newX] {
            struck = true
            if !strike {
                reward += 1
                strike = true
                bricks[newY * 10 + newX] = false
                newY = lastY
                ballDirection = [3, 2, 1, 0][ballDirection]
            }
        } else if newY == 9 {
            if !bricks.contains(true) {
                for cell in 10..<40 { bricks[cell] = true }
            }
            if ballX == paddle {
                ballDirection = [3, 2, 1, 0][ballDirection]
                newY = lastY
            } else if newX == paddle {
                ballDirection = [2, 3, 0, 1][ballDirection]
                newY = lastY
            } else {
                terminal = true
            }
        }
        if !struck { strike = false }
        (ballX, ballY) = (newX, newY)
        return (reward, terminal)
    }

    public func draw(_ grid: inout MinAtarGrid) {
        grid[1, ballY, ballX] = true
        grid[0, 9, paddle] = true
        grid[2, lastY, lastX] = true
        for cell in 0..<100 where bricks[cell] { grid[3, cell / 10, cell % 10] = true }
    }

    public var values: [Double] {
        [ballX, ballY, ballDirection, paddle, lastX, lastY, strike ? 1 : 0, terminal ? 1 : 0].map(Double.init)
            + bricks.map { $0 ? 1 : 0 }
    }

    public init(values: [Double]) throws(EnvironmentError) {
        var reader = try MinAtarValueReader(values, game: Self.name, count: Self.valueLabels.count)
        (ballX, ballY, ballDirection, paddle) = (
            try reader.integer(0...9), try reader.integer(0...9), try reader.integer(0...3), try reader.integer(0...9)
        )
        (lastX, lastY, strike, terminal) = (
            try reader.integer(0...9), try reader.integer(0...9), try reader.flag(), try reader.flag()
        )
        for cell in 0..<100 { bricks[cell] = try reader.flag() }
    }
}

import Linalg

/// MinAtar's Freeway: a chicken crosses eight lanes of traffic from the bottom row to the top,
/// +1 a crossing; a car that hits it sends it back to the bottom; the game ends after 2500
/// frames. The chicken moves at most once every 3 frames; each car moves one cell every 1–5
/// frames (its speed, shown by which of the five trail channels marks the cell behind it) and
/// wraps around the road's edges.
///
/// | | |
/// |---|---|
/// | channels | chicken, car, speed1 … speed5 |
/// | actions | minimal: no-op, up, down |
/// | start | chicken at row 9, column 4; cars at column 0 of rows 1–8, speeds 1–5 and directions drawn |
/// | reward | +1 per crossing (new speeds and directions are drawn then) |
public struct Freeway: MinAtarGame {
    public static let name = "Freeway"
    public static let channels = ["chicken", "car", "speed1", "speed2", "speed3", "speed4", "speed5"]
    public static let minimalActions: [MinAtarAction] = [.noop, .up, .down]
    public static let valueLabels =
        ["pos", "move_timer", "terminate_timer", "terminal"]
        + (0..<8).flatMap { ["car[\($0)].x", "car[\($0)].y", "car[\($0)].timer", "car[\($0)].speed"] }
    static let playerSpeed = 3
    static let timeLimit = 2500

    /// A car: column, row, frames until it moves, and a signed speed (frames per move; the sign
    /// is its direction).
    struct Car: Sendable {
        var x: Int, y: Int, timer: Int, speed: Int
    }

    var chicken = 9
    var moveTimer = Freeway.playerSpeed
    var terminateTimer = Freeway.timeLimit
    var terminal = false
    var cars: [Car] = []

    public init(random: RandomStream) {
        let speeds = Self.speeds(random)
        cars = (0..<8).map { Car(x: 0, y: $0 + 1, timer: abs(speeds[$0]), speed: speeds[$0]) }
    }

    /// Eight signed speeds: magnitudes drawn from 1…5, then directions from the signs of
    /// uniform draws minus ½ (NumPy's `randint(1, 6, 8)` then `sign(rand(8) − 0.5)`).
    static func speeds(_ random: RandomStream) -> [Int] {
        let magnitudes = (0..<8).map { _ in random.numPyInteger(1, 6) }
        let directions = (0..<8).map { _ -> Int in
            let u = random.numPyUniform() - 0.5
            return u > 0 ? 1 : u < 0 ? -1 : 0
        }
        return zip(magnitudes, directions).map { $0 * $1 }
    }

    public mutating func act(_ action: MinAtarAction, random: RandomStream) -> (reward: Double, terminal: Bool) {
        guard !terminal else { return (0, true) }
        var reward = 0.0
        if action == .up && moveTimer == 0 {
            moveTimer = Self.playerSpeed
            chicken = max(0, chicken - 1)
        } else if action == .down && moveTimer == 0 {
            moveTimer = Self.playerSpeed
            chicken = min(9, chicken + 1)
        }
        if chicken == 0 {
            reward += 1
            let speeds = Self.speeds(random)
            for i in 0..<8 { (cars[i].timer, cars[i].speed) = (abs(speeds[i]), speeds[i]) }
            chicken = 9
        }
        for i in cars.indices {
            if cars[i].x == 4 && cars[i].y == chicken { chicken = 9 }
            if cars[i].timer == 0 {
                cars[i].timer = abs(cars[i].speed)
                cars[i].x += cars[i].speed > 0 ? 1 : -1
                if cars[i].x < 0 { cars[i].x = 9 } else if cars[i].x > 9 { cars[i].x = 0 }
                if cars[i].x == 4 && cars[i].y == chicken { chicken = 9 }
            } else {
                cars[i].timer -= 1
            }
        }
        if moveTimer > 0 { moveTimer -= 1 }
        terminateTimer -= 1
        if terminateTimer < 0 { terminal = true }
        return (reward, terminal)
    }

    public func draw(_ grid: inout MinAtarGrid) {
        grid[0, chicken, 4] = true
        for car in cars {
            grid[1, car.y, car.x] = true
            var back = car.speed > 0 ? car.x - 1 : car.x + 1
            if back < 0 { back = 9 } else if back > 9 { back = 0 }
            // A speed of 0 (a direction draw of exactly ½) has no trail channel in MinAtar.
            if (1...5).contains(abs(car.speed)) { grid[1 + abs(car.speed), car.y, back] = true }
        }
    }

    public var values: [Double] {
        [chicken, moveTimer, terminateTimer, terminal ? 1 : 0].map(Double.init)
            + cars.flatMap { [$0.x, $0.y, $0.timer, $0.speed].map(Double.init) }
    }

    public init(values: [Double]) throws(EnvironmentError) {
        var reader = try MinAtarValueReader(values, game: Self.name, count: Self.valueLabels.count)
        chicken = try reader.integer(0...9)
        moveTimer = try reader.integer(0...Self.playerSpeed)
        terminateTimer = try reader.integer(-1...Self.timeLimit)
        terminal = try reader.flag()
        for _ in 0..<8 {
            cars.append(
                Car(
                    x: try reader.integer(0...9), y: try reader.integer(1...8), timer: try reader.integer(0...5),
                    speed: try reader.integer(-5...5)))
        }
    }
}

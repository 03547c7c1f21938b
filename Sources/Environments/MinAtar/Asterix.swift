import Linalg

/// MinAtar's Asterix: the player moves among eight rows where enemies and gold enter from the
/// sides and cross; touching gold gives +1 and removes it, touching an enemy ends the game.
/// With difficulty ramping (MinAtar's default) entities appear and move faster over time.
///
/// | | |
/// |---|---|
/// | channels | player, enemy, trail, gold |
/// | actions | minimal: no-op, left, up, right, down |
/// | start | player at (5, 5), no entities; the first appears after 10 frames |
/// | reward | +1 per gold |
///
/// Each frame: when the spawn timer is up, an entity enters a free row (one of the eight, drawn
/// uniformly) from the left or right (½ each), gold with probability ⅓; the player moves (rows
/// 1–8); entities on the player's cell are collected or end the game; every `move_speed` frames
/// entities move one cell and are checked again. Every 100 frames the spawn interval shortens
/// by one (from 10, down to 1) and every second time the move interval too (from 5, down to 1).
public struct Asterix: MinAtarGame {
    public static let name = "Asterix"
    public static let channels = ["player", "enemy", "trail", "gold"]
    public static let minimalActions: [MinAtarAction] = [.noop, .left, .up, .right, .down]
    public static let valueLabels =
        [
            "player_x", "player_y", "shot_timer", "spawn_speed", "spawn_timer", "move_speed", "move_timer", "ramp_timer",
            "ramp_index", "terminal",
        ] + (0..<8).flatMap { ["entity[\($0)].present", "entity[\($0)].x", "entity[\($0)].rightward", "entity[\($0)].gold"] }
    static let rampInterval = 100
    static let initialSpawnSpeed = 10
    static let initialMoveInterval = 5

    /// An entity: column, row (its slot + 1), direction, kind.
    struct Entity: Sendable {
        var x: Int, y: Int, rightward: Bool, gold: Bool
    }

    var playerX = 5, playerY = 5
    var entities = [Entity?](repeating: nil, count: 8)
    var shotTimer = 0
    var spawnSpeed = Asterix.initialSpawnSpeed, spawnTimer = Asterix.initialSpawnSpeed
    var moveSpeed = Asterix.initialMoveInterval, moveTimer = Asterix.initialMoveInterval
    var rampTimer = Asterix.rampInterval, rampIndex = 0
    var terminal = false
    /// MinAtar's default; its `difficulty_ramping=False` keeps the start speeds.
    var ramping = true

    public init(random: RandomStream) {}

    public mutating func act(_ action: MinAtarAction, random: RandomStream) -> (reward: Double, terminal: Bool) {
        guard !terminal else { return (0, true) }
        var reward = 0.0
        if spawnTimer == 0 {
            spawn(random)
            spawnTimer = spawnSpeed
        }
        switch action {
        case .left: playerX = max(0, playerX - 1)
        case .right: playerX = min(9, playerX + 1)
        case .up: playerY = max(1, playerY - 1)
        case .down: playerY = min(8, playerY + 1)
        case .noop, .fire: break
        }
        // Collect or collide, before and after the entities move.
        func meet(_ i: Int) {
            guard let entity = entities[i], entity.x == playerX, entity.y == playerY else { return }
            if entity.gold {
                entities[i] = nil
                reward += 1
            } else {
                terminal = true
            }
        }
        for i in 0..<8 { meet(i) }
        if moveTimer == 0 {
            moveTimer = moveSpeed
            for i in 0..<8 {
                guard var entity = entities[i] else { continue }
                entity.x += entity.rightward ? 1 : -1
                entities[i] = entity.x < 0 || entity.x > 9 ? nil : entity
                meet(i)
            }
        }
        spawnTimer -= 1
        moveTimer -= 1
        if ramping && (spawnSpeed > 1 || moveSpeed > 1) {
            if rampTimer >= 0 {
                rampTimer -= 1
            } else {
                if moveSpeed > 1 && rampIndex % 2 == 1 { moveSpeed -= 1 }
                if spawnSpeed > 1 { spawnSpeed -= 1 }
                rampIndex += 1
                rampTimer = Self.rampInterval
            }
        }
        return (reward, terminal)
    }

    /// A new entity in a free row (none if all eight are taken): direction and kind are drawn
    /// before the row, as MinAtar draws them.
    mutating func spawn(_ random: RandomStream) {
        let rightward = random.numPyUniform() < 1.0 / 2
        let gold = random.numPyUniform() < 1.0 / 3
        let free = entities.indices.filter { entities[$0] == nil }
        guard !free.isEmpty else { return }
        let slot = free[random.numPyInteger(0, free.count)]
        entities[slot] = Entity(x: rightward ? 0 : 9, y: slot + 1, rightward: rightward, gold: gold)
    }

    public func draw(_ grid: inout MinAtarGrid) {
        grid[0, playerY, playerX] = true
        for case let entity? in entities {
            grid[entity.gold ? 3 : 1, entity.y, entity.x] = true
            let back = entity.rightward ? entity.x - 1 : entity.x + 1
            if (0...9).contains(back) { grid[2, entity.y, back] = true }
        }
    }

    public var values: [Double] {
        [playerX, playerY, shotTimer, spawnSpeed, spawnTimer, moveSpeed, moveTimer, rampTimer, rampIndex, terminal ? 1 : 0]
            .map(Double.init)
            + entities.flatMap { entity in
                entity.map { [1, Double($0.x), $0.rightward ? 1 : 0, $0.gold ? 1 : 0] } ?? [0, 0, 0, 0]
            }
    }

    public init(values: [Double]) throws(EnvironmentError) {
        var reader = try MinAtarValueReader(values, game: Self.name, count: Self.valueLabels.count)
        (playerX, playerY, shotTimer) = (try reader.integer(0...9), try reader.integer(1...8), try reader.integer(0...0))
        (spawnSpeed, spawnTimer) = (
            try reader.integer(1...Self.initialSpawnSpeed), try reader.integer(-1...Self.initialSpawnSpeed)
        )
        (moveSpeed, moveTimer) = (
            try reader.integer(1...Self.initialMoveInterval), try reader.integer(-1...Self.initialMoveInterval)
        )
        (rampTimer, rampIndex, terminal) = (
            try reader.integer(-1...Self.rampInterval), try reader.integer(0...1000), try reader.flag()
        )
        for slot in 0..<8 {
            let present = try reader.flag()
            let entity = Entity(x: try reader.integer(0...9), y: slot + 1, rightward: try reader.flag(), gold: try reader.flag())
            entities[slot] = present ? entity : nil
        }
    }
}

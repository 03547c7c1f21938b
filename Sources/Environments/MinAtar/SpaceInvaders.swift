import Linalg

/// MinAtar's Space Invaders: a cannon on the bottom row shoots at a block of aliens that marches
/// sideways, steps down at the edges and shoots back; +1 per alien hit; the game ends when an
/// alien's bullet or an alien reaches the cannon, or an alien stands on the bottom row as the
/// block turns. A cleared block is replaced, marching faster each time (difficulty ramping).
///
/// | | |
/// |---|---|
/// | channels | cannon, alien, alien_left, alien_right (the block's direction), friendly_bullet, enemy_bullet |
/// | actions | minimal: no-op, left, right, fire |
/// | start | cannon at column 5; aliens in rows 0–3, columns 2–7, marching left |
/// | reward | +1 per alien hit |
///
/// Each frame: the cannon fires (at most once every 5 frames) or moves; friendly bullets rise a
/// row and enemy bullets fall a row; every `min(aliens, interval)` frames (interval 12, down to
/// 6) the block moves a column — or, at an edge, turns and moves down a row (wrapping, as
/// `numpy.roll` does); every 10 frames the alien nearest the cannon's column (lowest in that
/// column) shoots; aliens meeting friendly bullets die with them.
public struct SpaceInvaders: MinAtarGame {
    public static let name = "SpaceInvaders"
    public static let channels = ["cannon", "alien", "alien_left", "alien_right", "friendly_bullet", "enemy_bullet"]
    public static let minimalActions: [MinAtarAction] = [.noop, .left, .right, .fire]
    public static let valueLabels =
        [
            "pos", "alien_dir", "enemy_move_interval", "alien_move_timer", "alien_shot_timer", "ramp_index", "shot_timer",
            "terminal",
        ] + ["alien", "f_bullet", "e_bullet"].flatMap { map in (0..<100).map { "\(map)[\($0 / 10),\($0 % 10)]" } }
    static let shotCoolDown = 5
    static let enemyMoveInterval = 12
    static let enemyShotInterval = 10

    var cannon = 5
    var alienDirection = -1
    var moveInterval = SpaceInvaders.enemyMoveInterval
    var alienMoveTimer = SpaceInvaders.enemyMoveInterval
    var alienShotTimer = SpaceInvaders.enemyShotInterval
    var rampIndex = 0
    var shotTimer = 0
    var terminal = false
    /// Row-major maps.
    var aliens = SpaceInvaders.block
    var friendlyBullets = [Bool](repeating: false, count: 100)
    var enemyBullets = [Bool](repeating: false, count: 100)
    /// MinAtar's default; its `difficulty_ramping=False` keeps the start interval.
    var ramping = true

    /// Rows 0–3, columns 2–7.
    static let block = (0..<100).map { $0 / 10 < 4 && (2..<8).contains($0 % 10) }

    public init(random: RandomStream) {}

    /// The map moved by `rows` down and `columns` right, wrapping around (`numpy.roll`).
    static func rolled(_ map: [Bool], rows: Int, columns: Int) -> [Bool] {
        (0..<100).map { cell in map[((cell / 10 - rows + 10) % 10) * 10 + (cell % 10 - columns + 10) % 10] }
    }

    public mutating func act(_ action: MinAtarAction, random: RandomStream) -> (reward: Double, terminal: Bool) {
        guard !terminal else { return (0, true) }
        if action == .fire && shotTimer == 0 {
            friendlyBullets[90 + cannon] = true
            shotTimer = Self.shotCoolDown
        } else if action == .left {
            cannon = max(0, cannon - 1)
        } else if action == .right {
            cannon = min(9, cannon + 1)
        }
        friendlyBullets = Self.rolled(friendlyBullets, rows: -1, columns: 0)
        for column in 0..<10 { friendlyBullets[90 + column] = false }
        enemyBullets = Self.rolled(enemyBullets, rows: 1, columns: 0)
        for column in 0..<10 { enemyBullets[column] = false }
        if enemyBullets[90 + cannon] { terminal = true }
        if aliens[90 + cannon] { terminal = true }
        if alienMoveTimer == 0 {
            alienMoveTimer = min(aliens.count { $0 }, moveInterval)
            let atLeft = (0..<10).contains { aliens[$0 * 10] }
            let atRight = (0..<10).contains { aliens[$0 * 10 + 9] }
            if (atLeft && alienDirection < 0) || (atRight && alienDirection > 0) {
                alienDirection = -alienDirection
                if (90..<100).contains(where: { aliens[$0] }) { terminal = true }
                aliens = Self.rolled(aliens, rows: 1, columns: 0)
            } else {
                aliens = Self.rolled(aliens, rows: 0, columns: alienDirection)
            }
            if aliens[90 + cannon] { terminal = true }
        }
        if alienShotTimer == 0 {
            alienShotTimer = Self.enemyShotInterval
            // Columns by distance from the cannon, ties to the left (a stable sort of 0…9).
            let order = (0..<10).sorted { abs($0 - cannon) < abs($1 - cannon) }
            if let column = order.first(where: { column in (0..<10).contains { aliens[$0 * 10 + column] } }) {
                let row = (0..<10).last { aliens[$0 * 10 + column] }!
                enemyBullets[row * 10 + column] = true
            }
        }
        var reward = 0.0
        for cell in 0..<100 where aliens[cell] && friendlyBullets[cell] {
            reward += 1
            aliens[cell] = false
            friendlyBullets[cell] = false
        }
        if shotTimer > 0 { shotTimer -= 1 }
        alienMoveTimer -= 1
        alienShotTimer -= 1
        if !aliens.contains(true) {
            if moveInterval > 6 && ramping {
                moveInterval -= 1
                rampIndex += 1
            }
            aliens = Self.block
        }
        return (reward, terminal)
    }

    public func draw(_ grid: inout MinAtarGrid) {
        grid[0, 9, cannon] = true
        for cell in 0..<100 {
            let (row, column) = (cell / 10, cell % 10)
            if aliens[cell] {
                grid[1, row, column] = true
                grid[alienDirection < 0 ? 2 : 3, row, column] = true
            }
            if friendlyBullets[cell] { grid[4, row, column] = true }
            if enemyBullets[cell] { grid[5, row, column] = true }
        }
    }

    public var values: [Double] {
        [cannon, alienDirection, moveInterval, alienMoveTimer, alienShotTimer, rampIndex, shotTimer, terminal ? 1 : 0]
            .map(Double.init) + (aliens + friendlyBullets + enemyBullets).map { $0 ? 1 : 0 }
    }

    public init(values: [Double]) throws(EnvironmentError) {
        var reader = try MinAtarValueReader(values, game: Self.name, count: Self.valueLabels.count)
        cannon = try reader.integer(0...9)
        alienDirection = try reader.integer(-1...1)
        guard alienDirection != 0 else { throw EnvironmentError("\(Self.name): alien_dir is -1 or 1") }
        moveInterval = try reader.integer(6...Self.enemyMoveInterval)
        alienMoveTimer = try reader.integer(-1...Self.enemyMoveInterval)
        alienShotTimer = try reader.integer(-1...Self.enemyShotInterval)
        (rampIndex, shotTimer, terminal) = (
            try reader.integer(0...6), try reader.integer(0...Self.shotCoolDown), try reader.flag()
        )
        for cell in 0..<100 { aliens[cell] = try reader.flag() }
        for cell in 0..<100 { friendlyBullets[cell] = try reader.flag() }
        for cell in 0..<100 { enemyBullets[cell] = try reader.flag() }
    }
}

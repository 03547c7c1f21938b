import Linalg

/// MinAtar's Seaquest: a submarine shoots enemy fish and submarines (+1 each), rescues divers
/// (up to six) and must surface for oxygen; surfacing with six divers scores the remaining
/// oxygen (up to +10), surfacing with none — or running out of oxygen, or touching an enemy or
/// an enemy's bullet — ends the game. Each surfacing with divers speeds the enemies up
/// (difficulty ramping).
///
/// | | |
/// |---|---|
/// | channels | sub_front, sub_back, friendly_bullet, trail, enemy_bullet, enemy_fish, enemy_sub, oxygen_guage, diver_guage, diver |
/// | actions | all six (the minimal set is the full set) |
/// | start | submarine at (5, 0) facing left, oxygen 200, no divers; the first enemy after 20 frames, the first diver after 30 |
/// | reward | +1 per enemy shot; oxygen·10/200 (integer division) on surfacing with six divers |
///
/// The entities live in lists updated back to front, as the package's Python lists are — with
/// `list.remove` removing the first entity *equal* to the one at hand, so two identical entities
/// behave as they do there (`EntityList`).
public struct Seaquest: MinAtarGame {
    public static let name = "Seaquest"
    public static let channels = [
        "sub_front", "sub_back", "friendly_bullet", "trail", "enemy_bullet", "enemy_fish", "enemy_sub", "oxygen_guage",
        "diver_guage", "diver",
    ]
    public static let minimalActions: [MinAtarAction] = MinAtarAction.allCases
    static let rampInterval = 100
    static let maxOxygen = 200
    static let initialSpawnSpeed = 20
    static let diverSpawnSpeed = 30
    static let initialMoveInterval = 5
    static let shotCoolDown = 5
    static let enemyShotInterval = 10
    static let diverMoveInterval = 5
    /// Room for entities in `values`. At most one enemy spawns a frame and crosses in at most
    /// 10 moves of at most 5 frames, so fewer than 64 enemies of a kind coexist, each sub with
    /// at most one bullet in flight; a shot every 5 frames lives at most 10; a diver spawns
    /// every 30 frames and crosses in 50.
    static let slots = (bullets: 8, fish: 64, subs: 64, divers: 8, enemyBullets: 64)

    /// A moving thing: column, row, direction, frames until it moves (fish, subs, divers) and
    /// until it shoots (subs). Equal as the package's lists are: every field.
    struct Thing: Equatable, Sendable {
        var x: Int, y: Int, rightward: Bool, timer = 0, shotTimer = 0
    }

    var oxygen = Seaquest.maxOxygen
    var diverCount = 0
    var subX = 5, subY = 0
    var facingRight = false
    var friendlyBullets = EntityList()
    var enemyBullets = EntityList()
    var fish = EntityList()
    var subs = EntityList()
    var divers = EntityList()
    var spawnSpeed = Seaquest.initialSpawnSpeed, spawnTimer = Seaquest.initialSpawnSpeed
    var diverSpawnTimer = Seaquest.diverSpawnSpeed
    var moveSpeed = Seaquest.initialMoveInterval
    var rampIndex = 0
    var shotTimer = 0
    var surface = true
    var terminal = false
    /// MinAtar's default; its `difficulty_ramping=False` keeps the start speeds.
    var ramping = true

    public init(random: RandomStream) {}

    public mutating func act(_ action: MinAtarAction, random: RandomStream) -> (reward: Double, terminal: Bool) {
        guard !terminal else { return (0, true) }
        var reward = 0.0
        if spawnTimer == 0 {
            spawnEnemy(random)
            spawnTimer = spawnSpeed
        }
        if diverSpawnTimer == 0 {
            let rightward = random.numPyUniform() < 1.0 / 2
            let y = random.numPyInteger(1, 9)
            divers.append(Thing(x: rightward ? 0 : 9, y: y, rightward: rightward, timer: Self.diverMoveInterval))
            diverSpawnTimer = Self.diverSpawnSpeed
        }
        switch action {
        case .fire where shotTimer == 0:
            friendlyBullets.append(Thing(x: subX, y: subY, rightward: facingRight))
            shotTimer = Self.shotCoolDown
        case .left:
            subX = max(0, subX - 1)
            facingRight = false
        case .right:
            subX = min(9, subX + 1)
            facingRight = true
        case .up: subY = max(0, subY - 1)
        case .down: subY = min(8, subY + 1)
        default: break
        }
        let (x, y) = (subX, subY)  // the submarine stays put while everything else moves
        let atSub = { (thing: Thing) in thing.x == x && thing.y == y }
        let step = { (thing: inout Thing) in thing.x += thing.rightward ? 1 : -1 }
        let offGrid = { (thing: Thing) in thing.x < 0 || thing.x > 9 }

        // The lists as locals while the loops run: a loop over one changes others.
        var (friendly, hostile, fishes, enemySubs, diverList) = (friendlyBullets, enemyBullets, fish, subs, divers)
        friendly.forEachBackwards { bullet, list in
            step(&bullet)
            list.write(bullet)
            if offGrid(bullet) {
                list.remove(bullet)
            } else if let hit = fishes.first(where: { $0.x == bullet.x && $0.y == bullet.y }) {
                fishes.remove(hit)
                list.remove(bullet)
                reward += 1
            } else if let hit = enemySubs.first(where: { $0.x == bullet.x && $0.y == bullet.y }) {
                enemySubs.remove(hit)
                list.remove(bullet)
                reward += 1
            }
        }
        diverList.forEachBackwards { diver, list in
            if atSub(diver) && diverCount < 6 {
                list.remove(diver)
                diverCount += 1
            } else if diver.timer == 0 {
                diver.timer = Self.diverMoveInterval
                step(&diver)
                list.write(diver)
                if offGrid(diver) {
                    list.remove(diver)
                } else if atSub(diver) && diverCount < 6 {
                    list.remove(diver)
                    diverCount += 1
                }
            } else {
                diver.timer -= 1
                list.write(diver)
            }
        }
        // Fish and subs move alike: a collision before or after the move ends the game, leaving
        // the grid removes them, a friendly bullet on the new cell kills both (+1). Subs then
        // shoot — even in the frame they left the grid or were shot (the package's object lives
        // on after `remove`); such a bullet leaves the grid at once.
        func moveEnemies(_ enemies: inout EntityList, shoot: Bool) {
            enemies.forEachBackwards { enemy, list in
                if atSub(enemy) { terminal = true }
                if enemy.timer == 0 {
                    enemy.timer = moveSpeed
                    step(&enemy)
                    list.write(enemy)
                    if offGrid(enemy) {
                        list.remove(enemy)
                    } else if atSub(enemy) {
                        terminal = true
                    } else if let hit = friendly.first(where: { $0.x == enemy.x && $0.y == enemy.y }) {
                        list.remove(enemy)
                        friendly.remove(hit)
                        reward += 1
                    }
                } else {
                    enemy.timer -= 1
                    list.write(enemy)
                }
                guard shoot else { return }
                if enemy.shotTimer == 0 {
                    enemy.shotTimer = Self.enemyShotInterval
                    hostile.append(Thing(x: enemy.x, y: enemy.y, rightward: enemy.rightward))
                } else {
                    enemy.shotTimer -= 1
                }
                list.write(enemy)
            }
        }
        moveEnemies(&enemySubs, shoot: true)
        hostile.forEachBackwards { bullet, list in
            if atSub(bullet) { terminal = true }
            step(&bullet)
            list.write(bullet)
            if offGrid(bullet) {
                list.remove(bullet)
            } else if atSub(bullet) {
                terminal = true
            }
        }
        moveEnemies(&fishes, shoot: false)
        (friendlyBullets, enemyBullets, fish, subs, divers) = (friendly, hostile, fishes, enemySubs, diverList)
        if spawnTimer > 0 { spawnTimer -= 1 }
        if diverSpawnTimer > 0 { diverSpawnTimer -= 1 }
        if shotTimer > 0 { shotTimer -= 1 }
        if oxygen <= 0 { terminal = true }
        if subY > 0 {
            oxygen -= 1
            surface = false
        } else if !surface {
            if diverCount == 0 {
                terminal = true
            } else {
                reward += surfaced()
            }
        }
        return (reward, terminal)
    }

    /// At the surface with divers: six give oxygen·10/200 points and are all delivered, fewer
    /// cost one diver (from six, the count goes to 0 and then −1, as in the package); oxygen
    /// refills and the enemies speed up.
    mutating func surfaced() -> Double {
        surface = true
        var points = 0
        if diverCount == 6 {
            diverCount = 0
            points = oxygen * 10 / Self.maxOxygen
        }
        oxygen = Self.maxOxygen
        diverCount -= 1
        if ramping && (spawnSpeed > 1 || moveSpeed > 2) {
            if moveSpeed > 2 && rampIndex % 2 == 1 { moveSpeed -= 1 }
            if spawnSpeed > 1 { spawnSpeed -= 1 }
            rampIndex += 1
        }
        return Double(points)
    }

    /// An enemy in a random row and direction — none if an enemy moves the other way in that row.
    mutating func spawnEnemy(_ random: RandomStream) {
        let rightward = random.numPyUniform() < 1.0 / 2
        let isSub = random.numPyUniform() < 1.0 / 3
        let y = random.numPyInteger(1, 9)
        guard !(subs.values + fish.values).contains(where: { $0.y == y && $0.rightward != rightward }) else { return }
        let enemy = Thing(x: rightward ? 0 : 9, y: y, rightward: rightward, timer: moveSpeed, shotTimer: Self.enemyShotInterval)
        if isSub {
            subs.append(enemy)
        } else {
            fish.append(Thing(x: enemy.x, y: y, rightward: rightward, timer: moveSpeed))
        }
    }

    public func draw(_ grid: inout MinAtarGrid) {
        grid[0, subY, subX] = true
        // NumPy indexing: a column of −1 is the last one.
        grid[1, subY, ((facingRight ? subX - 1 : subX + 1) + 10) % 10] = true
        for column in 0..<(max(0, oxygen) * 10 / Self.maxOxygen) { grid[7, 9, column] = true }
        for column in stride(from: 9 - diverCount, to: 9, by: 1) { grid[8, 9, column] = true }  // none for a count ≤ 0
        for bullet in friendlyBullets.values { grid[2, bullet.y, bullet.x] = true }
        for bullet in enemyBullets.values { grid[4, bullet.y, bullet.x] = true }
        for (channel, things) in [(5, fish), (6, subs), (9, divers)] {
            for thing in things.values {
                grid[channel, thing.y, thing.x] = true
                let back = thing.rightward ? thing.x - 1 : thing.x + 1
                if (0...9).contains(back) { grid[3, thing.y, back] = true }
            }
        }
    }

    public static let valueLabels: [String] = {
        var labels = [
            "oxygen", "diver_count", "sub_x", "sub_y", "sub_or", "e_spawn_speed", "e_spawn_timer", "d_spawn_timer",
            "move_speed", "ramp_index", "shot_timer", "surface", "terminal",
        ]
        for (name, count) in [
            ("f_bullets", slots.bullets), ("e_bullets", slots.enemyBullets), ("e_fish", slots.fish), ("e_subs", slots.subs),
            ("divers", slots.divers),
        ] {
            labels.append("\(name).count")
            for k in 0..<count { labels += ["x", "y", "lr", "timer", "shot_timer"].map { "\(name)[\(k)].\($0)" } }
        }
        return labels
    }()

    public var values: [Double] {
        var values = [
            oxygen, diverCount, subX, subY, facingRight ? 1 : 0, spawnSpeed, spawnTimer, diverSpawnTimer, moveSpeed, rampIndex,
            shotTimer, surface ? 1 : 0, terminal ? 1 : 0,
        ].map(Double.init)
        for (list, slots) in [
            (friendlyBullets, Self.slots.bullets), (enemyBullets, Self.slots.enemyBullets), (fish, Self.slots.fish),
            (subs, Self.slots.subs), (divers, Self.slots.divers),
        ] {
            precondition(list.values.count <= slots, "Seaquest: more entities than the state holds (\(list.values.count))")
            values.append(Double(list.values.count))
            for k in 0..<slots {
                let thing = k < list.values.count ? list.values[k] : Thing(x: 0, y: 0, rightward: false)
                values += [thing.x, thing.y, thing.rightward ? 1 : 0, thing.timer, thing.shotTimer].map(Double.init)
            }
        }
        return values
    }

    public init(values: [Double]) throws(EnvironmentError) {
        var reader = try MinAtarValueReader(values, game: Self.name, count: Self.valueLabels.count)
        (oxygen, diverCount, subX, subY) = (
            try reader.integer(-1...Self.maxOxygen), try reader.integer(-1_000_000...6), try reader.integer(0...9),
            try reader.integer(0...8)
        )
        facingRight = try reader.flag()
        (spawnSpeed, spawnTimer, diverSpawnTimer) = (
            try reader.integer(1...Self.initialSpawnSpeed), try reader.integer(0...Self.initialSpawnSpeed),
            try reader.integer(0...Self.diverSpawnSpeed)
        )
        (moveSpeed, rampIndex, shotTimer) = (
            try reader.integer(2...Self.initialMoveInterval), try reader.integer(0...10_000),
            try reader.integer(0...Self.shotCoolDown)
        )
        (surface, terminal) = (try reader.flag(), try reader.flag())
        for (path, slots) in [
            (\Seaquest.friendlyBullets, Self.slots.bullets), (\.enemyBullets, Self.slots.enemyBullets), (\.fish, Self.slots.fish),
            (\.subs, Self.slots.subs), (\.divers, Self.slots.divers),
        ] as [(WritableKeyPath<Seaquest, EntityList>, Int)] {
            let count = try reader.integer(0...slots)
            for k in 0..<slots {
                let thing = Thing(
                    x: try reader.integer(0...9), y: try reader.integer(0...9), rightward: try reader.flag(),
                    timer: try reader.integer(0...Self.initialMoveInterval),
                    shotTimer: try reader.integer(0...Self.enemyShotInterval))
                if k < count { self[keyPath: path].append(thing) }
            }
        }
    }
}

/// A Python list of `Seaquest.Thing`s as the package's loops use it: iterated back to front by
/// index (`reversed(list)`: the next index is one less, checked against the list's size then),
/// `remove(thing)` deleting the first element equal to `thing`, which may be another element
/// than the one at hand — that one then stays, and may come round again.
struct EntityList: Sendable {
    private(set) var values: [Seaquest.Thing] = []
    /// The element the loop is at (nil once it has left the list).
    private var current: Int?

    mutating func append(_ thing: Seaquest.Thing) { values.append(thing) }

    func first(where matches: (Seaquest.Thing) -> Bool) -> Seaquest.Thing? { values.first(where: matches) }

    /// `list.remove(thing)`: removes the first element equal to `thing`.
    mutating func remove(_ thing: Seaquest.Thing) {
        guard let index = values.firstIndex(of: thing) else { preconditionFailure("remove: \(thing) is not in the list") }
        values.remove(at: index)
        if let position = current {
            current = index == position ? nil : index < position ? position - 1 : position
        }
    }

    /// Stores the changed element at hand back, if it is still in the list (the package's
    /// object, changed in place, is also the list's element until it is removed).
    mutating func write(_ thing: Seaquest.Thing) {
        if let current { values[current] = thing }
    }

    /// `for thing in reversed(list): body(&thing, &list)`; `body` changes its copy and writes
    /// it back with `write`.
    mutating func forEachBackwards(_ body: (inout Seaquest.Thing, inout EntityList) -> Void) {
        var index = values.count - 1
        while index >= 0 && index < values.count {
            current = index
            var thing = values[index]
            body(&thing, &self)
            current = nil
            index -= 1
        }
    }
}

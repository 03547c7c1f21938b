import Foundation
import Synchronization

/// Makes environments by id, as `gymnasium.make`: the environment wrapped in its `TimeLimit`.
///
/// Ids: the classic-control ids of Gymnasium (`CartPole-v1`, `MountainCar-v0`,
/// `MountainCarContinuous-v0`, `Acrobot-v1`, `Pendulum-v1`), its MuJoCo v5 ids (`Hopper-v5`, …;
/// models in `envs/mujoco/`), MinAtar's (`MinAtar/Breakout-v1`, …) and gridworlds `grid:NAME[:MODE]`,
/// where NAME is a map in a map directory (`envs/NAME.txt`) or a path to a map file, and MODE is
/// `coordinates` (default), `onehot` or `localK` (odd K, e.g. `local5`).
public enum Registry {
    /// The classic-control environments with their step limits.
    public static let classicControl: [(id: String, maxEpisodeSteps: Int, make: @Sendable () -> any Environment)] = [
        ("CartPole-v1", 500, { CartPole() }),
        ("MountainCar-v0", 200, { MountainCar() }),
        ("MountainCarContinuous-v0", 999, { MountainCarContinuous() }),
        ("Acrobot-v1", 500, { Acrobot() }),
        ("Pendulum-v1", 200, { Pendulum() }),
    ]

    /// The MuJoCo environments with their step limits (Gymnasium's registrations).
    public static let mujoco:
        [(id: String, maxEpisodeSteps: Int, make: @Sendable () throws(EnvironmentError) -> any Environment)] = [
            ("Hopper-v5", 1000, { () throws(EnvironmentError) in try Hopper() }),
            ("Walker2d-v5", 1000, { () throws(EnvironmentError) in try Walker2d() }),
            ("HalfCheetah-v5", 1000, { () throws(EnvironmentError) in try HalfCheetah() }),
            ("Ant-v5", 1000, { () throws(EnvironmentError) in try Ant() }),
            ("InvertedPendulum-v5", 1000, { () throws(EnvironmentError) in try InvertedPendulum() }),
            ("InvertedDoublePendulum-v5", 1000, { () throws(EnvironmentError) in try InvertedDoublePendulum() }),
            ("Swimmer-v5", 1000, { () throws(EnvironmentError) in try Swimmer() }),
            ("Reacher-v5", 50, { () throws(EnvironmentError) in try Reacher() }),
        ]

    /// MinAtar's games (`MinAtar/<name>-v1`, minimal actions; `-v0`, all six), made with the
    /// minimal action set or not. No time limit, as the package registers none.
    public static let minAtar: [(name: String, make: @Sendable (_ minimalActionSet: Bool) -> any Environment)] = [
        ("Asterix", { MinAtar<Asterix>(minimalActionSet: $0) }),
        ("Breakout", { MinAtar<Breakout>(minimalActionSet: $0) }),
        ("Freeway", { MinAtar<Freeway>(minimalActionSet: $0) }),
        ("Seaquest", { MinAtar<Seaquest>(minimalActionSet: $0) }),
        ("SpaceInvaders", { MinAtar<SpaceInvaders>(minimalActionSet: $0) }),
    ]

    /// Where `grid:NAME` looks for `NAME.txt`: `$GAUNTLET_ENVS`, then `./envs`, then the `envs/`
    /// of the source tree the binary was built in (found from the executable's location).
    public static var mapDirectories: [URL] {
        var directories: [URL] = []
        if let custom = ProcessInfo.processInfo.environment["GAUNTLET_ENVS"] {
            directories.append(URL(fileURLWithPath: custom))
        }
        directories.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("envs"))
        // The executable's own path (/proc/self/exe), not argv[0]: run from PATH, argv[0] is a
        // bare name, and through setup.sh's symlink it names the link.
        var executable = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments.first ?? ""))
            .resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            directories.append(executable.appendingPathComponent("envs"))
            executable.deleteLastPathComponent()
        }
        return directories
    }

    /// The built-in environment `id` inside its time limit. Further families (`adversary:`)
    /// come through an `EnvironmentRegistry`.
    public static func make(_ id: String) throws(EnvironmentError) -> TimeLimit {
        if let entry = classicControl.first(where: { $0.id == id }) {
            return TimeLimit(entry.make(), maxEpisodeSteps: entry.maxEpisodeSteps)
        }
        if let entry = minAtar.first(where: { id == "MinAtar/\($0.name)-v1" || id == "MinAtar/\($0.name)-v0" }) {
            return TimeLimit(entry.make(id.hasSuffix("-v1")), maxEpisodeSteps: Int.max)
        }
        if let entry = mujoco.first(where: { $0.id == id }) {
            return TimeLimit(try entry.make(), maxEpisodeSteps: entry.maxEpisodeSteps)
        }
        if ExternalEnvironments.handles(id) { return try ExternalEnvironments.make(id) }
        if id.hasPrefix("grid:") {
            let world = try gridWorld(id)
            return TimeLimit(world, maxEpisodeSteps: world.map.stepLimit)
        }
        throw EnvironmentError(
            "unknown environment '\(id)' (known: \((classicControl.map(\.id) + mujoco.map(\.id) + minAtarIDs).joined(separator: ", ")), gym:ID for a Gymnasium environment in another process, external:COMMAND for any program speaking python/PROTOCOL.md, grid:NAME with NAME one of \(gridNames().isEmpty ? "the maps of an envs/ directory, none found here: run from the repository or set GAUNTLET_ENVS" : gridNames().joined(separator: ", ")))"
        )
    }

    /// The gridworld of a `grid:NAME[:MODE]` id.
    public static func gridWorld(_ id: String) throws(EnvironmentError) -> GridWorld {
        var parts = id.dropFirst("grid:".count).split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var mode = GridWorld.ObservationMode.coordinates
        if parts.count > 1, let parsed = GridWorld.ObservationMode(name: parts.last!) {
            mode = parsed
            parts.removeLast()
        } else if parts.count > 1 {
            throw EnvironmentError(
                "'\(id)': unknown observation mode '\(parts.last!)' (expected coordinates, onehot or localK with odd K ≤ 31)")
        }
        let name = parts.joined(separator: ":")
        guard !name.isEmpty else { throw EnvironmentError("'\(id)': missing the map name after 'grid:'") }
        let url: URL
        if name.hasSuffix(".txt") || name.contains("/") {
            url = URL(fileURLWithPath: name)
        } else if let found = mapDirectories.map({ $0.appendingPathComponent("\(name).txt") }).first(where: {
            FileManager.default.fileExists(atPath: $0.path)
        }) {
            url = found
        } else {
            throw EnvironmentError(
                "'\(id)': no map '\(name).txt' in \(mapDirectories.map(\.path).joined(separator: ", ")) (set GAUNTLET_ENVS to a map directory)"
            )
        }
        return GridWorld(map: try GridMap.load(contentsOf: url), observation: mode)
    }

    /// Names of the maps in the first map directory that has any.
    public static func gridNames() -> [String] {
        for directory in mapDirectories {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            let names = files.filter { $0.hasSuffix(".txt") }.map { String($0.dropLast(4)) }.sorted()
            if !names.isEmpty { return names }
        }
        return []
    }

    /// Every id `make` accepts with the default observation mode.
    public static func ids() -> [String] {
        classicControl.map(\.id) + mujoco.map(\.id) + minAtarIDs + gridNames().map { "grid:\($0)" }
    }

    /// The MinAtar ids, each game's `-v1` then `-v0`.
    static var minAtarIDs: [String] { minAtar.flatMap { ["MinAtar/\($0.name)-v1", "MinAtar/\($0.name)-v0"] } }
}

/// A family of environments whose ids share a prefix, made by someone above this module (the
/// `adversary:` family of the Attacks module needs policies).
public struct EnvironmentFamily: Sendable {
    public var prefix: String
    public var summary: String
    /// Makes the environment of a whole id that starts with `prefix`.
    public var make: @Sendable (String) throws(EnvironmentError) -> TimeLimit

    public init(prefix: String, summary: String, make: @escaping @Sendable (String) throws(EnvironmentError) -> TimeLimit) {
        self.prefix = prefix
        self.summary = summary
        self.make = make
    }
}

/// The environments a run can make: the built-in ones and the families it was given. A value,
/// assembled by whoever knows the families and passed to what makes environments.
public struct EnvironmentRegistry: Sendable {
    public private(set) var families: [EnvironmentFamily]

    public init(families: [EnvironmentFamily] = []) { self.families = families }

    /// Classic control and gridworlds only.
    public static let builtIn = EnvironmentRegistry()

    /// This registry with one more family.
    public func adding(_ family: EnvironmentFamily) -> EnvironmentRegistry {
        precondition(!families.contains { $0.prefix == family.prefix }, "environment family '\(family.prefix)' given twice")
        var copy = self
        copy.families.append(family)
        return copy
    }

    /// The environment `id` inside its time limit, from the family its prefix names or the built-in ones.
    public func make(_ id: String) throws(EnvironmentError) -> TimeLimit {
        if let family = families.first(where: { id.hasPrefix($0.prefix) }) { return try family.make(id) }
        return try Registry.make(id)
    }
}

import ArgumentParser
import Environments
import Foundation

struct Env: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, describe, render and script environments.",
        subcommands: [EnvList.self, EnvInfo.self, EnvRender.self, EnvRollout.self])
}

/// The description of an environment that `env list` and `env info` print.
struct EnvironmentSummary: Encodable {
    var id: String
    var observationSpace: BoxSpace
    var actionSpace: String
    var actionCount: Int?
    var actionLow: [Float]?
    var actionHigh: [Float]?
    var maxEpisodeSteps: Int
    var stateLabels: [String]
    /// Gridworlds: the optimal undiscounted return from the start within the step limit.
    var optimalReturn: Double?
    /// MuJoCo environments: the sizes of `qpos` and `qvel` (the state as JSON is `{"qpos", "qvel"}`).
    var qposCount: Int?
    var qvelCount: Int?

    init(_ env: TimeLimit) {
        id = env.base.id
        observationSpace = env.base.observationSpace
        actionSpace = env.base.actionSpace.description
        actionCount = env.base.actionSpace.actionCount
        if case .box(let box) = env.base.actionSpace { (actionLow, actionHigh) = (box.low, box.high) }
        maxEpisodeSteps = env.maxEpisodeSteps
        stateLabels = env.base.stateLabels
        if let mujoco = env.base as? any MuJoCoEnvironment {
            (qposCount, qvelCount) = (mujoco.simulation.nq, mujoco.simulation.nv)
        }
        if let grid = env.base as? GridWorld {
            grid.reset(seed: 0)
            optimalReturn = grid.model.optimalValues(discount: 1, horizon: env.maxEpisodeSteps)[grid.tabularState]
        }
    }

    /// The step limit, or "none" (MinAtar's games and external environments without one).
    var limitText: String { maxEpisodeSteps == Int.max ? "none" : "\(maxEpisodeSteps)" }

    /// `[v] × n` for n equal values, the list otherwise.
    static func compact(_ values: [Float]) -> String {
        if values.count > 4, let first = values.first, values.allSatisfy({ $0 == first }) {
            return "[\(first)] × \(values.count)"
        }
        return "\(values)"
    }

    var text: String {
        """
        \(id)
          observation: Box(\(observationSpace.dimension)) low \(Self.compact(observationSpace.low)) high \(Self.compact(observationSpace.high))
          action:      \(actionSpace)
          step limit:  \(limitText)
          state:       [\(stateLabels.joined(separator: ", "))]
        """ + (optimalReturn.map { "\n  optimal return from the start (value iteration): \($0)" } ?? "")
            + (qposCount.map { "\n  state as JSON: {\"qpos\": [\($0) numbers], \"qvel\": [\(qvelCount!) numbers]} (env rollout)" }
                ?? "")
    }
}

/// Makes an environment, turning a bad id into a usage error (exit code 2).
func makeEnvironment(_ id: String) throws -> TimeLimit {
    do { return try Registry.make(id) } catch { throw ValidationError(error.description) }
}

struct EnvList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the environment ids.")
    @OptionGroup var format: JSONOption

    func run() throws {
        let summaries = try Registry.ids().map { EnvironmentSummary(try makeEnvironment($0)) }
        if format.json {
            try printJSON(["environments": summaries])
        } else {
            for s in summaries {
                print(
                    "\(s.id.padding(toLength: 28, withPad: " ", startingAt: 0)) obs \(s.observationSpace.dimension), \(s.actionSpace), limit \(s.limitText)"
                )
            }
            print(
                "\nGridworlds also take an observation mode, grid:NAME:onehot or grid:NAME:local5, and a path, grid:path/to/map.txt."
            )
        }
    }
}

struct EnvInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Spaces, limits and state layout of an environment.")
    @Argument(help: "Environment id (see `gauntlet env list`).") var id: String
    @OptionGroup var format: JSONOption

    func run() throws {
        let summary = EnvironmentSummary(try makeEnvironment(id))
        if format.json { try printJSON(summary) } else { print(summary.text) }
    }
}

struct EnvRender: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render", abstract: "Render the state after a reset: ASCII for gridworlds, SVG for every environment.")
    @Argument(help: "Environment id.") var id: String
    @Option(help: "Reset seed.") var seed: UInt64 = 0
    @Option(help: "Internal state to set after the reset, comma-separated (see `env info`).") var state: String?
    @Option(help: "ascii (gridworlds) or svg.") var format: String?
    @Option(help: "Write to this file instead of standard output.") var output: String?

    func run() throws {
        let env = try makeEnvironment(id)
        env.reset(seed: seed)
        if let state {
            let values = state.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard values.allSatisfy({ $0 != nil }) else {
                throw ValidationError("--state: expected comma-separated numbers, got '\(state)'")
            }
            do { try env.base.setState(values.map { $0! }) } catch { throw ValidationError("--state: \(error.description)") }
        }
        let grid = env.base as? GridWorld
        let chosen = format ?? (grid != nil ? "ascii" : "svg")
        let text: String
        switch (chosen, grid) {
        case ("svg", _): text = env.base.renderSVG()
        case ("ascii", let grid?): text = grid.renderASCII() + "\n"
        case ("ascii", nil): throw ValidationError("--format ascii is available for gridworlds only; use svg")
        default: throw ValidationError("--format must be ascii or svg, got '\(chosen)'")
        }
        if let output {
            do { try text.write(toFile: output, atomically: true, encoding: .utf8) } catch {
                throw ValidationError("--output: cannot write \(output): \(error.localizedDescription)")
            }
        } else {
            print(text, terminator: "")
        }
    }
}

struct EnvRollout: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Apply scripted actions and print every observation, reward and flag as JSON.",
        discussion: """
            Reads one JSON object from standard input:
              {"env": ID, "state": [numbers] (optional), "seed": n (optional), "actions": [a0, a1, …]}
            An action is an integer for discrete spaces, an array of numbers for continuous ones. \
            "state" sets the internal state right after the reset, in Gymnasium's layout \
            (env.unwrapped.state; see `gauntlet env info ID`); for MuJoCo environments it is \
            {"qpos": [...], "qvel": [...]}, set as Gymnasium's set_state after reset does. Prints
              {"initial_observation": [...], "steps": [{"observation", "reward", "terminated", "truncated"}, ...]}
            stopping after the last action or at the end of the episode.
            """)

    func run() throws {
        let input = FileHandle.standardInput.readDataToEndOfFile()
        do {
            let result = try Rollout(json: input).run()
            try printJSON(result)
        } catch let error as EnvironmentError {
            throw ValidationError("standard input: \(error.description)")
        }
    }
}

import Foundation
import TestSupport
import Testing

/// `gym:` and `external:` environments from the command line: `env info` describes Gymnasium's
/// CartPole through the bridge, `evaluate` and `attack` run a shipped policy on it, a sweep spec
/// evaluates in it, and a server that dies mid-episode is an exit-2 error naming the environment
/// and the step.
@Suite struct ExternalEnvironmentCommandTests {
    @Test func gymnasiumCartPoleFromTheCommandLine() throws {
        let info = try runGauntlet(["env", "info", "gym:CartPole-v1"])
        #expect(
            info.status == 0 && info.standardOutput.contains("Discrete(2)") && info.standardOutput.contains("step limit:  500"))
        let evaluate = try runGauntlet([
            "evaluate", "--policy", "policies/cartpole-dqn.safetensors", "--env", "gym:CartPole-v1", "--episodes", "3", "--json",
        ])
        #expect(evaluate.status == 0, "\(evaluate.standardError)")
        #expect(evaluate.standardOutput.contains("\"mean_return\":500"), "\(evaluate.standardOutput)")
        let attack = try runGauntlet([
            "attack", "--policy", "policies/cartpole-dqn.safetensors", "--env", "gym:CartPole-v1", "--attack", "fgsm", "--eps",
            "0.2", "--episodes", "3",
        ])
        #expect(attack.status == 0 && attack.standardOutput.contains("gym:CartPole-v1"), "\(attack.standardError)")
    }

    @Test func aServerThatDiesIsAClearError() throws {
        let script = fixtureURL("fake_env_server.py").path
        let rollout = try runGauntlet(
            ["env", "rollout"], input: #"{"env": "external:python3 \#(script) crash 3", "actions": [1, 1, 1, 1]}"#)
        #expect(rollout.status == 2)
        #expect(
            rollout.standardError.contains("step 3: the environment process closed its output (exit status 3)"),
            "\(rollout.standardError)")
        let missing = try runGauntlet(["env", "info", "external:/nonexistent/server --flag"])
        #expect(missing.status == 2 && missing.standardError.contains("external:/nonexistent/server"), "\(missing.standardError)")
    }

    /// A folder with a sweep spec of cartpole-dqn on gym:CartPole-v1 (2 episodes) and the path
    /// of its database.
    static func bridgedSweep(attacks: String, epsilons: String) throws -> (directory: URL, spec: URL, db: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-gym-sweep-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let spec = directory.appendingPathComponent("spec.yaml")
        try """
        policies: [policies/cartpole-dqn.safetensors]
        environment: gym:CartPole-v1
        attacks: \(attacks)
        epsilons: \(epsilons)
        episodes: 2
        """.write(to: spec, atomically: true, encoding: .utf8)
        return (directory, spec, directory.appendingPathComponent("r.sqlite").path)
    }

    /// A sweep spec's `environment` evaluates the policy in the bridged environment instead of
    /// its file's: the cells say so (and have keys of their own), two jobs run two processes each.
    @Test func sweepOverABridgedEnvironment() throws {
        let (directory, spec, db) = try Self.bridgedSweep(attacks: "[fgsm, uniform]", epsilons: "[0, 0.2]")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sweep = try runGauntlet(["sweep", spec.path, "--db", db, "--jobs", "2"])
        #expect(sweep.status == 0, "\(sweep.standardError)")
        let query = try runGauntlet(["results", "query", "--db", db, "--format", "csv"])
        let rows = query.standardOutput.split(separator: "\n").dropFirst()
        #expect(rows.count == 4 && rows.allSatisfy { $0.contains("gym:CartPole-v1") }, "\(query.standardOutput)")
    }

    /// A sweep whose environment processes cannot start loses nothing: its cells fail (exit 1,
    /// each named), nothing is stored for them, and the next run — with a working Python — runs
    /// exactly those cells.
    @Test func failedCellsOfABridgedSweepRunOnResume() throws {
        let (directory, spec, db) = try Self.bridgedSweep(attacks: "[fgsm]", epsilons: "[0.1, 0.2]")
        defer { try? FileManager.default.removeItem(at: directory) }
        let broken = try runGauntlet(["sweep", spec.path, "--db", db], environment: ["GAUNTLET_PYTHON": "/nonexistent/python3"])
        #expect(
            broken.status != 0 && broken.standardError.contains("cannot start /nonexistent/python3"), "\(broken.standardError)")
        let none = try runGauntlet(["results", "query", "--db", db, "--format", "csv"])
        #expect(none.standardOutput.split(separator: "\n").count <= 1, "\(none.standardOutput)")
        let resumed = try runGauntlet(["sweep", spec.path, "--db", db])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        let rows = try runGauntlet(["results", "query", "--db", db, "--format", "csv"]).standardOutput.split(separator: "\n")
        #expect(rows.dropFirst().count == 2, "\(rows)")
    }

    /// An environment made by a user's function (`--entry-point`, keyword arguments as JSON)
    /// with an image observation: flattened in C order, its shape declared, stepped as made.
    @Test func entryPointWithAnImageObservation() throws {
        let fixtures = fixtureURL("").path
        // A JSON string holding a shell command: the command's own quotes escaped for JSON.
        let env =
            #"external:.venv-env-server/bin/python3 python/gauntlet_env_server.py --entry-point bridge_entry_point:make --kwargs '{\"length\": 2}'"#
        let rollout = try runGauntlet(
            ["env", "rollout"], input: #"{"env": "\#(env)", "actions": [1, 0, 1]}"#, environment: ["PYTHONPATH": fixtures])
        #expect(rollout.status == 0, "\(rollout.standardError)")
        #expect(
            rollout.standardOutput
                == #"{"initial_observation":[0,1,2,3,4,5],"steps":[{"observation":[11,12,13,14,15,16],"reward":1,"terminated":false,"truncated":false},{"observation":[20,21,22,23,24,25],"reward":1,"terminated":true,"truncated":false}]}"#
                + "\n", "\(rollout.standardOutput)")
    }

    /// Process ids whose parent is `pid`, from /proc.
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                let end = stat.lastIndex(of: ")")
            else { return false }
            // After "pid (name)": the state, then the parent's id.
            return stat[stat.index(after: end)...].split(separator: " ").dropFirst().first.flatMap { Int32($0) } == pid
        }
    }

    /// How many CPUs this process may run on (its affinity mask, from /proc).
    static func allowedCPUs() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let mask = status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed:") }?.split(separator: "\t").last ?? ""
        return mask.compactMap { $0.hexDigitValue?.nonzeroBitCount }.reduce(0, +)
    }

    /// Whether `pid` names a process that has not exited (a zombie has).
    static func running(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let end = stat.lastIndex(of: ")")
        else { return false }
        return !stat[stat.index(after: end)...].hasPrefix(" Z")
    }

    /// A Gauntlet killed in the middle of an evaluation leaves no environment process behind: the
    /// server sees its input close — on the pipe as it reads, in shared memory between its
    /// futex sleeps — and exits.
    @Test(arguments: ["pipes", "shared-memory"])
    func aKilledGauntletLeavesNoServer(transport: String) throws {
        let process = Process()
        process.executableURL = Bundle.main.executableURL!.deletingLastPathComponent().appendingPathComponent("gauntlet")
        process.arguments = [
            "evaluate", "--policy", "policies/cartpole-dqn.safetensors", "--env", "gym:CartPole-v1", "--episodes", "100000",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(["GAUNTLET_ENV_TRANSPORT": transport]) { $1 }
        process.currentDirectoryURL = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until the server has taken its frames' transport and steps.
        var server: Int32?
        var maps = ""
        for _ in 0..<600 where !maps.contains("memfd:gauntlet-env") || server == nil {
            usleep(50_000)
            server = Self.children(of: process.processIdentifier).first
            maps = server.flatMap { try? String(contentsOfFile: "/proc/\($0)/maps", encoding: .utf8) } ?? ""
            if transport == "pipes" && server != nil { break }
        }
        let pid = try #require(server)
        // On one CPU Gauntlet keeps the pipes (ExternalEnvironment.Transport).
        #expect(
            maps.contains("memfd:gauntlet-env") == (transport == "shared-memory" && Self.allowedCPUs() > 1),
            "the server maps Gauntlet's memory file")
        sleep(2)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        for _ in 0..<60 where Self.running(pid) { usleep(50_000) }
        #expect(!Self.running(pid), "the environment server \(pid) still runs after Gauntlet was killed")
        if Self.running(pid) { kill(pid, SIGKILL) }
    }
}

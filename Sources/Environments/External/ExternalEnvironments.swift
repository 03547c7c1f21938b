import Foundation

/// The environment ids that run in another process:
/// - `gym:ID[?key=value&…]` — `gymnasium.make(ID, key=value, …)` served by Gauntlet's
///   `python/gauntlet_env_server.py` (values are read as JSON where they parse, else as strings);
/// - `external:COMMAND` — any program speaking the protocol, run with `/bin/sh -c COMMAND`.
///
/// Python is `$GAUNTLET_PYTHON` if set, else the project's `.venv-env-server` (setup.sh makes it
/// with gymnasium and numpy), else `python3` on the PATH; the server script is
/// `$GAUNTLET_ENV_SERVER` or `python/gauntlet_env_server.py` beside the maps' `envs/` folder.
/// `$GAUNTLET_ENV_TIMEOUT` (seconds, default 60) limits each reply; `$GAUNTLET_ENV_TRANSPORT=pipes`
/// keeps frames on the pipes even where the server offers shared memory.
public enum ExternalEnvironments {
    public static let prefixes = ["gym:", "external:"]

    public static func handles(_ id: String) -> Bool { prefixes.contains { id.hasPrefix($0) } }

    /// Starts the environment process of `id` and wraps it in its own time limit.
    public static func make(_ id: String) throws(EnvironmentError) -> TimeLimit {
        let timeout =
            ProcessInfo.processInfo.environment["GAUNTLET_ENV_TIMEOUT"].flatMap(Double.init) ?? ExternalEnvironment.defaultTimeout
        let transport = try ProcessInfo.processInfo.environment["GAUNTLET_ENV_TRANSPORT"].map {
            (name) throws(EnvironmentError) in
            guard let transport = ExternalEnvironment.Transport(rawValue: name) else {
                throw EnvironmentError(
                    "GAUNTLET_ENV_TRANSPORT=\(name): expected one of \(ExternalEnvironment.Transport.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            return transport
        }
        let environment = try ExternalEnvironment(
            id: id, arguments: try arguments(for: id), timeout: timeout, transport: transport ?? .sharedMemory)
        return TimeLimit(environment, maxEpisodeSteps: environment.maxEpisodeSteps ?? Int.max)
    }

    /// The command that serves `id`.
    static func arguments(for id: String) throws(EnvironmentError) -> [String] {
        if id.hasPrefix("external:") {
            let command = String(id.dropFirst("external:".count))
            guard !command.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw EnvironmentError("'\(id)': give the command after 'external:' (external:\"python3 my_server.py\")")
            }
            return ["/bin/sh", "-c", command]
        }
        let rest = id.dropFirst("gym:".count)
        let name = String(rest.prefix { $0 != "?" })
        guard !name.isEmpty else { throw EnvironmentError("'\(id)': give a Gymnasium id after 'gym:' (gym:CartPole-v1)") }
        var kwargs: [String: Any] = [:]
        for pair in rest.drop(while: { $0 != "?" }).dropFirst().split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw EnvironmentError("'\(id)': '\(pair)' is not key=value (gym:ID?key=value&key=value)")
            }
            kwargs[parts[0]] =
                (try? JSONSerialization.jsonObject(with: Data(parts[1].utf8), options: .fragmentsAllowed)) ?? parts[1]
        }
        let json = String(decoding: try! JSONSerialization.data(withJSONObject: kwargs, options: .sortedKeys), as: UTF8.self)
        return [try python(), try serverScript(), "--id", name, "--kwargs", json]
    }

    /// Folders that may hold Gauntlet's `python/` and `.venv-env-server/`: the ones above the maps' `envs/`.
    static var roots: [URL] { Registry.mapDirectories.map { $0.deletingLastPathComponent() } }

    static func python() throws(EnvironmentError) -> String {
        if let python = ProcessInfo.processInfo.environment["GAUNTLET_PYTHON"] { return python }
        for root in roots {
            let candidate = root.appendingPathComponent(".venv-env-server/bin/python3").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw EnvironmentError("gym: environments need Python 3 with gymnasium and numpy: run ./setup.sh or set GAUNTLET_PYTHON")
    }

    static func serverScript() throws(EnvironmentError) -> String {
        if let script = ProcessInfo.processInfo.environment["GAUNTLET_ENV_SERVER"] { return script }
        for root in roots {
            let candidate = root.appendingPathComponent("python/gauntlet_env_server.py").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        throw EnvironmentError(
            "cannot find python/gauntlet_env_server.py (run from the repository or set GAUNTLET_ENV_SERVER to its path)")
    }
}

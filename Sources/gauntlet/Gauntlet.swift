import Agents
import ArgumentParser
import Attacks
import Defenses
import Foundation

@main
struct Gauntlet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gauntlet",
        abstract: "Adversarial attacks on the observations of reinforcement-learning agents.",
        discussion: """
            Exit codes: 0 success, 1 a check failed, 2 bad input (the message says what was wrong).
            """,
        version: Agents.Gauntlet.version,
        subcommands: [
            Env.self, Train.self, Evaluate.self, AttackCommand.self, Adversary.self, ReplayCommand.self, Explain.self,
            Transfer.self, OptimalAttackCommand.self, SweepCommand.self, Results.self, ReportCommand.self, PolicyCommand.self,
            DefendCommand.self, CertifyCommand.self, DetectCommand.self, Bench.self,
        ])

    /// Parses and runs the command. A usage error prints the subcommand's usage; an error from
    /// running it prints its message. Both are bad input (exit 2) unless the command threw an
    /// explicit exit code (1 for a failed check).
    static func main() {
        singleThreadedBLAS()
        var command: ParsableCommand
        do { command = try parseAsRoot() } catch {
            if exitCode(for: error) == .success { exit(withError: error) }  // --help, --version
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
        do { try command.run() } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch  where exitCode(for: error) == .success {
            exit(withError: error)  // `help <subcommand>` runs a command that throws its help
        } catch {
            let message = (error as? ValidationError)?.message ?? "\(error)"
            FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
            Foundation.exit(2)
        }
    }
}

/// OpenBLAS starts its worker threads when it loads, before any code of ours runs, and they
/// spin on the other cores even after `openblas_set_num_threads(1)`. Gauntlet parallelises
/// across episodes and sweep cells instead, so the first time through it sets
/// `OPENBLAS_NUM_THREADS=1` and re-executes itself; a user's own setting is left alone.
func singleThreadedBLAS() {
    guard ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil else { return }
    setenv("OPENBLAS_NUM_THREADS", "1", 1)
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/proc/self/exe"
    let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
    execv(executable, arguments)
    // Not reached unless exec failed; carry on with the threads OpenBLAS has.
}

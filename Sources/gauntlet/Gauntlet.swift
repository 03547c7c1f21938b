import Agents
import ArgumentParser
import Attacks
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
        subcommands: [Env.self, Train.self, Evaluate.self, AttackCommand.self, Adversary.self, ReplayCommand.self, Explain.self, Transfer.self, OptimalAttack.self, Bench.self])

    /// Parses and runs the command. A usage error prints the subcommand's usage; an error from
    /// running it prints its message. Both are bad input (exit 2) unless the command threw an
    /// explicit exit code (1 for a failed check).
    static func main() {
        AdversaryEnvironment.register()
        var command: ParsableCommand
        do { command = try parseAsRoot() } catch {
            if exitCode(for: error) == .success { exit(withError: error) }  // --help, --version
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
        do { try command.run() } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let message = (error as? ValidationError)?.message ?? "\(error)"
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            Foundation.exit(2)
        }
    }
}


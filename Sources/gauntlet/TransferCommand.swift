import Agents
import ArgumentParser
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet

struct Transfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Transfer matrix: PGD perturbations crafted on each policy applied to every other.")

    @Option(name: .customLong("policy"), help: "Policy file (repeat, at least two, same environment).") var policies: [String]
    @Option(help: "Environment id (default: the first policy's).") var env: String?
    @Option(parsing: .unconditional, help: "Perturbation budget ε (L∞, raw units).", transform: parseEpsilon) var eps: Double
    @Option(help: "PGD steps.") var steps = 10
    @Option(help: "Episodes per cell.") var episodes = 20
    @OptionGroup var seedOption: SeedOption
    @OptionGroup var format: JSONOption

    func validate() throws {
        guard policies.count >= 2 else { throw ValidationError("give at least two --policy files") }
        guard eps >= 0 && eps.isFinite else { throw ValidationError("--eps must be a finite number ≥ 0") }
        guard episodes > 0, steps > 0 else { throw ValidationError("--episodes and --steps must be positive") }
    }

    func run() throws {
        BLAS.setThreads(1)
        let loaded = try policies.map { path in (path, try loadPolicy(path)) }
        let environment = env ?? loaded[0].1.file.description.environment!
        let matrix: TransferMatrix
        do {
            matrix = try TransferMatrix.run(
                policies: loaded.map { ($0.0, $0.1.policy) }, environment: environment, epsilon: eps,
                episodes: episodes, seed: seedOption.seed, pgd: PGD(steps: steps))
        } catch let error as EnvironmentError {
            throw ValidationError(error.description)
        }
        if format.json { try printJSON(matrix) } else { print(matrix.table) }
    }
}

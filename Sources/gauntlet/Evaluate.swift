import Agents
import ArgumentParser
import Evaluation
import Foundation
import Linalg
import NeuralNet

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a policy for N episodes on seeds S, S+1, … and report its returns.",
        discussion: "Stochastic policies act by their mode unless --sample is given.")

    @Option(help: "Policy file (.safetensors).") var policy: String
    @Option(help: "Environment id (default: the policy's).") var env: String?
    @Option(help: "Episodes.") var episodes = 100
    @Option(help: "Seed of the first episode.") var seed: UInt64 = 0
    @Flag(help: "Sample actions from stochastic policies instead of taking the mode.") var sample = false
    @Option(help: "Numeric precision: f32 or f64.") var precision: Precision = .f32
    @Flag(help: "Print one JSON object on standard output.") var json = false

    func validate() throws {
        guard episodes > 0 && episodes <= 1_000_000 else { throw ValidationError("--episodes must lie in 1...1000000, got \(episodes)") }
    }

    struct Output: Encodable {
        var policy: String
        var environment: String
        var episodes: Int
        var seed: UInt64
        var selection: ActionSelection
        var precision: Precision
        var clean: ReturnSummary
        var lengths: [Int]
    }

    func run() throws {
        BLAS.setThreads(1)
        let (file, loaded) = try loadPolicy(policy)
        let environment = env ?? file.description.environment!
        let selection: ActionSelection = sample ? .sample : .mode
        let results: [EpisodeOutcome]
        do {
            switch precision {
            case .f32:
                results = try EpisodeRunner(policy: loaded, environment: environment, selection: selection).run(episodes: episodes, seed: seed)
            case .f64:
                results = try EpisodeRunner(policy: loaded.converted(to: Double.self), environment: environment, selection: selection)
                    .run(episodes: episodes, seed: seed)
            }
        } catch { throw ValidationError(error.description) }
        let summary = ReturnSummary(returns: results.map(\.episodeReturn), seed: seed)
        if json {
            try printJSON(Output(policy: policy, environment: environment, episodes: episodes, seed: seed, selection: selection,
                                 precision: precision, clean: summary, lengths: results.map(\.length)))
        } else {
            print(String(format: "%@ on %@, %d episodes from seed %llu (%@): mean return %.2f ± %.2f (std), 95%% CI [%.2f, %.2f], median %.2f",
                         policy, environment, episodes, seed, selection.rawValue, summary.meanReturn, summary.stdReturn,
                         summary.ci95[0], summary.ci95[1], summary.medianReturn))
        }
    }
}

/// Loads a policy file for a command; a bad file is a usage error (exit code 2).
func loadPolicy(_ path: String) throws -> (file: PolicyFile, policy: Policy<Float>) {
    do {
        let file = try PolicyFile.load(contentsOf: URL(fileURLWithPath: path))
        return (file, try Policy(file: file))
    } catch {
        throw ValidationError(error.description)
    }
}

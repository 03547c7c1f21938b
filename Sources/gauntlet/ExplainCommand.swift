import Agents
import ArgumentParser
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show which observation dimensions a recorded step's decision and attack used (gradient × input, perturbation).")

    @Argument(help: "Replay file.") var file: String
    @Option(help: "Episode index (0-based).") var episode = 0
    @Option(help: "Step index within the episode (0-based).") var step = 0
    @Option(help: "Policy file (default: the replay's).") var policy: String?
    @Option(help: "Write an SVG (environment frame + bars) to this file.") var svg: String?
    @Flag(help: "Print one JSON object on standard output.") var json = false

    func run() throws {
        BLAS.setThreads(1)
        let replay: Replay
        do { replay = try Replay.load(contentsOf: URL(fileURLWithPath: file)) } catch { throw ValidationError(error.description) }
        let (_, loaded) = try loadPolicy(policy ?? replay.header.policy)
        let saliency: Saliency
        do {
            saliency = try Saliency.at(replay, episode: episode, step: step, policy: loaded.converted(to: Double.self))
            if let svg {
                let frame = try Saliency.environment(replay, episode: episode, step: step).base.renderSVG()
                do { try saliency.svg(frame: frame).write(toFile: svg, atomically: true, encoding: .utf8) } catch {
                    throw ValidationError("--svg: cannot write \(svg): \(error.localizedDescription)")
                }
            }
        } catch let error as EnvironmentError {
            throw ValidationError(error.description)
        }
        if json { try printJSON(saliency); return }
        print("episode \(episode), step \(step): clean action \(saliency.cleanAction), taken \(saliency.action)")
        print("dim  observation   perturbation   gradient×input")
        for j in saliency.observation.indices {
            print(String(format: "%3d  %11.5f  %13.5f  %15.5f", j, saliency.observation[j], saliency.perturbation[j], saliency.gradientTimesInput[j]))
        }
    }
}

struct Transfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Transfer matrix: PGD perturbations crafted on each policy applied to every other.")

    @Option(name: .customLong("policy"), help: "Policy file (repeat, at least two, same environment).") var policies: [String]
    @Option(help: "Environment id (default: the first policy's).") var env: String?
    @Option(help: "Perturbation budget ε (L∞, raw units).") var eps: Double
    @Option(help: "PGD steps.") var steps = 10
    @Option(help: "Episodes per cell.") var episodes = 20
    @Option(help: "Seed of the first episode.") var seed: UInt64 = 0
    @Flag(help: "Print one JSON object on standard output.") var json = false

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
            matrix = try TransferMatrix.run(policies: loaded.map { ($0.0, $0.1.policy) }, environment: environment, epsilon: eps,
                                            episodes: episodes, seed: seed, pgd: PGD(steps: steps))
        } catch let error as EnvironmentError {
            throw ValidationError(error.description)
        }
        if json { try printJSON(matrix) } else { print(matrix.table) }
    }
}

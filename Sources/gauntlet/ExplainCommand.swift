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
        abstract: "Show which observation dimensions a recorded step's decision and attack used (gradient × input, perturbation)."
    )

    @Argument(help: "Replay file.") var file: String
    @Option(help: "Episode index (0-based).") var episode = 0
    @Option(help: "Step index within the episode (0-based).") var step = 0
    @Option(help: "Policy file (default: the replay's).") var policy: String?
    @Option(help: "Write an SVG (environment frame + bars, or heat maps for image observations) to this file.") var svg: String?
    @OptionGroup var format: JSONOption

    func run() throws {
        BLAS.setThreads(1)
        let replay: Replay
        do { replay = try Replay.load(contentsOf: URL(fileURLWithPath: file)) } catch { throw ValidationError(error.description) }
        let (_, loaded) = try loadPolicy(policy ?? replay.header.policy)
        let saliency: Saliency
        do {
            saliency = try Saliency.at(replay, episode: episode, step: step, policy: loaded.converted(to: Double.self))
            if let svg {
                let environment = try Saliency.environment(replay, episode: episode, step: step).base
                let image = (environment as? any ImageObservations)?.imageShape
                do {
                    try saliency.svg(frame: environment.renderSVG(), image: image).write(
                        toFile: svg, atomically: true, encoding: .utf8)
                } catch {
                    throw ValidationError("--svg: cannot write \(svg): \(error.localizedDescription)")
                }
                FileHandle.standardError.write(Data("wrote \(svg)\n".utf8))
            }
        } catch let error as EnvironmentError {
            throw ValidationError(error.description)
        }
        if format.json {
            try printJSON(saliency)
            return
        }
        print("episode \(episode), step \(step): clean action \(saliency.cleanAction), taken \(saliency.action)")
        print("dim  observation   perturbation   gradient×input")
        for j in saliency.observation.indices {
            print(
                String(
                    format: "%3d  %11.5f  %13.5f  %15.5f", j, saliency.observation[j], saliency.perturbation[j],
                    saliency.gradientTimesInput[j]))
        }
    }
}

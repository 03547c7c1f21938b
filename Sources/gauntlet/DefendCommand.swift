import Agents
import ArgumentParser
import Attacks
import Defenses
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet

struct DefendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "defend",
        abstract: "Wrap a policy in defenses — an ensemble, input transformations — and write the defended policy file.",
        discussion: """
            --member adds ensemble members (policy files of the same environment, kind and normalisation), combined by \
            --aggregation: mean, median, trimmed (with --trim), or vote (discrete actions). --transform adds input \
            transformations, applied in the order given, in front of the policy (and of the ensemble), with their \
            parameters and defaults:

            \(Toolkit.standard.defenseKinds.filter(\.isTransformation).map(\.helpLine).joined(separator: "\n"))

            Units are raw observation units, or with --units std each dimension's standard deviation on the clean \
            episodes. Attack the result like any policy; randomised defenses call for EOT (pgd:eot=16).
            """)

    @Option(help: "The policy to defend (the ensemble's first member).") var policy: String
    @Option(name: .customLong("member"), help: "A further ensemble member (repeatable).") var members: [String] = []
    @Option(help: "How the ensemble combines outputs: mean, median, trimmed or vote.") var aggregation = "mean"
    @Option(help: "Values trimmed from each end (--aggregation trimmed).") var trim: Int?
    @Option(name: .customLong("transform"), help: "An input transformation spec (repeatable, applied in order).") var transforms:
        [String] = []
    @Option(help: "Units of steps and σ: raw, std or normalized.") var units: ThreatModel.Units = .raw
    @Option(help: "Clean episodes measuring std and the clipping range.") var episodes = 20
    @Option(help: "Output policy file.") var output: String
    @OptionGroup var precision: PrecisionOption

    func validate() throws {
        guard !members.isEmpty || !transforms.isEmpty else {
            throw ValidationError("give --member or --transform: there is nothing to add")
        }
        guard (1...100_000).contains(episodes) else { throw ValidationError("--episodes must lie in 1...100000") }
    }

    func run() throws {
        BLAS.setThreads(1)
        let (file, _) = try loadPolicy(policy)
        let defended: Policy<Float>
        do {
            let assembly = DefenseAssembly(
                members: try members.map { try loadPolicy($0).file }, aggregation: try Aggregation(name: aggregation, trim: trim),
                transformations: transforms, units: units, episodes: episodes,
                precision: precision.precision)
            defended = try assembly.defend(file)
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("\(error)")
        }
        let d = file.description
        var provenance = d.provenance
        provenance["defended_from"] = policy
        let written = defended.file(environment: d.environment!, algorithm: d.algorithm ?? "", provenance: provenance)
        do { try written.write(to: URL(fileURLWithPath: output)) } catch { throw ValidationError(error.description) }
        print("wrote \(output): \(policy) with " + defended.defenses.map(\.spec).joined(separator: ", then "))
    }
}

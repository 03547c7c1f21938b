import Foundation
import Linalg
import NeuralNet

/// A run's `init_policy`: the policy in the file at `path`, checked to be a `kind` policy for
/// environment `id` whose network has exactly `network`'s modules — the weights a fine-tune
/// (RADIAL's protocol: a trained agent made robust) starts from.
func initialPolicy<Scalar: BLASScalar>(
    at path: String, kind: PolicyKind, environment id: String, network: Sequential<Scalar>
) throws(TrainingError) -> Policy<Float> {
    let file: PolicyFile
    let policy: Policy<Float>
    do {
        file = try PolicyFile.load(contentsOf: URL(fileURLWithPath: path))
        policy = try Policy(file: file)
    } catch { throw TrainingError("init_policy \(path): \(error.description)") }
    guard policy.kind == kind else {
        throw TrainingError("init_policy \(path): a \(policy.kind.rawValue) policy, but this run trains a \(kind.rawValue) one")
    }
    guard file.description.environment == id else {
        throw TrainingError("init_policy \(path): trained on \(file.description.environment ?? "?"), but this run is on \(id)")
    }
    try requireModules(of: policy.network, equalTo: network, "init_policy \(path): its network")
    return policy
}

/// Throws unless `stored` has exactly `network`'s modules (`what` names the stored one).
func requireModules<Scalar: BLASScalar>(of stored: Sequential<Float>, equalTo network: Sequential<Scalar>, _ what: String)
    throws(TrainingError)
{
    let expected = network.modules.map { $0.converted(to: Float.self) }
    guard stored.modules == expected else {
        func layers(_ modules: [Sequential<Float>.Module]) -> String { modules.map(\.name).joined(separator: " → ") }
        throw TrainingError("\(what) is \(layers(stored.modules)); this config's is \(layers(expected))")
    }
}

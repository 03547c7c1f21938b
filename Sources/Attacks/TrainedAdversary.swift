import Agents
import Foundation
import Linalg
import NeuralNet

/// A policy trained in an `adversary:` environment (`gauntlet adversary train`) with what its
/// training recorded in the policy file: the attack it serves (its environment's `kind`), the
/// units its ε was measured in, the victim's return while it trained, and the victim
/// environment steps it cost. The learned attacks (`learned`, `paad`) hold one.
struct TrainedAdversary: Sendable {
    let path: String
    /// The adversary in both precisions: an f64 evaluation computes its outputs in f64.
    let policies: PolicyInEitherPrecision
    /// The attack its environment trained it for (nil: not recorded, e.g. a file made by hand).
    let kind: AdversaryEnvironment.Kind?
    /// The units its ε was measured in while it trained (nil: not recorded); its outputs mean the
    /// same perturbations only in those units.
    let trainedUnits: ThreatModel.Units?
    /// The victim's mean return over the adversary's last 100 training episodes, at its training ε.
    let expectedEffect: ExpectedEffect?
    /// Victim environment steps its training took.
    let trainingSteps: Int?

    init(policy: Policy<Float>, path: String, file: PolicyFile? = nil) {
        self.path = path
        policies = PolicyInEitherPrecision(policy)
        let id = file?.description.environment.flatMap { $0.hasPrefix("adversary:") ? $0 : nil }
        let parameters = id.flatMap { try? AttackSpec(parsing: $0).parameters } ?? [:]
        kind = id.map { _ in parameters["kind"].flatMap(AdversaryEnvironment.Kind.init(rawValue:)) ?? .learned }
        trainedUnits = id.map { _ in parameters["units"] == "normalized" ? .normalized : .raw }
        trainingSteps = file?.description.provenance["steps"].flatMap { Int($0) }
        if let returnText = file?.description.provenance["training_mean_return_last_100"],
            let adversaryReturn = Double(returnText), adversaryReturn.isFinite,
            let epsilon = parameters["eps"].flatMap(Double.init)
        {
            expectedEffect = ExpectedEffect(
                epsilon: epsilon, attackedReturn: -adversaryReturn,
                source: "the victim's mean return over the last 100 episodes of \(path)'s training")
        } else {
            expectedEffect = nil
        }
    }

    /// The adversary at `path` for the attack named `attack`, which serves environments of `kind`:
    /// a discrete policy, or one trained for the other attack, is refused by name.
    static func load(_ path: String, for attack: String, kind: AdversaryEnvironment.Kind, context: AttackContext)
        throws(AttackError) -> TrainedAdversary
    {
        let policy: Policy<Float>
        do throws(PolicyFileError) { policy = try context.loadPolicy(path) } catch {
            throw AttackError("\(attack): adversary \(error.description)")
        }
        guard !policy.head.isDiscrete else {
            throw AttackError(
                "\(attack): \(path) is a \(policy.kind.rawValue) policy, not an adversary (train one with gauntlet adversary train\(kind == .paad ? " --kind paad" : ""))"
            )
        }
        let adversary = TrainedAdversary(
            policy: policy, path: path, file: try? PolicyFile.load(contentsOf: URL(fileURLWithPath: path)))
        if let trained = adversary.kind, trained != kind {
            throw AttackError(
                "\(attack): \(path) was trained for the '\(trained.rawValue)' attack (use --attack \(trained.rawValue):adversary=\(path))"
            )
        }
        return adversary
    }

    /// Refuses a threat model whose units differ from those the adversary trained in.
    func checkUnits(of threatModel: ThreatModel, attack: String) throws(AttackError) {
        if let trainedUnits, trainedUnits != threatModel.units {
            throw AttackError(
                "\(attack): \(path) was trained with ε in \(trainedUnits.rawValue) units; evaluate it with --eps-units \(trainedUnits.rawValue)"
            )
        }
    }

    /// Its training as the attack's preparation: the steps it cost, counted apart from queries.
    var preparation: AttackPreparation? {
        trainingSteps.map { AttackPreparation(environmentSteps: $0, choice: "the adversary trained in \(path)") }
    }
}

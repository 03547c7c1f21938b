import Environments
import Linalg
import NeuralNet

/// A training algorithm, advanced one natural unit at a time (DQN: `trainFrequency` environment
/// steps and their gradient steps; PPO: one rollout and its update; TD3: one collection and its
/// updates), so a driver can log, checkpoint and stop between units.
public protocol Learner<Scalar>: AnyObject {
    associatedtype Scalar: BLASScalar
    /// Environment steps taken (summed over vectorised copies).
    var steps: Int { get }
    var totalSteps: Int { get }
    /// Gradient updates so far.
    var updates: Int { get }
    var environment: VectorEnvironment { get }
    /// Losses and diagnostics of the last unit, with stable names (`losses/value_loss`).
    var diagnostics: [String: Double] { get }
    /// Runs one unit of training.
    func advance() throws(TrainingError)
    /// The current policy.
    func policy() -> Policy<Scalar>
    /// Writes everything needed to continue bit for bit.
    func writeCheckpoint(to checkpoint: inout CheckpointWriter)
    /// Policies learned besides the agent's (ATLA's adversary), by name; `victim` is the path
    /// the agent's policy is written to.
    func companionPolicies(victim: String) -> [String: PolicyFile]
}

extension Learner {
    public var isFinished: Bool { steps >= totalSteps }
    public func companionPolicies(victim: String) -> [String: PolicyFile] { [:] }
}

/// Training that cannot go on: a NaN or infinity where it first appeared, or a bad setting.
public struct TrainingError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension VectorEnvironment {
    /// `step(actions)`, failing when a copy's environment failed (an external process that died
    /// or broke the protocol).
    func stepForTraining(_ actions: [Action]) throws(TrainingError) {
        step(actions)
        if let failure { throw TrainingError("environment failed: \(failure.description)") }
    }
}

/// Throws if `values` holds a NaN or an infinity, naming what and when.
@inline(__always)
@_specialize(where S == Float)
@_specialize(where S == Double)
func checkFinite<S: BLASScalar>(_ values: [S], _ what: String, step: Int) throws(TrainingError) {
    guard !values.allFinite() else { return }
    for v in values where !v.isFinite {
        throw TrainingError("\(what) became \(v) at step \(step); training stopped before writing a poisoned checkpoint")
    }
}

/// Runs the restoring part of a learner's resume, turning whatever it throws into a
/// `TrainingError` that says the checkpoint cannot be used and why.
func restoring(_ body: () throws -> Void) throws(TrainingError) {
    do { try body() } catch let error as CheckpointError {
        throw TrainingError("cannot resume: \(error.description)")
    } catch let error as EnvironmentError {
        throw TrainingError("cannot resume: \(error.description)")
    } catch {
        throw TrainingError("cannot resume: \(error)")
    }
}

/// `target ← τ·online + (1 − τ)·target`, in SB3's operation order (exact copy at τ = 1).
@_specialize(where S == Float)
@_specialize(where S == Double)
public func polyakUpdate<S: BLASScalar>(_ target: inout [S], toward online: [S], tau: Double) {
    if tau == 1 {
        target = online
        return
    }
    let t = S(tau)
    let keep = S(1 - tau)
    for i in target.indices { target[i] = target[i] * keep + online[i] * t }
}

/// What the off-policy continuous-control learners (TD3/DDPG, SAC) start from: `copies` of
/// environment `id` auto-resetting in the same step (the final observation is the stored `s′`),
/// its action box and the named activation — or an error naming what is wrong.
func continuousControlSetUp(
    _ learner: String, environment id: String, copies: Int, activation name: String, registry: EnvironmentRegistry
) throws(TrainingError) -> (environment: VectorEnvironment, box: BoxSpace, activation: Activation) {
    let environment: VectorEnvironment
    do {
        environment = try VectorEnvironment(id: id, count: copies, autoresetMode: .sameStep, registry: registry)
    } catch {
        throw TrainingError(error.description)
    }
    guard case .box(let box) = environment.environments[0].base.actionSpace else {
        throw TrainingError(
            "\(learner) takes continuous actions; \(id) has \(environment.environments[0].base.actionSpace.description)")
    }
    guard let activation = Activation(name: name) else { throw TrainingError("unknown activation '\(name)'") }
    return (environment, box, activation)
}

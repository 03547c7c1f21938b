import Agents
import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

struct SB3Fixture: Codable {
    var environment: String
    var observations: [[Float]]
    var outputs: [[Float]]
    var values: [Float]?
    var actions: [ActionValue]

    enum ActionValue: Codable {
        case discrete(Int)
        case continuous([Float])
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let n = try? container.decode(Int.self) {
                self = .discrete(n)
            } else {
                self = .continuous(try container.decode([Float].self))
            }
        }
        func encode(to encoder: Encoder) throws {}
    }
}

/// The imported `file` computes what SB3 computed for the fixture's observations — outputs,
/// deterministic actions and values within 1e-5 — and survives being written and read back.
func expectMatches(_ file: PolicyFile, _ fixture: SB3Fixture, name: String) throws {
    let policy = try Policy(file: file)
    let observations = Matrix(
        rows: fixture.observations.count, columns: fixture.observations[0].count, storage: fixture.observations.flatMap { $0 })
    let outputs = policy.outputs(observations)
    for (r, expected) in fixture.outputs.enumerated() {
        for (j, value) in expected.enumerated() {
            #expect(abs(outputs[r, j] - value) <= 1e-5 * max(1, abs(value)), "\(name) output [\(r), \(j)]")
        }
    }
    for (action, expected) in zip(policy.actions(observations), fixture.actions) {
        switch (action, expected) {
        case (.discrete(let a), .discrete(let b)): #expect(a == b, "\(name)")
        case (.continuous(let a), .continuous(let b)):
            for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-5, "\(name) action \(a) vs \(b)") }
        default: Issue.record("\(name): action kinds differ")
        }
    }
    if let values = fixture.values {
        let critic = try #require(policy.valueAndInputGradient(observations))
        for (value, expected) in zip(critic.values, values) {
            #expect(abs(value - Double(expected)) <= 1e-5 * max(1, abs(Double(expected))), "\(name) value")
        }
    }
    let written = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID()).safetensors")
    defer { try? FileManager.default.removeItem(at: written) }
    try file.write(to: written)
    #expect(try PolicyFile.load(contentsOf: written).safetensors == file.safetensors)
}

/// Real model zips written by Stable-Baselines3 (`Tests/Fixtures/make_sb3_fixtures.py`) import
/// without Python and compute what SB3's torch modules computed.
@Suite struct StableBaselines3ImportTests {
    static let fixtures: [String: SB3Fixture] = (try? loadFixture("sb3_models.json")) ?? [:]

    @Test(arguments: [
        "sb3_dqn_cartpole", "sb3_ppo_cartpole", "sb3_ppo_pendulum", "sb3_td3_pendulum", "sb3_sac_mountaincarcontinuous",
    ])
    func importedModelMatchesStableBaselines3(name: String) throws {
        let fixture = try #require(Self.fixtures[name])
        let url = fixtureURL(name + ".zip")
        #expect(try PolicyImport.isStableBaselines3Model(at: url))
        let file = try StableBaselines3Model(contentsOf: url).policyFile(environment: fixture.environment, source: url)
        try expectMatches(file, fixture, name: name)
        let policy = try Policy(file: file)
        let written = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: written) }
        // Exported as a plain state dict and imported again with the same kind: the same actor.
        try PolicyImport.stateDict(of: file).write(to: written)
        let activation = try #require(
            file.network.modules.compactMap { if case .activation(let a) = $0 { a } else { nil } }.first)
        let reimported = try PolicyImport.stateDict(
            at: written, environment: fixture.environment, kind: policy.kind, activation: activation)
        #expect(reimported.network == file.network, "\(name)")
    }

    @Test func refusesAMismatchedEnvironmentOrArchitecture() throws {
        let url = fixtureURL("sb3_dqn_cartpole.zip")
        let model = try StableBaselines3Model(contentsOf: url)
        #expect(model.family == "dqn" && model.activation == nil && model.version == "2.9.2")
        #expect(throws: PolicyFileError.self) { try model.policyFile(environment: "Acrobot-v1", source: url) }
        var changed = model
        changed.netArch = .array([.number(32), .number(32)])
        #expect(
            throws: PolicyFileError(
                "\(url.path): net_arch says the policy's hidden layers are [32, 32], the tensors have [16, 16]")
        ) {
            try changed.policyFile(environment: "CartPole-v1", source: url)
        }
        // A zip that is not a model: the torch.save state dict.
        #expect(throws: PolicyFileError.self) { try StableBaselines3Model(contentsOf: fixtureURL("torch_state_dict.pth")) }
    }

    struct MuJoCoFixture: Codable {
        var environment: String
        var observations: [[Double]]
        var normalizedObservations: [[Float]]
        var actions: [[Float]]
        enum CodingKeys: String, CodingKey {
            case environment, observations, actions
            case normalizedObservations = "normalized_observations"
        }
    }

    /// SB3 MuJoCo models (`make_sb3_mujoco_fixtures.py`), imported with the statistics of the
    /// `VecNormalize` they trained in, act on raw observations as SB3's `predict` acts on the
    /// observations the wrapper normalised (the last observation lies far outside the statistics,
    /// so the clip at ±clip_obs matters).
    @Test(arguments: ["sb3_ppo_hopper", "sb3_sac_halfcheetah", "sb3_td3_walker2d"])
    func mujocoModelsImportWithTheirVecNormalizeStatistics(name: String) throws {
        let fixtures: [String: MuJoCoFixture] = try loadFixture("sb3_mujoco_models.json")
        let fixture = try #require(fixtures[name])
        let statistics = try VecNormalizeStatistics(contentsOf: fixtureURL(name + "_vecnormalize.pkl"))
        #expect(statistics.clip == 10 && statistics.epsilon == 1e-8 && statistics.normalizesObservations)
        let url = fixtureURL(name + ".zip")
        let file = try StableBaselines3Model(contentsOf: url).policyFile(
            environment: fixture.environment, normalization: statistics.normalization, source: url)
        let policy = try Policy(file: file)
        let raw = Matrix(
            rows: fixture.observations.count, columns: fixture.observations[0].count,
            storage: fixture.observations.flatMap { $0.map(Float.init) })
        let normalized = policy.scaled(raw)
        for (r, row) in fixture.normalizedObservations.enumerated() {
            for (j, value) in row.enumerated() {
                #expect(abs(normalized[r, j] - value) <= 1e-5 * max(1, abs(value)), "\(name) normalised [\(r), \(j)]")
            }
        }
        #expect(fixture.normalizedObservations.last!.contains(10) || fixture.normalizedObservations.last!.contains(-10))
        for (action, expected) in zip(policy.actions(raw), fixture.actions) {
            guard case .continuous(let values) = action else {
                Issue.record("\(name): a discrete action")
                continue
            }
            for (x, y) in zip(values, expected) { #expect(abs(x - y) <= 1e-5, "\(name) action \(values) vs \(expected)") }
        }
    }

    /// The statistics reader calls nothing: a pickle naming any other global is refused by name,
    /// and a pickle that is not a VecNormalize is refused.
    @Test func vecNormalizeReaderRefusesOtherPickles() throws {
        func rejection(_ bytes: [UInt8]) -> String {
            do {
                _ = try VecNormalizeStatistics(pickle: bytes)
                return ""
            } catch { return error.description }
        }
        #expect(rejection([0x80, 0x02] + Array("cos\nsystem\n".utf8) + [0x2E]).contains("'os.system' is not allowed"))
        #expect(rejection([0x80, 0x02, 0x7D, 0x2E]).contains("not a VecNormalize"))
        var bytes = [UInt8](try Data(contentsOf: fixtureURL("sb3_ppo_hopper_vecnormalize.pkl")))
        let module = Array("stable_baselines3.common.running_mean_std".utf8)
        let start = try #require(bytes.firstRange(of: module))
        bytes.replaceSubrange(start, with: Array("stable_baselines3.common.running_mean_sys".utf8))
        #expect(rejection(bytes).contains("'stable_baselines3.common.running_mean_sys.RunningMeanStd' is not allowed"))
    }
}

import Agents
import Environments
import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

/// SB3 `CnnPolicy` models (DQN and PPO with NatureCNN, `Tests/Fixtures/make_sb3_cnn_fixtures.py`)
/// import without Python and compute, on the uint8 frames SB3's frame stack gave, what SB3's
/// torch modules computed after their division by 255.
@Suite struct StableBaselines3CnnImportTests {
    /// The fixtures' game with four frames stacked channels first, served by the shipped
    /// bridge from `Tests/Fixtures/bridge_entry_point.py`.
    static var framesEnvironment: String {
        let fixtures = fixtureURL("").path
        let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent().path
        return
            "external:env PYTHONPATH=\(fixtures) \(root)/.venv-env-server/bin/python3 \(root)/python/gauntlet_env_server.py --entry-point bridge_entry_point:make_frames"
    }

    @Test(arguments: ["sb3_dqn_frames", "sb3_ppo_frames"])
    func cnnModelMatchesStableBaselines3(name: String) throws {
        let fixtures: [String: SB3Fixture] = try loadFixture("sb3_cnn_models.json")
        let fixture = try #require(fixtures[name])
        let url = fixtureURL(name + ".zip")
        let model = try StableBaselines3Model(contentsOf: url)
        #expect(model.scalesImages && model.observationShape == [4, 36, 36])
        let file = try model.policyFile(environment: Self.framesEnvironment, source: url)
        #expect(
            file.network.modules.map(\.name) == [
                "Conv2d(4, 32, kernel_size=8, stride=4, padding=0)", "relu", "Conv2d(32, 64, kernel_size=4, stride=2, padding=0)",
                "relu", "Conv2d(64, 64, kernel_size=3, stride=1, padding=0)", "relu", "Flatten", "Linear(64, 32)", "relu",
                "Linear(32, 3)",
            ])
        // The frames differ from step to step, so the rows are not one input repeated.
        #expect(Set(fixture.observations).count == fixture.observations.count)
        try expectMatches(file, fixture, name: name)
    }

    /// Statistics besides SB3's own division by 255, or a TD3/SAC model with a CNN, are refused
    /// with what is wrong.
    @Test func refusesWhatItCannotRepresent() throws {
        let url = fixtureURL("sb3_dqn_frames.zip")
        let model = try StableBaselines3Model(contentsOf: url)
        let statistics = PolicyDescription.Normalization(
            mean: Array(repeating: 0, count: 5184), std: Array(repeating: 1, count: 5184))
        #expect(
            throws: PolicyFileError(
                "\(url.path): SB3 divides this model's image observations by 255 (normalize_images); observation statistics cannot be given as well"
            )
        ) { try model.policyFile(environment: Self.framesEnvironment, normalization: statistics, source: url) }
        var changed = model
        changed.family = "sac"
        #expect(
            throws: PolicyFileError(
                "\(url.path): SAC with a CNN feature extractor is not supported (its critic joins image features and actions, which a Sequential cannot); DQN and PPO/A2C CnnPolicy models are"
            )
        ) { try changed.policyFile(environment: Self.framesEnvironment, source: url) }
        changed = model
        changed.observationShape = [4, 30, 30]
        #expect(throws: PolicyFileError.self) { try changed.policyFile(environment: Self.framesEnvironment, source: url) }
    }
}

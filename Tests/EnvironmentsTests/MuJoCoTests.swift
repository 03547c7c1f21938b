import Environments
import Foundation
import FoundationXML
import Linalg
import TestSupport
import Testing

@Suite struct MuJoCoTests {
    /// A snapshot holds everything the next steps depend on (the solver's warm start too): a
    /// restored copy continues bit for bit, in a fresh simulation.
    @Test(arguments: Registry.mujoco.map(\.id))
    func snapshotsContinueBitForBit(_ id: String) throws {
        let env = try Registry.make(id)
        env.reset(seed: 3)
        let random = RandomStream(seed: 4)
        let actions = (0..<80).map { _ in env.base.actionSpace.sample(random) }
        for action in actions.prefix(30) { _ = env.base.step(action) }
        let snapshot = env.base.snapshot
        let observationAtSnapshot = env.base.observation
        let original = actions.dropFirst(30).map { env.base.step($0) }
        let copy = try Registry.make(id)
        copy.reset(seed: 99)
        try copy.base.restore(snapshot)
        #expect(copy.base.observation == observationAtSnapshot)
        let replayed = actions.dropFirst(30).map { copy.base.step($0) }
        #expect(original == replayed)
        let simulation = (env.base as! any MuJoCoEnvironment).simulation
        #expect(snapshot.values.count == env.base.stateLabels.count + simulation.nv + simulation.readingsCount)
        #expect { try copy.base.restore(EnvironmentSnapshot(values: [1, 2], random: snapshot.random)) } throws: {
            "\($0)".contains("a snapshot holds")
        }
    }

    /// Resets perturb the model's initial state by at most the reset noise scale, and a seed
    /// repeats its draw.
    /// The wrapper-overhead benchmark times the same physics on both sides: the bare replay of
    /// Hopper's controls and reset states ends where the environment ended, across episodes
    /// (random actions topple it within a few dozen steps) and chunk boundaries.
    @Test func theOverheadBenchmarkReplaysTheEnvironmentsPhysics() throws {
        let result = try MuJoCoBenchmark(environment: "Hopper-v5", steps: 700, repeats: 2, chunk: 64).run()
        #expect(result.replayMatches && result.resets > 5)
        #expect(result.environmentSeconds.samples.count == 2 && result.overhead.isFinite)
    }

    @Test func resetsDrawAroundTheInitialState() throws {
        for (id, scale) in [("Hopper-v5", 5e-3), ("InvertedPendulum-v5", 0.01)] {
            let env = try Registry.make(id).base as! any MuJoCoEnvironment
            env.reset(seed: 7)
            let first = env.state
            let initial = env.simulation.initialPositions + env.simulation.initialVelocities
            #expect(zip(first, initial).allSatisfy { abs($0 - $1) <= scale } && first != initial, "\(id)")
            env.reset(seed: 7)
            #expect(env.state == first)
            env.reset(seed: 8)
            #expect(env.state != first)
        }
        // Reacher's target lands in the disc of radius 0.2 and starts at rest.
        let reacher = try Registry.make("Reacher-v5").base
        for seed in 0..<50 {
            reacher.reset(seed: UInt64(seed))
            let s = reacher.state
            #expect((s[2] * s[2] + s[3] * s[3]).squareRoot() < 0.2 && s[6] == 0 && s[7] == 0)
        }
    }

    /// The state can be given as {"qpos", "qvel"} to a rollout; the result is that of setting
    /// qpos followed by qvel.
    @Test func rolloutsTakeQposAndQvel() throws {
        let qpos = [0.1, 1.2, 0.05, -0.1, -0.2, 0.1]
        let qvel = [0.5, 0.0, -0.3, 0.2, 0.1, -0.4]
        let json = """
            {"env": "Hopper-v5", "state": {"qpos": \(qpos), "qvel": \(qvel)}, "actions": [[0.5, -0.5, 0.2], [1, 1, 1]]}
            """
        let rollout = try Rollout(json: Data(json.utf8)).run()
        let env = try Registry.make("Hopper-v5")
        env.reset(seed: 0)
        try env.base.setState(qpos + qvel)
        #expect(rollout.initialObservation == env.base.observation)
        #expect(
            rollout.steps.map(\.observation) == [[0.5, -0.5, 0.2], [1, 1, 1]].map { env.step(.continuous($0)).observation })
        #expect { try Rollout(json: Data(#"{"env": "Hopper-v5", "state": {"qpos": [0]}, "actions": []}"#.utf8)) } throws: {
            "\($0)".contains(#"must be {"qpos": [numbers], "qvel": [numbers]}"#)
        }
        #expect {
            try Rollout(json: Data(#"{"env": "Hopper-v5", "state": {"qpos": [0], "qvel": [0]}, "actions": []}"#.utf8)).run()
        } throws: { "\($0)".contains("state must have 12 values") }
    }

    /// The side view draws every capsule of the model and the ground; it follows the torso.
    @Test func picturesShowEveryGeom() throws {
        let env = try Registry.make("Hopper-v5")
        env.reset(seed: 0)
        let svg = env.base.renderSVG()
        #expect(XMLParser(data: Data(svg.utf8)).parse())
        #expect(svg.components(separatedBy: "<line").count - 1 == 5)  // the floor and four capsules
        try env.base.setState([3, 1.25, 0, 0, 0, 0] + Array(repeating: 0, count: 6))
        #expect(env.base.renderSVG().contains("x 3.00 m"))
    }

    @Test func missingModelsAreClearErrors() {
        #expect { try MuJoCoSimulation(modelFile: "no-such-model.xml") } throws: {
            "\($0)".contains("cannot find the MuJoCo model no-such-model.xml")
        }
    }
}

import Environments
import Linalg
import TestSupport
import Testing

@Suite struct ClassicControlTests {
    /// Reset distributions: Gymnasium's bounds, filled out (min and max near the bounds), and
    /// the same seed giving the same state.
    @Test func resetDistributions() throws {
        let expected: [String: [ClosedRange<Double>]] = [
            "CartPole-v1": Array(repeating: -0.05...0.05, count: 4),
            "MountainCar-v0": [-0.6...(-0.4), 0...0],
            "MountainCarContinuous-v0": [-0.6...(-0.4), 0...0],
            "Acrobot-v1": Array(repeating: -0.1...0.1, count: 4),
            "Pendulum-v1": [-Double.pi...Double.pi, -1...1],
        ]
        for (id, ranges) in expected {
            let env = try Registry.make(id)
            var states: [[Double]] = []
            for seed in 0..<2000 {
                env.reset(seed: UInt64(seed))
                states.append(env.base.state)
            }
            for (j, range) in ranges.enumerated() {
                let column = states.map { $0[j] }
                #expect(column.allSatisfy { range.contains($0) }, "\(id) state \(j)")
                let width = range.upperBound - range.lowerBound
                #expect(column.min()! <= range.lowerBound + 0.01 * width && column.max()! >= range.upperBound - 0.01 * width)
            }
            env.reset(seed: 7)
            let first = env.base.state
            env.reset(seed: 7)
            #expect(env.base.state == first)
        }
    }

    @Test func stateRoundTripsAndValidates() throws {
        for entry in Registry.classicControl {
            let env = entry.make()
            env.reset(seed: 3)
            let saved = env.state
            let action: Action = env.actionSpace.actionCount != nil ? .discrete(0) : .continuous([0.3])
            let first = env.step(action)
            try env.setState(saved)
            #expect(env.step(action).observation == first.observation)
            #expect(throws: EnvironmentError.self) { try env.setState(saved + [0]) }
            #expect(throws: EnvironmentError.self) { try env.setState(saved.map { _ in Double.nan }) }
            #expect(env.stateLabels.count == saved.count)
        }
    }

    /// A hand-set state far outside the usual range (found by the rollout fuzz target, where
    /// Acrobot's angle wrapping looped forever) steps in bounded time to finite observations.
    @Test func hugeStatesStepInBoundedTime() throws {
        for entry in Registry.classicControl {
            let env = entry.make()
            env.reset(seed: 1)
            try env.setState(env.state.map { _ in 9.2e19 })
            let action: Action = env.actionSpace.actionCount != nil ? .discrete(0) : .continuous([0.3])
            for _ in 0..<3 { _ = env.step(action) }
        }
        let acrobot = try Registry.make("Acrobot-v1")
        _ = acrobot.reset(seed: 1)
        try acrobot.base.setState([0, 92_233_720_368_547_758_080, 0, 0])
        let result = acrobot.step(.discrete(2))
        #expect(result.observation.allSatisfy { $0.isFinite })
    }

    @Test func actionValidity() {
        #expect(ActionSpace.discrete(2).isValid(.discrete(1)) && !ActionSpace.discrete(2).isValid(.discrete(2)))
        #expect(!ActionSpace.discrete(2).isValid(.continuous([0])))
        let box = ActionSpace.box(BoxSpace(symmetric: [2]))
        #expect(box.isValid(.continuous([5])) && !box.isValid(.continuous([1, 2])) && !box.isValid(.continuous([.nan])))
    }

    @Test func everyEnvironmentRendersAnSVGFrame() throws {
        for id in Registry.classicControl.map(\.id) + Registry.mujoco.map(\.id) {
            let env = try Registry.make(id)
            env.reset(seed: 0)
            let svg = env.base.renderSVG()
            #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n") && svg.contains("<line"), "\(id)")
        }
    }

    /// The random policy's return: MountainCar never reaches the flag at random (−200 every
    /// episode), CartPole's random episodes last ≈ 22 steps (Gymnasium's well-known figure),
    /// Pendulum's cost ≈ 1200; the same seed repeats it exactly.
    @Test func randomPolicyReturns() throws {
        #expect(try Registry.make("MountainCar-v0").randomPolicyReturn() == -200)
        let cartPole = try Registry.make("CartPole-v1").randomPolicyReturn()
        #expect((18...27).contains(cartPole), "\(cartPole)")
        #expect(try Registry.make("CartPole-v1").randomPolicyReturn() == cartPole)
        #expect(try Registry.make("CartPole-v1").randomPolicyReturn(seed: 1) != cartPole)
        let pendulum = try Registry.make("Pendulum-v1").randomPolicyReturn(episodes: 20)
        #expect((-1500 ... -900).contains(pendulum), "\(pendulum)")
    }

    @Test func unknownIdsAreClearErrors() {
        #expect { try Registry.make("CartPole-v0") } throws: {
            ($0 as! EnvironmentError).description.contains("unknown environment 'CartPole-v0'")
        }
        #expect { try Registry.make("grid:no-such-map") } throws: {
            ($0 as! EnvironmentError).description.contains("no map 'no-such-map.txt'")
        }
        #expect { try Registry.make("grid:maze:sideways") } throws: {
            ($0 as! EnvironmentError).description.contains("unknown observation mode 'sideways'")
        }
    }
}

import Environments
import Foundation
import TestSupport
import Testing

private let mapsDirectory = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("envs")

private func shippedMap(_ name: String) throws -> GridMap {
    try GridMap.load(contentsOf: mapsDirectory.appendingPathComponent("\(name).txt"))
}

private func expectMapError(_ text: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try GridMap(parsing: text, file: "bad.txt")
        Issue.record("accepted a malformed map (expected '\(expected)')", sourceLocation: sourceLocation)
    } catch {
        #expect(error.description.hasPrefix(expected), "\(error.description)", sourceLocation: sourceLocation)
    }
}

/// Shortest path lengths from `start` over non-wall cells, entering terminal cells but not
/// leaving them (breadth-first search: an algorithm independent of value iteration).
private func distances(_ map: GridMap, from start: (Int, Int)) -> [[Int?]] {
    var distance = Array(repeating: [Int?](repeating: nil, count: map.columns), count: map.rows)
    distance[start.0][start.1] = 0
    var queue = [start]
    var head = 0
    while head < queue.count {
        let (r, c) = queue[head]
        head += 1
        if map.cells[r][c].isTerminal { continue }
        for (dr, dc) in [(-1, 0), (1, 0), (0, -1), (0, 1)]
        where map.cell(r + dr, c + dc) != .wall && distance[r + dr][c + dc] == nil {
            distance[r + dr][c + dc] = distance[r][c]! + 1
            queue.append((r + dr, c + dc))
        }
    }
    return distance
}

@Suite struct GridWorldTests {
    static let shipped = ["open-room", "lava-corridor", "four-rooms", "maze", "two-goals", "windy", "slippery-lake"]

    @Test(arguments: shipped)
    func shippedMapsParseAndTheirGoalIsReachable(_ name: String) throws {
        let map = try shippedMap(name)
        #expect(map.name == name)
        let world = GridWorld(map: map)
        let values = world.model.optimalValues(discount: 1, horizon: map.stepLimit)
        #expect(values[world.tabularState] > 0, "\(name): goal not worth reaching from the start")
        for s in 0..<world.model.stateCount where !world.model.isTerminal[s] {
            for a in 0..<4 {
                #expect(abs(world.model.outcomes[s][a].reduce(0) { $0 + $1.probability } - 1) < 1e-12)
            }
        }
    }

    /// On deterministic maps without wind, value iteration's optimal value from the start equals
    /// `goal_reward + (d − 1)·step_reward` with d the breadth-first distance to the goal.
    @Test(arguments: ["open-room", "lava-corridor", "four-rooms", "maze"])
    func valueIterationAgreesWithShortestPaths(_ name: String) throws {
        let map = try shippedMap(name)
        let world = GridWorld(map: map)
        let distance = distances(map, from: (map.startRow, map.startColumn))
        var best = -Double.infinity
        for r in 0..<map.rows {
            for c in 0..<map.columns where map.cells[r][c] == .goal {
                if let d = distance[r][c] { best = max(best, map.goalReward + Double(d - 1) * map.stepReward) }
            }
        }
        let values = world.model.optimalValues(discount: 1)
        #expect(
            abs(values[world.tabularState] - best) < 1e-9,
            "\(name): value iteration \(values[world.tabularState]), shortest path \(best)")
    }

    @Test func lavaEndsTheEpisodeWithItsReward() throws {
        let env = TimeLimit(GridWorld(map: try shippedMap("lava-corridor")), maxEpisodeSteps: 100)
        env.reset(seed: 0)
        let result = env.step(.discrete(3))  // right, into the lava
        #expect(result.terminated && result.reward == -1)
    }

    @Test func windPushesAfterTheMove() throws {
        let world = GridWorld(map: try shippedMap("windy"))
        try world.setState([4, 4])  // on a wind column
        _ = world.advance(.discrete(3))  // right to (4, 5), pushed up to (3, 5)
        #expect(world.state == [3, 5])
        try world.setState([1, 5])
        _ = world.advance(.discrete(2))  // left to (1, 4); the push up is blocked by the wall
        #expect(world.state == [1, 4])
    }

    /// Stepping follows the model: on deterministic maps exactly, on the slippery map in
    /// frequency (within 5 standard errors).
    @Test func steppingFollowsTheTabularModel() throws {
        for name in ["four-rooms", "windy", "two-goals"] {
            let world = GridWorld(map: try shippedMap(name))
            for s in 0..<world.model.stateCount where !world.model.isTerminal[s] {
                for a in 0..<4 {
                    world.setTabularState(s)
                    let (reward, terminated) = world.advance(.discrete(a))
                    let expected = try #require(world.model.outcomes[s][a].first)
                    #expect(world.model.outcomes[s][a].count == 1)
                    #expect(
                        world.tabularState == expected.nextState && reward == expected.reward && terminated == expected.terminated
                    )
                }
            }
        }
        let world = GridWorld(map: try shippedMap("slippery-lake"))
        world.reset(seed: 3)
        let trials = 20_000
        for (s, a) in [(0, 3), (0, 1), (6, 0)] {
            #expect(!world.model.isTerminal[s])
            var counts: [Int: Int] = [:]
            for _ in 0..<trials {
                world.setTabularState(s)
                _ = world.advance(.discrete(a))
                counts[world.tabularState, default: 0] += 1
            }
            for outcome in world.model.outcomes[s][a] {
                let p = outcome.probability
                let sigma = (Double(trials) * p * (1 - p)).squareRoot()
                #expect(abs(Double(counts[outcome.nextState] ?? 0) - Double(trials) * p) <= 5 * sigma + 1)
            }
            #expect(Set(counts.keys) == Set(world.model.outcomes[s][a].map(\.nextState)))
        }
    }

    @Test func stepsAfterTerminationStayPut() throws {
        let world = GridWorld(map: try shippedMap("slippery-lake"))
        world.setTabularState(5)
        #expect(world.model.isTerminal[5])
        let (reward, terminated) = world.advance(.discrete(0))
        #expect(reward == 0 && terminated && world.tabularState == 5)
    }

    @Test func observationModes() throws {
        let map = try shippedMap("four-rooms")
        let coordinates = GridWorld(map: map)
        coordinates.reset(seed: 0)
        #expect(coordinates.observation == [Float(1) / 12, Float(1) / 12])
        let oneHot = GridWorld(map: map, observation: .oneHot)
        oneHot.reset(seed: 0)
        #expect(oneHot.observation.count == oneHot.cells.count && oneHot.observation.reduce(0, +) == 1)
        #expect(oneHot.observation[oneHot.tabularState] == 1)
        let local = GridWorld(map: map, observation: .localView(size: 3))
        local.reset(seed: 0)
        // Start (1, 1): walls above and to the left, floor elsewhere.
        #expect(local.observation == [0.2, 0.2, 0.2, 0.2, 0, 0, 0.2, 0, 0])
        for world in [coordinates, oneHot, local] { #expect(world.observationSpace.contains(world.observation)) }
    }

    @Test func renderingShowsTheAgent() throws {
        let world = GridWorld(map: try shippedMap("open-room"))
        world.reset(seed: 0)
        #expect(world.renderASCII().split(separator: "\n")[1] == "#A......#")
        let svg = world.renderSVG()
        #expect(svg.hasPrefix("<svg") && svg.contains("<circle"))
    }

    @Test func malformedMapsNameFileLineAndColumn() {
        let header = "name: t\n---\n"
        expectMapError("name: t\n#####\n#SG.#\n", "bad.txt:1:1: missing the line '---'")
        expectMapError(header + "####\n#SxG#\n", "bad.txt:4:3: unknown cell 'x'")
        expectMapError(header + "#####\n#SG#\n", "bad.txt:4:5: row has 4 cells but the first row has 5")
        expectMapError(header + "#####\n#SGS#\n", "bad.txt:4:4: a second start 'S'")
        expectMapError(header + "#####\n#.G.#\n", "bad.txt:3:1: the grid has no start")
        expectMapError(header + "#####\n#S..#\n", "bad.txt:3:1: the grid has no goal")
        expectMapError(header, "bad.txt:3:1: the grid is empty")
        expectMapError("name: t\nsize: 3\n---\n#SG#\n", "bad.txt:2:1: unknown header key 'size'")
        expectMapError("name: t\nslip:   lots\n---\n#SG#\n", "bad.txt:2:9: 'slip' must be a finite number, got 'lots'")
        expectMapError("slip: 1.5\n---\n#SG#\n", "bad.txt:1:7: 'slip' must lie in [0, 1]")
        expectMapError("step_limit: 0\n---\n#SG#\n", "bad.txt:1:13: 'step_limit' must be an integer")
        expectMapError("name t\n---\n#SG#\n", "bad.txt:1:1: expected 'key: value'")
        expectMapError("name: a\nname: b\n---\n#SG#\n", "bad.txt:2:1: header key 'name' given twice")
        let huge = "---\n" + String(repeating: ".", count: 1001) + "\n" + String(repeating: "x\n", count: 1000)
        expectMapError(huge, "bad.txt:2:1: a 1001 × 1001 grid exceeds the limit")
    }

    @Test func statesOutsideTheMapAreRejected() throws {
        let world = GridWorld(map: try shippedMap("open-room"))
        #expect(throws: EnvironmentError.self) { try world.setState([0, 0]) }  // a wall
        #expect(throws: EnvironmentError.self) { try world.setState([1.5, 1]) }
        #expect(throws: EnvironmentError.self) { try world.setState([100, 1]) }
        #expect(throws: EnvironmentError.self) { try world.setState([1]) }
    }
}

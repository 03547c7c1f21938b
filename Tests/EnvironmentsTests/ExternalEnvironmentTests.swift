import Foundation
import Linalg
import TestSupport
import Testing

@testable import Environments

/// Environments in another process (python/PROTOCOL.md): Gymnasium's CartPole and Pendulum
/// through the bridge step exactly as Gauntlet's native versions from the same states; every
/// fault of a server is an error naming the environment and the step, never a hang, and no
/// process is left behind.
@Suite struct ExternalEnvironmentTests {
    /// The fault-injecting server (standard library only), offering shared memory or not.
    static func fake(_ mode: String, step: Int = 3, timeout: Double = 5, transport: ExternalEnvironment.Transport = .pipes)
        throws(EnvironmentError) -> ExternalEnvironment
    {
        try ExternalEnvironment(
            id: "external:fake \(mode)",
            arguments: ["/usr/bin/env", "python3", fixtureURL("fake_env_server.py").path, mode, "\(step)", transport.rawValue],
            timeout: timeout, transport: transport)
    }

    /// The transport an environment gets when it asks for `transport` from a server that offers
    /// shared memory: on one CPU, the pipes.
    static func expected(_ transport: ExternalEnvironment.Transport) -> ExternalEnvironment.Transport {
        SharedFrames.oneCPU ? .pipes : transport
    }

    /// Whether a process id still names a process (a zombie would).
    static func exists(_ pid: Int32) -> Bool { FileManager.default.fileExists(atPath: "/proc/\(pid)") }

    @Test(arguments: ExternalEnvironment.Transport.allCases)
    func aWellBehavedServerSteps(transport: ExternalEnvironment.Transport) throws {
        let env = try Self.fake("ok", transport: transport)
        #expect(env.transport == Self.expected(transport))
        #expect(env.observationSpace.dimension == 1 && env.actionSpace == .discrete(2) && env.maxEpisodeSteps == 20)
        let limited = TimeLimit(env, maxEpisodeSteps: 20)
        #expect(limited.reset(seed: 1) == [0])
        var returns = 0.0
        for k in 1...5 {
            let step = limited.step(.discrete(1))
            returns += step.reward
            #expect(step.observation == [Float(k)] && step.terminated == (k == 5))
        }
        #expect(returns == 5 && env.failure == nil && env.state.isEmpty)
        #expect(throws: EnvironmentError.self) { try env.setState([1]) }
    }

    @Test(
        arguments: [
            ("crash", "closed its output (exit status 3)"), ("malformed", "malformed frame"), ("hang", "no reply within 1.0 s"),
            ("wrong-size", "returned 2 observation values, its declared space has 1"), ("error", "ValueError: the walk broke"),
        ], ExternalEnvironment.Transport.allCases)
    func faultsNameTheEnvironmentAndTheStep(fault: (mode: String, message: String), transport: ExternalEnvironment.Transport)
        throws
    {
        let (mode, message) = fault
        let env = try Self.fake(mode, step: 3, timeout: 1, transport: transport)
        #expect(env.transport == Self.expected(transport))
        let pid = env.serverProcessIdentifier
        env.resetState(seed: 0)
        #expect(env.advance(.discrete(1)) == (1, false) && env.advance(.discrete(1)) == (1, false))
        let start = Date()
        let (reward, terminated) = env.advance(.discrete(1))
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(reward == 0 && terminated, "a failed step ends the episode")
        let failure = try #require(env.failure)
        #expect(failure.description.hasPrefix("external:fake \(mode), step 3: "), "\(failure)")
        #expect(failure.description.contains(message), "\(failure)")
        // Once failed, the environment stays failed: no further request reaches the process.
        #expect(env.advance(.discrete(1)) == (0, true) && env.failure == failure)
        #expect(throws: EnvironmentError.self) { try TimeLimit(env, maxEpisodeSteps: 20).checkFailure() }
        _ = consume env
        #expect(!Self.exists(pid), "the server process \(pid) (\(mode)) remains")
    }

    @Test func serversThatCannotStartAreClearErrors() throws {
        #expect {
            try Self.fake("no-description")
        } throws: { error in
            "\(error)".contains("external:fake no-description") && "\(error)".contains("exit status 4")
        }
        #expect {
            try Self.fake("bad-protocol")
        } throws: { error in "\(error)".contains("protocol 99, Gauntlet speaks version 1") }
        #expect {
            try ExternalEnvironment(id: "external:nothing", arguments: ["/nonexistent/server"])
        } throws: { error in "\(error)".contains("cannot start /nonexistent/server") }
        #expect(throws: EnvironmentError.self) { try Registry.make("external:") }
        #expect(throws: EnvironmentError.self) { try Registry.make("gym:CartPole-v1?novalue") }
    }

    @Test func closingEndsTheProcess() throws {
        var pids: [Int32] = []
        for _ in 0..<3 {
            let env = try Registry.make("external:python3 \(fixtureURL("fake_env_server.py").path) ok")
            env.reset(seed: 0)
            pids.append((env.base as! ExternalEnvironment).serverProcessIdentifier)
        }
        #expect(pids.allSatisfy { !Self.exists($0) }, "\(pids.filter(Self.exists)) remain")
    }

    /// Gymnasium's classic control through `gym:` from the states Gauntlet's native versions
    /// start from, with the same actions: the same observations (1e-5), rewards (1e-6) and flags,
    /// over either transport.
    @Test(arguments: ["CartPole-v1", "Pendulum-v1"], ExternalEnvironment.Transport.allCases)
    func bridgedGymnasiumMatchesTheNativeEnvironment(id: String, transport: ExternalEnvironment.Transport) throws {
        let native = try Registry.make(id)
        let server = try ExternalEnvironment(
            id: "gym:\(id)", arguments: try ExternalEnvironments.arguments(for: "gym:\(id)"), transport: transport)
        #expect(server.transport == Self.expected(transport), "the shipped server offers shared memory on x86-64 Linux")
        let bridged = TimeLimit(server, maxEpisodeSteps: server.maxEpisodeSteps ?? Int.max)
        #expect(
            bridged.base.observationSpace == native.base.observationSpace && bridged.base.actionSpace == native.base.actionSpace)
        #expect(bridged.maxEpisodeSteps == native.maxEpisodeSteps)
        let random = RandomStream(seed: 11)
        var compared = 0
        for episode in 0..<5 {
            native.reset(seed: UInt64(episode))
            bridged.reset(seed: UInt64(episode))
            try bridged.base.setState(native.base.state)
            #expect(bridged.base.observation == native.base.observation)
            for _ in 0..<200 {
                let action = native.base.actionSpace.sample(random)
                let (a, b) = (native.step(action), bridged.step(action))
                #expect(zip(a.observation, b.observation).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($0)) }, "\(a) vs \(b)")
                #expect(abs(a.reward - b.reward) <= 1e-6 && a.terminated == b.terminated && a.truncated == b.truncated)
                compared += 1
                if a.terminated || a.truncated { break }
            }
        }
        #expect(compared >= 50 && bridged.failure == nil)
    }
}

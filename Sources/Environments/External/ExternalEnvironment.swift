import Foundation
import Linalg

/// An environment that runs in another process and speaks Gauntlet's environment protocol
/// (python/PROTOCOL.md) — a Gymnasium environment served by `python/gauntlet_env_server.py`
/// (`gym:ID[?key=value&…]`) or any program (`external:COMMAND`).
///
/// | | |
/// |---|---|
/// | observations | the server's Box, flattened (`observationShape` keeps its shape), as Float32 |
/// | actions | Discrete(n) or a one-dimensional Box |
/// | state | the server's `get_state`/`set_state` where it has them (MuJoCo `qpos`+`qvel`, classic control's `state`); else none |
/// | time limit | the environment's own (`truncated` from the server) and its spec's `max_episode_steps` |
/// | random stream | the server's own, seeded by `reset(seed:)`; replays reproduce if the environment is deterministic given its seed |
/// | frames | over pipes, or through shared memory where the server offers it (`Transport`) |
///
/// Failures — the process cannot start, dies, stops answering within `timeout`, sends a
/// malformed frame or an observation outside its declared shape, or reports an error — end the
/// current episode (`advance` reports it terminated) and are kept in `failure` with the step at
/// which they happened; runners and learners check `failure` and throw it.
public final class ExternalEnvironment: Environment {
    public let id: String
    public let observationSpace: BoxSpace
    public let actionSpace: ActionSpace
    public let stateLabels: [String]
    /// The observation's shape as the server declared it (an image's height, width, channels).
    public let observationShape: [Int]
    /// The server's `max_episode_steps`, if its environment has one.
    public let maxEpisodeSteps: Int?
    public var random = RandomStream(seed: 0)
    public private(set) var failure: EnvironmentError?
    public private(set) var truncatedItself = false
    private var lastObservation: [Float]
    private var stepsInEpisode = 0
    private let process: EnvironmentProcess

    /// Seconds a server may take to start (Python imports) and to answer one request.
    public static let defaultStartTimeout = 120.0
    public static let defaultTimeout = 60.0

    /// How frames travel between Gauntlet and the environment process (python/PROTOCOL.md).
    public enum Transport: String, Sendable, CaseIterable {
        /// The process's standard input and output.
        case pipes
        /// A memory file shared with the process, when its server offers it (Gauntlet's does on
        /// x86-64 Linux) and Gauntlet may run on more than one CPU: no system call on the way of
        /// a frame while the other side spins for it. On one CPU nobody can spin, and the pipes
        /// are faster (bench/results/env_bridge.md).
        case sharedMemory = "shared-memory"
    }

    /// The transport in use: `sharedMemory` only if it was asked for, Gauntlet may use more than
    /// one CPU and the server took it.
    public var transport: Transport { process.usesSharedMemory ? .sharedMemory : .pipes }

    /// Starts `arguments` (an executable and its arguments), reads its description and moves
    /// the frames to shared memory if `transport` asks for it and the server offers it.
    public init(id: String, arguments: [String], timeout: Double = defaultTimeout, transport: Transport = .sharedMemory)
        throws(EnvironmentError)
    {
        self.id = id
        process = try EnvironmentProcess(arguments: arguments, name: id, timeout: Self.defaultStartTimeout)
        let (kind, payload) = try process.receive()
        guard kind == UInt8(ascii: "S") else {
            throw EnvironmentError(
                "\(id): the server's first frame is '\(Character(UnicodeScalar(kind)))', expected its description 'S'")
        }
        let description = try Self.parse(payload, id: id)
        observationSpace = description.observation
        observationShape = description.shape
        actionSpace = description.action
        stateLabels = description.stateLabels
        maxEpisodeSteps = description.maxEpisodeSteps
        lastObservation = [Float](repeating: 0, count: observationSpace.dimension)
        process.timeout = timeout
        if transport == .sharedMemory && description.sharedMemory && !SharedFrames.oneCPU {
            // The largest frame is an observation or state of doubles, or an action; error
            // messages longer than the 64 KiB left over are cut by the server.
            let values = max(observationSpace.dimension, stateLabels.count, actionSpace.dimension ?? 1)
            let capacity = (32 + 8 * values + 65536 + 4095) / 4096 * 4096
            _ = try process.useSharedMemory(capacity: capacity)
        }
    }

    deinit { process.close() }

    var serverProcessIdentifier: Int32 { process.processIdentifier }

    public var state: [Double] {
        guard failure == nil, !stateLabels.isEmpty else { return [] }
        do throws(EnvironmentError) {
            try process.send(UInt8(ascii: "G"))
            var reader = try expect("V")
            return try reader.doubles()
        } catch { return fail(error, during: "reading the state") ?? [] }
    }

    public func setState(_ state: [Double]) throws(EnvironmentError) {
        guard !stateLabels.isEmpty else {
            throw EnvironmentError("\(id): this environment does not let its state be set (its server offers no state)")
        }
        try validateState(state)
        var payload: [UInt8] = []
        appendInteger(UInt32(state.count), to: &payload)
        for value in state { appendInteger(value.bitPattern, to: &payload) }
        try process.send(UInt8(ascii: "P"), payload)
        var reader = try expect("P")
        try accept(try reader.observation(), during: "setting the state")
    }

    public func resetState(seed: UInt64?) {
        stepsInEpisode = 0
        truncatedItself = false
        guard failure == nil else { return }
        do throws(EnvironmentError) {
            var payload: [UInt8] = [seed == nil ? 0 : 1]
            appendInteger(seed ?? 0, to: &payload)
            try process.send(UInt8(ascii: "R"), payload)
            var reader = try expect("R")
            try accept(try reader.observation(), during: "reset")
        } catch { _ = fail(error, during: "reset") }
    }

    public func advance(_ action: Action) -> (reward: Double, terminated: Bool) {
        guard failure == nil else { return (0, true) }
        stepsInEpisode += 1
        do throws(EnvironmentError) {
            var payload: [UInt8] = []
            switch action {
            case .discrete(let index): appendInteger(Int64(index), to: &payload)
            case .continuous(let values):
                appendInteger(UInt32(values.count), to: &payload)
                for value in values { appendInteger(value.bitPattern, to: &payload) }
            }
            try process.send(UInt8(ascii: "A"), payload)
            var reader = try expect("A")
            let reward = try reader.double()
            let terminated = try reader.integer(UInt8.self) != 0
            truncatedItself = try reader.integer(UInt8.self) != 0
            try accept(try reader.observation(), during: "step")
            guard reward.isFinite else {
                throw EnvironmentError("\(id): reward \(reward) at step \(stepsInEpisode) is not finite")
            }
            return (reward, terminated)
        } catch {
            _ = fail(error, during: "step \(stepsInEpisode)")
            return (0, true)
        }
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        for (k, value) in lastObservation.enumerated() { observation[k] = value }
    }

    /// The observation as bars (an external environment has no picture Gauntlet could draw).
    public func renderSVG() -> String {
        let width = 400.0
        let height = 240.0
        let scale = max(lastObservation.map { abs(Double($0)) }.max() ?? 1, 1e-9)
        let slot = width / Double(max(lastObservation.count, 1))
        return SVG.document(width: Int(width), height: Int(height)) {
            SVG.line(x1: 0, y1: height / 2, x2: width, y2: height / 2, stroke: "#888", width: 1)
            for (k, value) in lastObservation.enumerated() {
                let bar = Double(value) / scale * (height / 2 - 20)
                SVG.rect(
                    x: Double(k) * slot + slot * 0.15, y: min(height / 2, height / 2 - bar), width: slot * 0.7, height: abs(bar),
                    fill: "#0072B2")
            }
            SVG.text(x: 6, y: 16, "\(id): observation (\(lastObservation.count) values)", size: 11)
        }
    }

    /// State values (where the server has them) — not the server's random stream, so a
    /// training run on an external environment cannot resume bit for bit; `restore` says so.
    public var snapshot: EnvironmentSnapshot { EnvironmentSnapshot(values: state, random: []) }

    public func restore(_ snapshot: EnvironmentSnapshot) throws(EnvironmentError) {
        throw EnvironmentError(
            "\(id): an external environment's process cannot be restored from a checkpoint (its random stream lives in the server); start the run again"
        )
    }

    // MARK: - Frames

    /// The reply to a request: an observation frame 'O' after reset and set-state, a
    /// transition 'T' after a step, state values 'V'.
    private func expect(_ request: Character) throws(EnvironmentError) -> FrameReader {
        let expected: Character = ["R": "O", "P": "O", "A": "T", "V": "V"][request] ?? request
        let (kind, payload) = try process.receive()
        guard Character(UnicodeScalar(kind)) == expected else {
            throw EnvironmentError(
                "\(id): malformed reply '\(Character(UnicodeScalar(kind)))' (expected '\(expected)')")
        }
        return FrameReader(payload)
    }

    /// Keeps an observation after checking it against the declared space's size.
    private func accept(_ observation: [Float], during what: String) throws(EnvironmentError) {
        guard observation.count == observationSpace.dimension else {
            throw EnvironmentError(
                "\(id): \(what) returned \(observation.count) observation values, its declared space has \(observationSpace.dimension)"
            )
        }
        lastObservation = observation
    }

    /// Records the first failure (with what was happening) and ends the episode.
    private func fail(_ error: EnvironmentError, during what: String) -> [Double]? {
        if failure == nil {
            let message = error.description.hasPrefix(id) ? String(error.description.dropFirst(id.count + 2)) : error.description
            failure = EnvironmentError("\(id), \(what): \(message)")
        }
        return nil
    }

    // MARK: - Description

    struct Description {
        var observation: BoxSpace
        var shape: [Int]
        var action: ActionSpace
        var stateLabels: [String]
        var maxEpisodeSteps: Int?
        var sharedMemory: Bool
    }

    /// Reads the server's JSON description (protocol version 1).
    static func parse(_ payload: [UInt8], id: String) throws(EnvironmentError) -> Description {
        func error(_ message: String) -> EnvironmentError { EnvironmentError("\(id): description: \(message)") }
        guard let json = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any] else {
            throw error("not a JSON object")
        }
        guard json["protocol"] as? Int == 1 else {
            throw error("protocol \(json["protocol"] ?? "missing"), Gauntlet speaks version 1")
        }
        func bounds(_ value: Any?, infinity: Float, count: Int) throws(EnvironmentError) -> [Float] {
            guard let list = value as? [Any], list.count == count else {
                throw error("bounds must be a list of \(count) numbers")
            }
            return list.map { ($0 as? NSNumber).map { Float(truncating: $0) } ?? infinity }
        }
        guard let observation = json["observation"] as? [String: Any], let shape = observation["shape"] as? [Int],
            shape.allSatisfy({ $0 > 0 })
        else { throw error("observation needs a shape of positive sizes") }
        let size = shape.reduce(1, *)
        let space = BoxSpace(
            low: try bounds(observation["low"], infinity: -.infinity, count: size),
            high: try bounds(observation["high"], infinity: .infinity, count: size))
        let action: ActionSpace
        guard let actionJSON = json["action"] as? [String: Any] else { throw error("missing action") }
        if let n = actionJSON["discrete"] as? Int, n > 0 {
            action = .discrete(n)
        } else if let box = actionJSON["box"] as? [String: Any], let shape = box["shape"] as? [Int], shape.count == 1,
            shape[0] > 0
        {
            action = .box(
                BoxSpace(
                    low: try bounds(box["low"], infinity: -.infinity, count: shape[0]),
                    high: try bounds(box["high"], infinity: .infinity, count: shape[0])))
        } else {
            throw error("action must be {\"discrete\": n} or {\"box\": {\"shape\": [k], \"low\": …, \"high\": …}}")
        }
        return Description(
            observation: space, shape: shape, action: action, stateLabels: json["state"] as? [String] ?? [],
            maxEpisodeSteps: json["max_episode_steps"] as? Int, sharedMemory: json["shared_memory"] as? Bool ?? false)
    }
}

extension ExternalEnvironment: ImageObservations {
    /// A three-dimensional observation shape is a Gymnasium image: height × width × channels.
    public var imageShape: ImageShape? {
        guard observationShape.count == 3 else { return nil }
        return ImageShape(
            channels: observationShape[2], height: observationShape[0], width: observationShape[1], channelsLast: true)
    }
}

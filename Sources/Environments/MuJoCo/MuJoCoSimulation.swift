import CMuJoCo
import Foundation
import Linalg

/// A MuJoCo model and its simulation data, loaded from an MJCF file in `envs/mujoco/` (found
/// as grid maps are, `Registry.mapDirectories`). The locomotion environments are
/// thin layers over it: they set controls, step `frameSkip` physics steps at once, and read
/// positions, velocities and forces.
///
/// The state of a MuJoCo environment is `qpos` followed by `qvel`. Setting it does what
/// Gymnasium's `reset` followed by `set_state` does: `mj_resetData`, the positions and
/// velocities, `mj_forward`. A snapshot adds the solver's warm start (`qacc_warmstart`), which
/// the next step starts from, and the computed quantities environments read between steps
/// (`readings`), which after `mj_step` describe the start of its last physics step, not the
/// state it ends in — so a restored simulation continues, and reads, bit for bit.
public final class MuJoCoSimulation {
    let model: UnsafeMutablePointer<mjModel>
    let data: UnsafeMutablePointer<mjData>
    /// Position coordinates (`nq`), degrees of freedom (`nv`), actuators (`nu`), bodies (`nbody`).
    public let nq: Int
    public let nv: Int
    public let nu: Int
    public let nbody: Int
    /// `qpos` and `qvel` as the model file defines them (Gymnasium's `init_qpos`, `init_qvel`).
    public let initialPositions: [Double]
    public let initialVelocities: [Double]

    /// Loads `envs/mujoco/NAME` (the first map directory that has it).
    public init(modelFile name: String) throws(EnvironmentError) {
        let candidates = Registry.mapDirectories.map { $0.appendingPathComponent("mujoco/\(name)") }
        guard let url = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw EnvironmentError(
                "cannot find the MuJoCo model \(name) in \(candidates.map { $0.deletingLastPathComponent().path }.joined(separator: ", ")) (set GAUNTLET_ENVS to the envs/ directory)"
            )
        }
        var error = [CChar](repeating: 0, count: 1000)
        guard let model = mj_loadXML(url.path, nil, &error, Int32(error.count)) else {
            let message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw EnvironmentError("\(url.path): \(message)")
        }
        guard let data = mj_makeData(model) else {
            mj_deleteModel(model)
            throw EnvironmentError("\(url.path): MuJoCo could not allocate the simulation data")
        }
        self.model = model
        self.data = data
        nq = Int(model.pointee.nq)
        nv = Int(model.pointee.nv)
        nu = Int(model.pointee.nu)
        nbody = Int(model.pointee.nbody)
        initialPositions = Array(UnsafeBufferPointer(start: data.pointee.qpos, count: nq))
        initialVelocities = Array(UnsafeBufferPointer(start: data.pointee.qvel, count: nv))
    }

    deinit {
        mj_deleteData(data)
        mj_deleteModel(model)
    }

    /// The generalised positions.
    public var positions: UnsafeMutableBufferPointer<Double> { .init(start: data.pointee.qpos, count: nq) }
    /// The generalised velocities.
    public var velocities: UnsafeMutableBufferPointer<Double> { .init(start: data.pointee.qvel, count: nv) }
    /// The physics time step (`opt.timestep`).
    public var timestep: Double { model.pointee.opt.timestep }
    /// The actuators' control ranges, `[low, high]` per actuator (Gymnasium's action space).
    public var controlRange: BoxSpace {
        let ranges = UnsafeBufferPointer(start: model.pointee.actuator_ctrlrange, count: 2 * nu)
        return BoxSpace(low: (0..<nu).map { Float(ranges[2 * $0]) }, high: (0..<nu).map { Float(ranges[2 * $0 + 1]) })
    }

    /// `qpos` then `qvel`.
    public var state: [Double] { Array(positions) + Array(velocities) }

    /// Gymnasium's `mj_resetData` then `set_state(qpos, qvel)`; the caller has checked the length.
    public func setState(_ state: [Double]) {
        mj_resetData(model, data)
        for i in 0..<nq { data.pointee.qpos[i] = state[i] }
        for i in 0..<nv { data.pointee.qvel[i] = state[nq + i] }
        mj_forward(model, data)
    }

    /// The solver's warm start, the state a snapshot keeps beyond `qpos` and `qvel`.
    public var warmStart: [Double] {
        get { Array(UnsafeBufferPointer(start: data.pointee.qacc_warmstart, count: nv)) }
        set { for i in 0..<nv { data.pointee.qacc_warmstart[i] = newValue[i] } }
    }

    /// What environments read besides `qpos` and `qvel`, as `mj_step` left it: body and site
    /// positions, external contact forces, constraint forces.
    public var readings: [Double] {
        get {
            let d = data.pointee
            let nsite = Int(model.pointee.nsite)
            return Array(UnsafeBufferPointer(start: d.xpos, count: 3 * nbody))
                + Array(UnsafeBufferPointer(start: d.site_xpos, count: 3 * nsite))
                + Array(UnsafeBufferPointer(start: d.cfrc_ext, count: 6 * nbody))
                + Array(UnsafeBufferPointer(start: d.qfrc_constraint, count: nv))
        }
        set {
            let d = data.pointee
            let nsite = Int(model.pointee.nsite)
            precondition(newValue.count == readingsCount, "MuJoCo readings have \(readingsCount) values")
            var k = 0
            for (pointer, count) in [
                (d.xpos, 3 * nbody), (d.site_xpos, 3 * nsite), (d.cfrc_ext, 6 * nbody), (d.qfrc_constraint, nv),
            ] {
                for i in 0..<count { pointer![i] = newValue[k + i] }
                k += count
            }
        }
    }

    public var readingsCount: Int { 9 * nbody + 3 * Int(model.pointee.nsite) + nv }

    /// Sets the controls and advances `frames` physics steps (Gymnasium's `do_simulation`; MuJoCo
    /// clamps controls to their ranges), then computes the constraint forces (`cfrc_ext`).
    public func step<Value: BinaryFloatingPoint>(controls: [Value], frames: Int) {
        precondition(controls.count == nu, "MuJoCo expects \(nu) controls")
        for i in 0..<nu { data.pointee.ctrl[i] = Double(controls[i]) }
        gauntlet_mj_step_frames(model, data, Int32(frames))
    }

    /// The index of a named body (its row in `bodyPositions`, `externalForces`).
    public func body(_ name: String) -> Int {
        let id = Int(mj_name2id(model, Int32(mjOBJ_BODY.rawValue), name))
        precondition(id >= 0, "the model has no body '\(name)'")
        return id
    }

    /// The world position of body `index` (`xpos`).
    public func bodyPosition(_ index: Int) -> (x: Double, y: Double, z: Double) {
        let p = data.pointee.xpos + 3 * index
        return (p[0], p[1], p[2])
    }

    /// The world position of site `index` (`site_xpos`).
    public func sitePosition(_ index: Int) -> (x: Double, y: Double, z: Double) {
        let p = data.pointee.site_xpos + 3 * index
        return (p[0], p[1], p[2])
    }

    /// The generalised constraint force on degree of freedom `index` (`qfrc_constraint`).
    public func constraintForce(_ index: Int) -> Double { data.pointee.qfrc_constraint[index] }

    /// The external contact forces on every body (`cfrc_ext`, six per body: torque then force).
    public var externalForces: UnsafeBufferPointer<Double> { .init(start: data.pointee.cfrc_ext, count: 6 * nbody) }

    /// Names of `qpos` and `qvel` entries, from the joints (`rootx`, `thigh_joint`, …; a free
    /// joint's seven positions and six velocities are suffixed).
    public var stateLabels: [String] {
        var positionLabels: [String] = []
        var velocityLabels: [String] = []
        for joint in 0..<Int(model.pointee.njnt) {
            let name = mj_id2name(model, Int32(mjOBJ_JOINT.rawValue), Int32(joint)).map { String(cString: $0) } ?? "joint\(joint)"
            switch mjtJoint(rawValue: UInt32(model.pointee.jnt_type[joint])) {
            case mjJNT_FREE:
                positionLabels += ["x", "y", "z", "qw", "qx", "qy", "qz"].map { "\(name).\($0)" }
                velocityLabels += ["vx", "vy", "vz", "wx", "wy", "wz"].map { "\(name).\($0)" }
            case mjJNT_BALL:
                positionLabels += ["qw", "qx", "qy", "qz"].map { "\(name).\($0)" }
                velocityLabels += ["wx", "wy", "wz"].map { "\(name).\($0)" }
            default:
                positionLabels.append(name)
                velocityLabels.append(name)
            }
        }
        return positionLabels.map { "qpos.\($0)" } + velocityLabels.map { "qvel.\($0)" }
    }
}

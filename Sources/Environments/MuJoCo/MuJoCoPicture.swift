import CMuJoCo
import Foundation

/// A MuJoCo state drawn as SVG: every geom of the model at its world pose, projected on the
/// x–z plane (a side view, for the planar robots) or the x–y plane (from above, for Ant),
/// centred on the first body so the robot stays in the frame as it moves. Capsules and
/// cylinders are thick segments between their end points, spheres and ellipsoids discs, boxes
/// the quadrilateral their two widest axes span in the view, planes the ground line.
public struct MuJoCoPicture {
    public enum View { case side, above }

    let simulation: MuJoCoSimulation
    let view: View
    let width = 400.0
    let height = 300.0
    /// Pixels per metre.
    let scale: Double

    public init(_ simulation: MuJoCoSimulation, view: View = .side, scale: Double = 100) {
        self.simulation = simulation
        self.view = view
        self.scale = scale
    }

    public var svg: String {
        let model = simulation.model.pointee
        let data = simulation.data.pointee
        let focus = simulation.bodyPosition(min(1, simulation.nbody - 1))
        // Side view: x right, z up, the ground a quarter of the height from the bottom; above: x right, y up.
        func project(_ p: (Double, Double, Double)) -> (Double, Double) {
            switch view {
            case .side: (width / 2 + (p.0 - focus.x) * scale, height * 0.75 - p.2 * scale)
            case .above: (width / 2 + (p.0 - focus.x) * scale, height / 2 - (p.1 - focus.y) * scale)
            }
        }
        var elements: [String] = []
        for g in 0..<Int(model.ngeom) {
            let position = (data.geom_xpos[3 * g], data.geom_xpos[3 * g + 1], data.geom_xpos[3 * g + 2])
            let m = data.geom_xmat + 9 * g
            let axis = { (j: Int) in (m[j], m[3 + j], m[6 + j]) }  // the geom's local axis j in world coordinates
            let size = (model.geom_size[3 * g], model.geom_size[3 * g + 1], model.geom_size[3 * g + 2])
            let colour = Self.colour(g)
            switch mjtGeom(rawValue: UInt32(model.geom_type[g])) {
            case mjGEOM_PLANE:
                if view == .side {
                    let y = project(position).1
                    elements.append(SVG.line(x1: 0, y1: y, x2: width, y2: y, stroke: "#666", width: 2))
                }
            case mjGEOM_CAPSULE, mjGEOM_CYLINDER:
                let z = axis(2)
                let a = project((position.0 - size.1 * z.0, position.1 - size.1 * z.1, position.2 - size.1 * z.2))
                let b = project((position.0 + size.1 * z.0, position.1 + size.1 * z.1, position.2 + size.1 * z.2))
                elements.append(SVG.line(x1: a.0, y1: a.1, x2: b.0, y2: b.1, stroke: colour, width: max(1, 2 * size.0 * scale)))
            case mjGEOM_BOX:
                // The two local axes with the largest extent in the view plane span the outline.
                let extents = [size.0, size.1, size.2]
                let spans = (0..<3).map { j -> (Double, Double, Double) in
                    let a = axis(j)
                    return (a.0 * extents[j], a.1 * extents[j], a.2 * extents[j])
                }
                let inView = spans.map { s -> Double in view == .side ? hypot(s.0, s.2) : hypot(s.0, s.1) }
                let order = (0..<3).sorted { inView[$0] > inView[$1] }
                let (u, v) = (spans[order[0]], spans[order[1]])
                let corners = [(1.0, 1.0), (1, -1), (-1, -1), (-1, 1)].map { (s, t) in
                    project((position.0 + s * u.0 + t * v.0, position.1 + s * u.1 + t * v.1, position.2 + s * u.2 + t * v.2))
                }
                elements.append(SVG.polygon(corners, fill: colour))
            default:  // spheres, ellipsoids, meshes: a disc of the mean radius
                let c = project(position)
                elements.append(SVG.circle(cx: c.0, cy: c.1, r: max(1, (size.0 + size.1 + size.2) / 3 * scale), fill: colour))
            }
        }
        return SVG.document(width: Int(width), height: Int(height)) {
            elements
            SVG.text(x: 10, y: 20, String(format: "x %.2f m", focus.x))
        }
    }

    static func colour(_ geom: Int) -> String { ["#b5651d", "#4c72b0", "#55a868", "#c44e52", "#8172b2", "#937860"][geom % 6] }
}

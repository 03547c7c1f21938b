internal import CHiGHS

/// A network's inputs and hidden layers as linear constraints: columns with bounds, rows
/// `lower ≤ Σ coefficient·column ≤ upper` (sparse, row by row), and optionally integer columns.
/// `inputs` and `lastHidden` are the columns of the network's input and of the last hidden
/// layer's output. Solved by `LinearProgram`.
struct Encoding {
    var columnLower: [Double] = []
    var columnUpper: [Double] = []
    var integer: [Bool] = []
    var rowLower: [Double] = []
    var rowUpper: [Double] = []
    /// Row `r`'s entries are `entries[rowStart[r]..<rowStart[r + 1]]`.
    var rowStart: [Int32] = [0]
    var entryColumn: [Int32] = []
    var entryValue: [Double] = []

    var inputs: [Int32] = []
    var lastHidden: [Int32] = []
    /// Each hidden neuron's pre-activation and output columns, layer by layer.
    var neurons: [[(x: Int32, y: Int32)]] = []
    /// The row of each neuron's chord (the upper side of its relaxation; nil for a stable
    /// neuron), layer by layer.
    var chords: [[Int32?]] = []

    /// Encodes the input box and the hidden layers (`layers` minus the last), each unstable
    /// neuron relaxed to its convex hull — and, when `integer`, also given its binary phase, so
    /// that the integer solutions are exactly the network's.
    init(
        layers: [CompleteVerifier.Layer], hidden: [(lower: [Double], upper: [Double])], lower: [Double], upper: [Double],
        integer: Bool = false
    ) {
        inputs = zip(lower, upper).map { addColumn(lower: $0, upper: $1) }
        var previous = inputs
        for (k, layer) in layers.dropLast().enumerated() {
            var outputs: [Int32] = []
            neurons.append([])
            chords.append([Int32?](repeating: nil, count: layer.weight.rows))
            for i in 0..<layer.weight.rows {
                let (l, u) = (hidden[k].lower[i], hidden[k].upper[i])
                // x = W h + b as a column fixed by an equality row.
                let x = addColumn(lower: l, upper: u)
                var entries: [(Int32, Double)] = [(x, 1)]
                for (j, column) in previous.enumerated() where layer.weight[i, j] != 0 {
                    entries.append((column, -layer.weight[i, j]))
                }
                addRow(entries, lower: layer.bias[i], upper: layer.bias[i])
                let slope = layer.slope
                var y = x
                if slope != 1 && l < 0 {
                    if u <= 0 {
                        y = addColumn(lower: slope * l, upper: slope * u)
                        addRow([(y, 1), (x, -slope)], lower: 0, upper: 0)
                    } else {
                        let chord = (u - slope * l) / (u - l)
                        y = addColumn(lower: slope * l, upper: u)
                        addRow([(y, 1), (x, -1)], lower: 0, upper: nil)
                        addRow([(y, 1), (x, -slope)], lower: 0, upper: nil)
                        chords[k][i] = addRow([(y, 1), (x, -chord)], lower: nil, upper: slope * l - chord * l)
                        if integer {
                            // The phase δ (1: x ≥ 0), binary: y ≤ x − (1 − α)·l·(1 − δ), y ≤ αx + (1 − α)·u·δ.
                            let phase = addColumn(lower: 0, upper: 1, integer: true)
                            addRow([(y, 1), (x, -1), (phase, -(1 - slope) * l)], lower: nil, upper: -(1 - slope) * l)
                            addRow([(y, 1), (x, -slope), (phase, -(1 - slope) * u)], lower: nil, upper: 0)
                        }
                    }
                }
                outputs.append(y)
                neurons[k].append((x, y))
            }
            previous = outputs
        }
        lastHidden = previous
    }

    var columnCount: Int { columnLower.count }
    var rowCount: Int { rowLower.count }

    /// A new column with the given bounds (nil: unbounded on that side).
    @discardableResult
    mutating func addColumn(lower: Double?, upper: Double?, integer: Bool = false) -> Int32 {
        columnLower.append(lower ?? -.infinity)
        columnUpper.append(upper ?? .infinity)
        self.integer.append(integer)
        return Int32(columnLower.count - 1)
    }

    /// A new row `lower ≤ Σ coefficient·column ≤ upper` (nil: unbounded on that side).
    @discardableResult
    mutating func addRow(_ entries: [(Int32, Double)], lower: Double?, upper: Double?) -> Int32 {
        rowLower.append(lower ?? -.infinity)
        rowUpper.append(upper ?? .infinity)
        entryColumn += entries.map(\.0)
        entryValue += entries.map(\.1)
        rowStart.append(Int32(entryColumn.count))
        return Int32(rowLower.count - 1)
    }

    /// The margin column `m ≤ out_t − out_a` for every `a ≠ t` of the last (Linear) layer.
    mutating func addMargin(_ last: CompleteVerifier.Layer, target: Int, lower: Double?) -> Int32 {
        let margin = addColumn(lower: lower, upper: nil)
        for a in 0..<last.weight.rows where a != target {
            var entries: [(Int32, Double)] = [(margin, 1)]
            for (j, column) in lastHidden.enumerated() {
                let coefficient = last.weight[target, j] - last.weight[a, j]
                if coefficient != 0 { entries.append((column, -coefficient)) }
            }
            addRow(entries, lower: nil, upper: last.bias[target] - last.bias[a])
        }
        return margin
    }
}

/// An `Encoding` loaded into HiGHS, ready to optimise objectives over it one after another (each
/// solve starts from the last one's basis). Single-threaded and seeded, so the same program gives
/// the same answer whatever the machine's cores.
final class LinearProgram {
    private let highs: UnsafeMutableRawPointer
    let columnCount: Int
    let rowCount: Int

    /// The encoding as a linear program, or — with `integer` — as a mixed-integer program whose
    /// integer columns are the encoding's. Each solve may take `timeLimit` seconds.
    init(_ encoding: Encoding, integer: Bool = false, timeLimit: Double) {
        highs = Highs_create()
        columnCount = encoding.columnCount
        rowCount = encoding.rowCount
        Highs_setBoolOptionValue(highs, "output_flag", 0)
        Highs_setIntOptionValue(highs, "threads", 1)
        Highs_setIntOptionValue(highs, "random_seed", 0)
        Highs_setDoubleOptionValue(highs, "time_limit", timeLimit)
        if !integer { Highs_setStringOptionValue(highs, "presolve", "off") }
        let costs = [Double](repeating: 0, count: columnCount)
        let status =
            integer
            ? Highs_passMip(
                highs, HighsInt(columnCount), HighsInt(rowCount), HighsInt(encoding.entryColumn.count),
                kHighsMatrixFormatRowwise, kHighsObjSenseMaximize, 0, costs, encoding.columnLower, encoding.columnUpper,
                encoding.rowLower, encoding.rowUpper, encoding.rowStart, encoding.entryColumn, encoding.entryValue,
                encoding.integer.map { $0 ? kHighsVarTypeInteger : kHighsVarTypeContinuous })
            : Highs_passLp(
                highs, HighsInt(columnCount), HighsInt(rowCount), HighsInt(encoding.entryColumn.count),
                kHighsMatrixFormatRowwise, kHighsObjSenseMaximize, 0, costs, encoding.columnLower, encoding.columnUpper,
                encoding.rowLower, encoding.rowUpper, encoding.rowStart, encoding.entryColumn, encoding.entryValue)
        precondition(status != kHighsStatusError, "HiGHS refused a well-formed program")
    }

    deinit { Highs_destroy(highs) }

    /// The objective: `coefficients` on their columns (every other column 0), maximised or minimised.
    func setObjective(_ coefficients: [(column: Int32, value: Double)], maximize: Bool) {
        var costs = [Double](repeating: 0, count: columnCount)
        for (column, value) in coefficients { costs[Int(column)] = value }
        Highs_changeColsCostByRange(highs, 0, HighsInt(columnCount - 1), costs)
        Highs_changeObjectiveSense(highs, maximize ? kHighsObjSenseMaximize : kHighsObjSenseMinimize)
    }

    /// A mixed-integer solve stops as soon as it has a solution with at least this objective.
    func stop(atObjective target: Double) {
        Highs_setDoubleOptionValue(highs, "objective_target", target)
    }

    /// How a solve ended.
    enum Outcome: Equatable {
        /// The optimum (or, for a mixed-integer program, a solution reaching the objective target).
        case solved
        /// No point satisfies the constraints.
        case infeasible
        /// The time limit (with or without a feasible solution), or any other failure.
        case unfinished
    }

    /// Optimises the objective.
    func solve() -> Outcome {
        guard Highs_run(highs) != kHighsStatusError else { return .unfinished }
        switch Highs_getModelStatus(highs) {
        case kHighsModelStatusOptimal, kHighsModelStatusObjectiveTarget: return .solved
        case kHighsModelStatusInfeasible: return .infeasible
        default: return .unfinished
        }
    }

    /// Whether the last solve left a feasible point (`columnValues` holds it).
    var hasSolution: Bool {
        var status: HighsInt = 0
        return Highs_getIntInfoValue(highs, "primal_solution_status", &status) == kHighsStatusOk
            && status == kHighsSolutionStatusFeasible
    }

    var objective: Double { Highs_getObjectiveValue(highs) }

    /// The last solution's column values and the rows' dual values.
    func solution() -> (columns: [Double], rowDuals: [Double]) {
        var columns = [Double](repeating: 0, count: columnCount)
        var columnDuals = [Double](repeating: 0, count: columnCount)
        var rows = [Double](repeating: 0, count: rowCount)
        var rowDuals = [Double](repeating: 0, count: rowCount)
        Highs_getSolution(highs, &columns, &columnDuals, &rows, &rowDuals)
        return (columns, rowDuals)
    }
}

import Linalg

/// Interval bound propagation (Gowal et al. 2018): for every input inside the box
/// `[lower, upper]`, bounds on every output of the network.
///
/// A Linear layer maps the box with centre `c = (u + l)/2` and radius `r = (u − l)/2` to centre
/// `W c + b` and radius `|W| r`, which is the exact range of a single Linear layer; the
/// activations here are non-decreasing, so they map lower to lower and upper to upper bounds.
/// Through several layers the bounds are sound (they contain every reachable output) but loose.
public struct IntervalBounds<Scalar: BLASScalar>: Equatable, Sendable {
    public var lower: Matrix<Scalar>
    public var upper: Matrix<Scalar>

    public init(lower: Matrix<Scalar>, upper: Matrix<Scalar>) {
        precondition(lower.rows == upper.rows && lower.columns == upper.columns, "bounds must have equal shapes")
        self.lower = lower
        self.upper = upper
    }

    /// The L∞ ball of radius `epsilon` around each row of `center`.
    public init(center: Matrix<Scalar>, epsilon: Scalar) {
        precondition(epsilon >= 0, "epsilon must be non-negative")
        self.init(lower: center.map { $0 - epsilon }, upper: center.map { $0 + epsilon })
    }
}

extension Sequential {
    /// Bounds on the network's outputs — or, with `moduleCount`, on the values after its first
    /// `moduleCount` modules — for inputs anywhere in `input`'s box (per row).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func intervalBounds(_ input: IntervalBounds<Scalar>, moduleCount: Int? = nil) -> IntervalBounds<Scalar> {
        precondition(input.lower.columns == inputDimensions)
        var lower = input.lower
        var upper = input.upper
        var linearIndex = 0
        for (index, module) in modules.prefix(moduleCount ?? modules.count).enumerated() {
            switch module {
            case .activation(let activation):
                lower = lower.map { activation($0) }
                upper = upper.map { activation($0) }
            case .linear:
                let bounds = linearBounds(IntervalBounds(lower: lower, upper: upper), layer: linearIndex)
                linearIndex += 1
                (lower, upper) = (bounds.lower, bounds.upper)
            case .conv2d(let conv):
                let bounds = convolutionBounds(IntervalBounds(lower: lower, upper: upper), conv, layout: parameterLayouts[index]!)
                (lower, upper) = (bounds.lower, bounds.upper)
            case .maxPool2d(let pool):
                (lower, upper) = (pool.apply(lower), pool.apply(upper))
            case .flatten:
                break
            }
        }
        return IntervalBounds(lower: lower, upper: upper)
    }
}

extension Sequential {
    /// The gradient, with respect to the network's parameters, of a loss `L` of the interval
    /// bounds after the first `moduleCount` modules (all by default), given `∂L/∂lower` and
    /// `∂L/∂upper` — what certified training (SA-DQN's convex relaxation, RADIAL) descends.
    ///
    /// Backwards through a Linear layer with centre `c`, radius `r`: `C = W c + b`, `R = |W| r`,
    /// lower `C − R`, upper `C + R`; so `∂W = g_Cᵀ c + sign(W) ⊙ g_Rᵀ r`, `∂b = Σ g_C`,
    /// `∂c = g_C W`, `∂r = g_R |W|` with `g_C = g_l + g_u`, `g_R = g_u − g_l`; a convolution the
    /// same with its own products. Activations map each bound through themselves, so their
    /// derivative at that bound multiplies its gradient; max pooling passes each bound's gradient
    /// to the maximum of that bound's window.
    /// Returns the bounds too (the forward pass it needs).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func intervalBoundsParameterGradient(
        _ input: IntervalBounds<Scalar>, moduleCount: Int? = nil,
        lossGradient: (IntervalBounds<Scalar>) -> (lower: Matrix<Scalar>, upper: Matrix<Scalar>)
    )
        -> (bounds: IntervalBounds<Scalar>, gradient: [Scalar])
    {
        let used = Array(modules.prefix(moduleCount ?? modules.count))
        var inputs: [IntervalBounds<Scalar>] = []  // the bounds entering each module
        var bounds = input
        var linearIndex = 0
        for (index, module) in used.enumerated() {
            inputs.append(bounds)
            switch module {
            case .activation:
                bounds = bounds.mapped(module)
            case .linear:
                bounds = linearBounds(bounds, layer: linearIndex)
                linearIndex += 1
            case .conv2d(let conv):
                bounds = convolutionBounds(bounds, conv, layout: parameterLayouts[index]!)
            case .maxPool2d(let pool):
                bounds = IntervalBounds(lower: pool.apply(bounds.lower), upper: pool.apply(bounds.upper))
            case .flatten:
                break
            }
        }
        var (gLower, gUpper) = lossGradient(bounds)
        var gradient = [Scalar](repeating: 0, count: parameterCount)
        for (position, module) in used.enumerated().reversed() {
            let entering = inputs[position]
            let wantInput = position > 0  // nothing below the first module uses its input's gradient
            switch module {
            case .activation(let activation):
                gLower.storage.withUnsafeMutableBufferPointer { gl in
                    gUpper.storage.withUnsafeMutableBufferPointer { gu in
                        entering.lower.storage.withUnsafeBufferPointer { l in
                            entering.upper.storage.withUnsafeBufferPointer { u in
                                for i in gl.indices {
                                    gl[i] *= activation.derivative(l[i])
                                    gu[i] *= activation.derivative(u[i])
                                }
                            }
                        }
                    }
                }
            case .linear(let inputs, let outputs):
                linearIndex -= 1
                let layout = linearLayers[linearIndex]
                let n = gLower.rows
                let (gCenter, gRadius) = IntervalBounds.centerAndRadiusGradients(gLower, gUpper)
                let (center, radius) = entering.centerAndRadius()
                var fromRadius = [Scalar](repeating: 0, count: outputs * inputs)
                var dCenter = Matrix<Scalar>(rows: wantInput ? n : 0, columns: inputs)
                var dRadius = Matrix<Scalar>(rows: wantInput ? n : 0, columns: inputs)
                parameters.withUnsafeBufferPointer { p in
                    absoluteParameters.withUnsafeBufferPointer { a in
                        gradient.withUnsafeMutableBufferPointer { g in
                            let w = p.baseAddress! + layout.weightOffset
                            // ∂W: g_Cᵀ c straight into the gradient, then sign(W) ⊙ g_Rᵀ r.
                            Scalar.gemm(
                                transposeA: true, transposeB: false, m: outputs, n: inputs, k: n, alpha: 1,
                                a: gCenter.storage, lda: outputs, b: center.storage, ldb: inputs, beta: 1,
                                c: g.baseAddress! + layout.weightOffset, ldc: inputs)
                            Scalar.gemm(
                                transposeA: true, transposeB: false, m: outputs, n: inputs, k: n, alpha: 1,
                                a: gRadius.storage, lda: outputs, b: radius.storage, ldb: inputs, beta: 0, c: &fromRadius,
                                ldc: inputs)
                            fromRadius.withUnsafeBufferPointer { fromR in
                                let gw = g.baseAddress! + layout.weightOffset
                                for k in 0..<(outputs * inputs) {
                                    let weight = w[k]
                                    gw[k] += (weight > 0 ? 1 : weight < 0 ? -1 : 0) * fromR[k]
                                }
                            }
                            for r in 0..<n {
                                for j in 0..<outputs { g[layout.biasOffset + j] += gCenter.storage[r * outputs + j] }
                            }
                            guard wantInput else { return }
                            Scalar.gemm(
                                transposeA: false, transposeB: false, m: n, n: inputs, k: outputs, alpha: 1,
                                a: gCenter.storage, lda: outputs, b: w, ldb: inputs, beta: 0, c: &dCenter.storage, ldc: inputs)
                            Scalar.gemm(
                                transposeA: false, transposeB: false, m: n, n: inputs, k: outputs, alpha: 1,
                                a: gRadius.storage, lda: outputs, b: a.baseAddress! + layout.weightOffset, ldb: inputs, beta: 0,
                                c: &dRadius.storage, ldc: inputs)
                        }
                    }
                }
                if wantInput { (gLower, gUpper) = IntervalBounds.boundGradients(center: dCenter, radius: dRadius) }
            case .conv2d(let conv):
                let layout = parameterLayouts[position]!
                let (center, radius) = entering.centerAndRadius()
                let weight = Array(parameters[layout.weightOffset..<layout.biasOffset])
                let (gCenter, gRadius) = IntervalBounds.centerAndRadiusGradients(gLower, gUpper)
                let fromCenter = conv.gradients(gCenter, input: center, weight: weight, wantInput: wantInput)
                let fromRadius = conv.gradients(
                    gRadius, input: radius, weight: Array(absoluteParameters[layout.weightOffset..<layout.biasOffset]),
                    wantInput: wantInput)
                for k in weight.indices {
                    let w = weight[k]
                    gradient[layout.weightOffset + k] +=
                        fromCenter.weight[k] + (w > 0 ? 1 : w < 0 ? -1 : 0) * fromRadius.weight[k]
                }
                for j in 0..<layout.biasCount { gradient[layout.biasOffset + j] += fromCenter.bias[j] }
                if let centerInput = fromCenter.input, let radiusInput = fromRadius.input {
                    (gLower, gUpper) = IntervalBounds.boundGradients(center: centerInput, radius: radiusInput)
                }
            case .maxPool2d(let pool):
                gLower = pool.gradient(gLower, input: entering.lower)
                gUpper = pool.gradient(gUpper, input: entering.upper)
            case .flatten:
                break
            }
        }
        return (bounds, gradient)
    }

    /// One convolution applied to a box: centre through the convolution, radius through `|W|`.
    func convolutionBounds(_ input: IntervalBounds<Scalar>, _ conv: Conv2d, layout: ParameterLayout) -> IntervalBounds<Scalar> {
        let weight = Array(parameters[layout.weightOffset..<layout.biasOffset])
        let bias = Array(parameters[layout.biasOffset..<(layout.biasOffset + layout.biasCount)])
        let absolute = Array(absoluteParameters[layout.weightOffset..<layout.biasOffset])
        let (center, radius) = input.centerAndRadius()
        let outCenter = conv.apply(center, weight: weight, bias: bias)
        let outRadius = conv.apply(radius, weight: absolute, bias: nil)
        return IntervalBounds(center: outCenter, radius: outRadius)
    }

    /// One Linear layer applied to a box (the exact range of that layer).
    func linearBounds(_ input: IntervalBounds<Scalar>, layer: Int) -> IntervalBounds<Scalar> {
        let l = linearLayers[layer]
        let n = input.lower.rows
        let (center, radius) = input.centerAndRadius()
        var outCenter = Matrix<Scalar>(rows: n, columns: l.outputs)
        var outRadius = Matrix<Scalar>(rows: n, columns: l.outputs)
        parameters.withUnsafeBufferPointer { p in
            absoluteParameters.withUnsafeBufferPointer { a in
                outCenter.storage.withUnsafeMutableBufferPointer { c in
                    for r in 0..<n {
                        (c.baseAddress! + r * l.outputs).update(from: p.baseAddress! + l.biasOffset, count: l.outputs)
                    }
                    Scalar.gemm(
                        transposeA: false, transposeB: true, m: n, n: l.outputs, k: l.inputs, alpha: 1,
                        a: center.storage, lda: l.inputs, b: p.baseAddress! + l.weightOffset, ldb: l.inputs, beta: 1,
                        c: c.baseAddress!, ldc: l.outputs)
                }
                outRadius.storage.withUnsafeMutableBufferPointer { c in
                    Scalar.gemm(
                        transposeA: false, transposeB: true, m: n, n: l.outputs, k: l.inputs, alpha: 1,
                        a: radius.storage, lda: l.inputs, b: a.baseAddress! + l.weightOffset, ldb: l.inputs, beta: 0,
                        c: c.baseAddress!, ldc: l.outputs)
                }
            }
        }
        return IntervalBounds(center: outCenter, radius: outRadius)
    }
}

extension IntervalBounds {
    /// The box `[c − r, c + r]`.
    init(center: Matrix<Scalar>, radius: Matrix<Scalar>) {
        self.init(lower: center.zipMap(radius, -), upper: center.zipMap(radius, +))
    }

    /// `∂L/∂c = g_l + g_u` and `∂L/∂r = g_u − g_l` from the bounds' gradients (l = c − r, u = c + r).
    static func centerAndRadiusGradients(_ gLower: Matrix<Scalar>, _ gUpper: Matrix<Scalar>) -> (
        center: Matrix<Scalar>, radius: Matrix<Scalar>
    ) {
        (gLower.zipMap(gUpper, +), gUpper.zipMap(gLower, -))
    }

    /// `∂L/∂l = (g_c − g_r)/2` and `∂L/∂u = (g_c + g_r)/2` from the gradients of the centre
    /// `(l + u)/2` and radius `(u − l)/2`.
    static func boundGradients(center: Matrix<Scalar>, radius: Matrix<Scalar>) -> (lower: Matrix<Scalar>, upper: Matrix<Scalar>) {
        (center.zipMap(radius) { ($0 - $1) / 2 }, center.zipMap(radius) { ($0 + $1) / 2 })
    }

    /// Its centre `(l + u)/2` and radius `(u − l)/2`.
    func centerAndRadius() -> (center: Matrix<Scalar>, radius: Matrix<Scalar>) {
        (lower.zipMap(upper) { ($0 + $1) / 2 }, upper.zipMap(lower) { ($0 - $1) / 2 })
    }

    /// The box through a monotone activation module.
    func mapped(_ module: Sequential<Scalar>.Module) -> IntervalBounds {
        guard case .activation(let activation) = module else { return self }
        return IntervalBounds(lower: lower.map { activation($0) }, upper: upper.map { activation($0) })
    }
}

extension Conv2d {
    /// The convolution of each row of `input` (an allocating convenience over `forward`).
    func apply<Scalar: BLASScalar>(_ input: Matrix<Scalar>, weight: [Scalar], bias: [Scalar]?) -> Matrix<Scalar> {
        var output = [Scalar](repeating: 0, count: input.rows * outputSize)
        var scratch = [Scalar](repeating: 0, count: max(scratchCount(batch: input.rows), 1))
        input.storage.withUnsafeBufferPointer { x in
            weight.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { y in
                    scratch.withUnsafeMutableBufferPointer { s in
                        if let bias {
                            bias.withUnsafeBufferPointer { b in
                                forward(
                                    x.baseAddress!, batch: input.rows, weight: w.baseAddress!, bias: b.baseAddress!,
                                    into: y.baseAddress!,
                                    scratch: s.baseAddress!)
                            }
                        } else {
                            forward(
                                x.baseAddress!, batch: input.rows, weight: w.baseAddress!, bias: nil, into: y.baseAddress!,
                                scratch: s.baseAddress!)
                        }
                    }
                }
            }
        }
        return Matrix(rows: input.rows, columns: outputSize, storage: output)
    }

    /// The gradients of `Σ outputGradient ⊙ conv(input)` with respect to the weight, the bias
    /// and, when `wantInput`, the input (an allocating convenience over `backward`).
    func gradients<Scalar: BLASScalar>(
        _ outputGradient: Matrix<Scalar>, input: Matrix<Scalar>, weight: [Scalar], wantInput: Bool
    )
        -> (weight: [Scalar], bias: [Scalar], input: Matrix<Scalar>?)
    {
        var weightGradient = [Scalar](repeating: 0, count: weightCount)
        var biasGradient = [Scalar](repeating: 0, count: outputChannels)
        var inputGradient = [Scalar](repeating: 0, count: wantInput ? input.rows * inputSize : 0)
        var scratch = [Scalar](repeating: 0, count: max(scratchCount(batch: input.rows), 1))
        outputGradient.storage.withUnsafeBufferPointer { g in
            input.storage.withUnsafeBufferPointer { x in
                weight.withUnsafeBufferPointer { w in
                    weightGradient.withUnsafeMutableBufferPointer { dw in
                        biasGradient.withUnsafeMutableBufferPointer { db in
                            inputGradient.withUnsafeMutableBufferPointer { dx in
                                scratch.withUnsafeMutableBufferPointer { s in
                                    backward(
                                        g.baseAddress!, input: x.baseAddress!, batch: input.rows, weight: w.baseAddress!,
                                        weightGradient: dw.baseAddress!, biasGradient: db.baseAddress!, accumulate: false,
                                        inputGradient: wantInput ? dx.baseAddress : nil, scratch: s.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (
            weightGradient, biasGradient, wantInput ? Matrix(rows: input.rows, columns: inputSize, storage: inputGradient) : nil
        )
    }
}

extension MaxPool2d {
    /// The pooling of each row of `input`.
    func apply<Scalar: BLASScalar>(_ input: Matrix<Scalar>) -> Matrix<Scalar> {
        var output = [Scalar](repeating: 0, count: input.rows * outputSize)
        input.storage.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in forward(x.baseAddress!, batch: input.rows, into: y.baseAddress!) }
        }
        return Matrix(rows: input.rows, columns: outputSize, storage: output)
    }

    /// The gradient with respect to `input` of `Σ outputGradient ⊙ pool(input)`.
    func gradient<Scalar: BLASScalar>(_ outputGradient: Matrix<Scalar>, input: Matrix<Scalar>) -> Matrix<Scalar> {
        var result = [Scalar](repeating: 0, count: input.rows * inputSize)
        outputGradient.storage.withUnsafeBufferPointer { g in
            input.storage.withUnsafeBufferPointer { x in
                result.withUnsafeMutableBufferPointer { dx in
                    backward(g.baseAddress!, input: x.baseAddress!, batch: input.rows, into: dx.baseAddress!)
                }
            }
        }
        return Matrix(rows: input.rows, columns: inputSize, storage: result)
    }
}

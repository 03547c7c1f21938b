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
            switch module {
            case .activation(let activation):
                for i in gLower.storage.indices {
                    gLower.storage[i] *= activation.derivative(entering.lower.storage[i])
                    gUpper.storage[i] *= activation.derivative(entering.upper.storage[i])
                }
            case .linear:
                linearIndex -= 1
                let layout = linearLayers[linearIndex]
                let weight = self.weight(linearIndex)
                let gCenter = gLower + gUpper
                let gRadius = gUpper - gLower
                let center = (entering.lower + entering.upper).map { $0 / 2 }
                let radius = (entering.upper - entering.lower).map { $0 / 2 }
                let fromCenter = Matrix.product(gCenter, center, transposeA: true)
                let fromRadius = Matrix.product(gRadius, radius, transposeA: true)
                for k in 0..<(layout.outputs * layout.inputs) {
                    let w = weight.storage[k]
                    gradient[layout.weightOffset + k] +=
                        fromCenter.storage[k] + (w > 0 ? 1 : w < 0 ? -1 : 0) * fromRadius.storage[k]
                }
                for r in 0..<gCenter.rows {
                    for j in 0..<layout.outputs { gradient[layout.biasOffset + j] += gCenter[r, j] }
                }
                let dCenter = Matrix.product(gCenter, weight)
                let dRadius = Matrix.product(gRadius, weight.map { abs($0) })
                gLower = (dCenter - dRadius).map { $0 / 2 }
                gUpper = (dCenter + dRadius).map { $0 / 2 }
            case .conv2d(let conv):
                let layout = parameterLayouts[position]!
                let center = (entering.lower + entering.upper).map { $0 / 2 }
                let radius = (entering.upper - entering.lower).map { $0 / 2 }
                let weight = Array(parameters[layout.weightOffset..<layout.biasOffset])
                let fromCenter = conv.gradients(gLower + gUpper, input: center, weight: weight)
                let fromRadius = conv.gradients(gUpper - gLower, input: radius, weight: weight.map { abs($0) })
                for k in weight.indices {
                    let w = weight[k]
                    gradient[layout.weightOffset + k] +=
                        fromCenter.weight[k] + (w > 0 ? 1 : w < 0 ? -1 : 0) * fromRadius.weight[k]
                }
                for j in 0..<layout.biasCount { gradient[layout.biasOffset + j] += fromCenter.bias[j] }
                gLower = (fromCenter.input - fromRadius.input).map { $0 / 2 }
                gUpper = (fromCenter.input + fromRadius.input).map { $0 / 2 }
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
        let center = conv.apply((input.lower + input.upper).map { $0 / 2 }, weight: weight, bias: bias)
        let radius = conv.apply((input.upper - input.lower).map { $0 / 2 }, weight: weight.map { abs($0) }, bias: nil)
        return IntervalBounds(lower: center - radius, upper: center + radius)
    }

    /// One Linear layer applied to a box (the exact range of that layer).
    func linearBounds(_ input: IntervalBounds<Scalar>, layer: Int) -> IntervalBounds<Scalar> {
        let weight = self.weight(layer)
        let bias = self.bias(layer)
        let center = (input.lower + input.upper).map { $0 / 2 }
        let radius = (input.upper - input.lower).map { $0 / 2 }
        var outCenter = Matrix.product(center, weight, transposeB: true)
        let outRadius = Matrix.product(radius, weight.map { abs($0) }, transposeB: true)
        for r in 0..<outCenter.rows {
            for j in 0..<outCenter.columns { outCenter[r, j] += bias[j] }
        }
        return IntervalBounds(lower: outCenter - outRadius, upper: outCenter + outRadius)
    }
}

extension IntervalBounds {
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
    /// and the input (an allocating convenience over `backward`).
    func gradients<Scalar: BLASScalar>(_ outputGradient: Matrix<Scalar>, input: Matrix<Scalar>, weight: [Scalar])
        -> (weight: [Scalar], bias: [Scalar], input: Matrix<Scalar>)
    {
        var weightGradient = [Scalar](repeating: 0, count: weightCount)
        var biasGradient = [Scalar](repeating: 0, count: outputChannels)
        var inputGradient = [Scalar](repeating: 0, count: input.rows * inputSize)
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
                                        inputGradient: dx.baseAddress!, scratch: s.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (weightGradient, biasGradient, Matrix(rows: input.rows, columns: inputSize, storage: inputGradient))
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

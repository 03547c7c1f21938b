import Linalg
import Synchronization

/// A feed-forward network: a sequence of modules (Linear and Conv2d layers, max pooling,
/// flattening, elementwise activations), as PyTorch's `nn.Sequential`, with every parameter in
/// one flat array.
///
/// Parameter layout: for each Linear or Conv2d module in order, its weight (`[outputs × inputs]`
/// row-major; a convolution's `[out, in, k, k]`) then its bias. Gradients use the same layout, so
/// optimisers, clipping, Polyak averaging and checkpoints treat parameters as one vector.
///
/// A Linear module computes `y = x Wᵀ + b` on a batch `x` of shape `[batch × inputs]`; images
/// are rows too, each stored channel by channel, row by row (NCHW) — see `Conv2d`.
public struct Sequential<Scalar: BLASScalar>: Equatable, Sendable {
    /// One module of the sequence.
    public enum Module: Equatable, Sendable {
        case linear(inputs: Int, outputs: Int)
        case activation(Activation)
        case conv2d(Conv2d)
        case maxPool2d(MaxPool2d)
        /// PyTorch's `nn.Flatten`: an image becomes a vector. Images are already stored as one
        /// row each, in the order `nn.Flatten` reads them, so nothing moves; the module keeps
        /// the state-dict indices of the modules after it equal to PyTorch's.
        case flatten

        /// Values per row this module takes, or nil when it takes any width (activations, flatten).
        public var inputWidth: Int? {
            switch self {
            case .linear(let inputs, _): inputs
            case .conv2d(let conv): conv.inputSize
            case .maxPool2d(let pool): pool.inputSize
            case .activation, .flatten: nil
            }
        }

        /// Values per row this module gives, or nil when it gives as many as it takes.
        public var outputWidth: Int? {
            switch self {
            case .linear(_, let outputs): outputs
            case .conv2d(let conv): conv.outputSize
            case .maxPool2d(let pool): pool.outputSize
            case .activation, .flatten: nil
            }
        }

        /// The module as PyTorch prints it: `Linear(4, 64)`, `Conv2d(4, 16, kernel_size=3,
        /// stride=1, padding=0)`, `MaxPool2d(kernel_size=2, stride=2)`, `Flatten`, or the
        /// activation's name.
        public var name: String {
            switch self {
            case .linear(let inputs, let outputs): "Linear(\(inputs), \(outputs))"
            case .conv2d(let c):
                "Conv2d(\(c.inputChannels), \(c.outputChannels), kernel_size=\(c.kernelSize), stride=\(c.stride), padding=\(c.padding))"
            case .maxPool2d(let pool): "MaxPool2d(kernel_size=\(pool.kernelSize), stride=\(pool.stride))"
            case .flatten: "Flatten"
            case .activation(let activation): activation.name
            }
        }

        /// The same module in a network of another precision.
        public func converted<Other: BLASScalar>(to _: Other.Type) -> Sequential<Other>.Module {
            switch self {
            case .linear(let i, let o): .linear(inputs: i, outputs: o)
            case .activation(let a): .activation(a)
            case .conv2d(let conv): .conv2d(conv)
            case .maxPool2d(let pool): .maxPool2d(pool)
            case .flatten: .flatten
            }
        }

        /// Weight and bias shapes as PyTorch's state dict has them, for the modules that have
        /// parameters: `[out, in]` and `[out]`; a convolution's `[out, in, k, k]` and `[out]`.
        public var parameterShapes: (weight: [Int], bias: [Int])? {
            switch self {
            case .linear(let inputs, let outputs): ([outputs, inputs], [outputs])
            case .conv2d(let c): ([c.outputChannels, c.inputChannels, c.kernelSize, c.kernelSize], [c.outputChannels])
            case .activation, .maxPool2d, .flatten: nil
            }
        }

        /// Weight and bias sizes, for the modules that have parameters.
        var parameterSizes: (weight: Int, bias: Int)? {
            parameterShapes.map { ($0.weight.reduce(1, *), $0.bias.reduce(1, *)) }
        }
    }

    /// Where one Linear module's parameters live in `parameters`.
    public struct LinearLayout: Equatable, Sendable {
        /// Position of the module in `modules` (the index in PyTorch's state-dict names).
        public let moduleIndex: Int
        public let inputs: Int
        public let outputs: Int
        public let weightOffset: Int
        public var biasOffset: Int { weightOffset + inputs * outputs }
    }

    /// Where one module's parameters (a Linear's or a Conv2d's) live in `parameters`.
    public struct ParameterLayout: Equatable, Sendable {
        /// Position of the module in `modules` (the index in PyTorch's state-dict names).
        public let moduleIndex: Int
        public let weightOffset: Int
        public let biasOffset: Int
        public let biasCount: Int
    }

    public let modules: [Module]
    /// Every parameter, in the layout described above. Changes go straight to the storage (an
    /// optimiser's step through `&network.parameters` copies nothing) and empty what was derived
    /// from the old values.
    public var parameters: [Scalar] {
        get { storedParameters }
        set {
            storedParameters = newValue
            derived = DerivedParameters<Scalar>()
        }
        _modify {
            derived = DerivedParameters<Scalar>()
            yield &storedParameters
        }
    }
    private var storedParameters: [Scalar]
    /// The Linear modules' parameter locations, in order.
    public let linearLayers: [LinearLayout]
    /// Every module's parameter location (nil for modules without parameters), by module index.
    public let parameterLayouts: [ParameterLayout?]
    /// Width of the input.
    public let inputDimensions: Int
    /// Width of the output.
    public let outputDimensions: Int
    /// What is computed from `parameters` once and kept: replaced (emptied) whenever they
    /// change, shared by copies until then.
    private var derived = DerivedParameters<Scalar>()

    /// Equal modules and parameters.
    public static func == (lhs: Sequential, rhs: Sequential) -> Bool {
        lhs.modules == rhs.modules && lhs.parameters == rhs.parameters
    }

    /// A network of the given modules and parameters. Fails if a module's input width does not
    /// match the previous module's output width, if there is no Linear layer, or if the
    /// parameter count is wrong.
    public init(modules: [Module], parameters: [Scalar]) throws(NetworkError) {
        var linear: [LinearLayout] = []
        var layouts: [ParameterLayout?] = []
        var offset = 0
        var width: Int? = nil
        var input: Int? = nil
        for (index, module) in modules.enumerated() {
            if case .linear(let inputs, let outputs) = module, inputs <= 0 || outputs <= 0 {
                throw NetworkError("module \(index): a Linear layer needs positive sizes, got \(inputs) → \(outputs)")
            }
            if let takes = module.inputWidth {
                if let width, width != takes {
                    throw NetworkError(
                        "module \(index): \(module.name) expects \(takes) inputs but the previous layer gives \(width)")
                }
                input = input ?? takes
            }
            width = module.outputWidth ?? width
            if case .linear(let inputs, let outputs) = module {
                linear.append(LinearLayout(moduleIndex: index, inputs: inputs, outputs: outputs, weightOffset: offset))
            }
            if let (weight, bias) = module.parameterSizes {
                layouts.append(
                    ParameterLayout(moduleIndex: index, weightOffset: offset, biasOffset: offset + weight, biasCount: bias))
                offset += weight + bias
            } else {
                layouts.append(nil)
            }
        }
        guard !linear.isEmpty, let input, let width else { throw NetworkError("a network needs at least one Linear layer") }
        guard parameters.count == offset else {
            throw NetworkError("the modules need \(offset) parameters, got \(parameters.count)")
        }
        self.modules = modules
        self.storedParameters = parameters
        self.linearLayers = linear
        self.parameterLayouts = layouts
        self.inputDimensions = input
        self.outputDimensions = width
    }

    /// A network of the given modules with freshly initialised parameters.
    public init(modules: [Module], initialization: Initialization = .pytorchDefault, random: RandomStream) throws(NetworkError) {
        let count = modules.reduce(0) { total, module in total + (module.parameterSizes.map { $0.weight + $0.bias } ?? 0) }
        try self.init(modules: modules, parameters: [Scalar](repeating: 0, count: count))
        initialization.initialize(&self, random: random)
    }

    /// A multilayer perceptron: `sizes = [in, h₁, …, out]`, `activation` after every hidden
    /// layer and `outputActivation` after the last (identity by default).
    public static func mlp(
        sizes: [Int], activation: Activation, outputActivation: Activation = .identity,
        initialization: Initialization = .pytorchDefault, random: RandomStream
    ) throws(NetworkError) -> Sequential {
        try Sequential(
            modules: mlpModules(sizes: sizes, activation: activation, outputActivation: outputActivation),
            initialization: initialization, random: random)
    }

    /// The module list of an MLP with the given sizes.
    public static func mlpModules(sizes: [Int], activation: Activation, outputActivation: Activation = .identity)
        throws(NetworkError) -> [Module]
    {
        guard sizes.count >= 2 else { throw NetworkError("an MLP needs at least an input and an output size, got \(sizes)") }
        var modules: [Module] = []
        for i in 0..<(sizes.count - 1) {
            modules.append(.linear(inputs: sizes[i], outputs: sizes[i + 1]))
            let isLast = i == sizes.count - 2
            let act = isLast ? outputActivation : activation
            if act != .identity { modules.append(.activation(act)) }
        }
        return modules
    }

    /// Number of scalar parameters.
    public var parameterCount: Int { parameters.count }
    /// Layer widths `[in, h₁, …, out]` of the Linear layers.
    public var sizes: [Int] { [linearLayers[0].inputs] + linearLayers.map(\.outputs) }

    /// Weight of Linear layer `layer` (counting Linear layers only), `[outputs × inputs]`.
    public func weight(_ layer: Int) -> Matrix<Scalar> {
        let l = linearLayers[layer]
        return Matrix(rows: l.outputs, columns: l.inputs, storage: Array(parameters[l.weightOffset..<l.biasOffset]))
    }

    /// Bias of Linear layer `layer`.
    public func bias(_ layer: Int) -> [Scalar] {
        let l = linearLayers[layer]
        return Array(parameters[l.biasOffset..<(l.biasOffset + l.outputs)])
    }

    /// Replaces the weight and bias of Linear layer `layer`.
    public mutating func setLayer(_ layer: Int, weight: Matrix<Scalar>, bias: [Scalar]) {
        let l = linearLayers[layer]
        precondition(weight.rows == l.outputs && weight.columns == l.inputs && bias.count == l.outputs)
        parameters.replaceSubrange(l.weightOffset..<l.biasOffset, with: weight.storage)
        parameters.replaceSubrange(l.biasOffset..<(l.biasOffset + l.outputs), with: bias)
    }

    /// The same network in another precision (an explicit conversion, never implicit).
    public func converted<Other: BLASScalar>(to _: Other.Type) -> Sequential<Other> {
        try! Sequential<Other>(modules: modules.map { $0.converted(to: Other.self) }, parameters: parameters.map { Other($0) })
    }

    // MARK: - Forward and backward

    /// The network's output for a batch of inputs `[batch × inputDimensions]`.
    public func callAsFunction(_ input: Matrix<Scalar>) -> Matrix<Scalar> {
        forward(input, workspace: Workspace(for: self, batch: input.rows))
    }

    /// `|θ|` for every parameter, in the same layout: the weights interval bounds propagate
    /// radii through. Computed once per parameter values.
    var absoluteParameters: [Scalar] {
        derived.absolute.withLock { cached in
            if let cached { return cached }
            let result = parameters.map { abs($0) }
            cached = result
            return result
        }
    }

    /// `parameters` with each Linear weight transposed in place (`[inputs × outputs]`; biases
    /// as they are): the right operand of `X · Wᵀ` as a plain product `X · (Wᵀ)`, computed once
    /// per set of parameters.
    public var transposedParameters: [Scalar] {
        derived.transposed.withLock { cached in
            if let cached { return cached }
            var result = parameters
            for layer in linearLayers {
                for j in 0..<layer.outputs {
                    for i in 0..<layer.inputs {
                        result[layer.weightOffset + i * layer.outputs + j] = parameters[layer.weightOffset + j * layer.inputs + i]
                    }
                }
            }
            cached = result
            return result
        }
    }

    /// Forward pass recording every module's output in `workspace` for a later `backward`.
    /// Allocates nothing when `workspace` already holds room for this batch size.
    @_specialize(exported:true,where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward(_ input: Matrix<Scalar>, workspace: Workspace<Scalar>) -> Matrix<Scalar> {
        precondition(input.columns == inputDimensions, "network expects \(inputDimensions) inputs, got \(input.columns)")
        input.storage.withUnsafeBufferPointer { forward(input: $0.baseAddress!, batch: input.rows, workspace: workspace) }
        return workspace.output
    }

    /// Forward pass over raw row-major input; the output stays in `workspace.outputPointer`.
    @_specialize(exported:true,where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward(input: UnsafePointer<Scalar>, batch: Int, workspace: Workspace<Scalar>) {
        workspace.prepare(for: self, batch: batch)
        workspace.values[0].update(from: input, count: batch * inputDimensions)
        let transposed = workspace.usesUnpackedProducts ? transposedParameters : nil
        parameters.withUnsafeBufferPointer { params in
            let p = params.baseAddress!
            var linearIndex = 0
            var width = inputDimensions
            for (index, module) in modules.enumerated() {
                let x = UnsafePointer(workspace.values[index])
                let y = workspace.values[index + 1]
                switch module {
                case .conv2d(let conv):
                    let layout = parameterLayouts[index]!
                    conv.forward(
                        x, batch: batch, weight: p + layout.weightOffset, bias: p + layout.biasOffset, into: y,
                        scratch: workspace.scratch)
                    width = conv.outputSize
                case .maxPool2d(let pool):
                    pool.forward(x, batch: batch, into: y)
                    width = pool.outputSize
                case .flatten:
                    break  // the workspace gives it its input's buffer
                case .linear(let inputs, let outputs):
                    let layout = linearLayers[linearIndex]
                    linearIndex += 1
                    let w = p + layout.weightOffset
                    let b = p + layout.biasOffset
                    for r in 0..<batch { (y + r * outputs).update(from: b, count: outputs) }
                    if let transposed {
                        transposed.withUnsafeBufferPointer { t in
                            Scalar.unpackedProduct(
                                m: batch, n: outputs, k: inputs, a: x, lda: inputs, b: t.baseAddress! + layout.weightOffset,
                                ldb: outputs,
                                beta: 1, c: y, ldc: outputs)
                        }
                    } else if batch == 1 {
                        Scalar.gemv(transposeA: false, m: outputs, n: inputs, alpha: 1, a: w, lda: inputs, x: x, beta: 1, y: y)
                    } else {
                        Scalar.gemm(
                            transposeA: false, transposeB: true, m: batch, n: outputs, k: inputs, alpha: 1,
                            a: x, lda: inputs, b: w, ldb: inputs, beta: 1, c: y, ldc: outputs)
                    }
                    width = outputs
                case .activation(let activation):
                    activation.apply(x, into: y, count: batch * width)
                }
            }
        }
    }

    /// Backward pass through the forward pass recorded in `workspace`, given `∂L/∂output`
    /// `[batch × outputDimensions]`.
    ///
    /// Writes `∂L/∂θ` into `parameterGradient` (same layout as `parameters`; overwritten, or
    /// added to when `accumulate` is true) if requested, and returns `∂L/∂input` if requested.
    /// Per Linear layer: `∂L/∂W = gᵀ x`, `∂L/∂b = Σ_rows g`, `∂L/∂x = g W`.
    @_specialize(exported:true,where Scalar == Float)
    @_specialize(where Scalar == Double)
    @discardableResult
    public func backward(
        outputGradient: Matrix<Scalar>, workspace: Workspace<Scalar>,
        parameterGradient: inout [Scalar], accumulate: Bool = false,
        request: GradientRequest = [.parameters, .input]
    ) -> Matrix<Scalar>? {
        precondition(
            outputGradient.rows == workspace.batch && outputGradient.columns == outputDimensions,
            "output gradient must be \(workspace.batch) × \(outputDimensions)")
        if request.contains(.parameters) {
            precondition(parameterGradient.count == parameters.count, "parameter gradient has the wrong size")
        }
        outputGradient.storage.withUnsafeBufferPointer { g in
            parameterGradient.withUnsafeMutableBufferPointer { pg in
                backward(
                    outputGradient: g.baseAddress!, workspace: workspace,
                    parameterGradient: request.contains(.parameters) ? pg.baseAddress : nil,
                    accumulate: accumulate, wantInputGradient: request.contains(.input))
            }
        }
        guard request.contains(.input) else { return nil }
        return Matrix(
            rows: workspace.batch, columns: inputDimensions,
            storage: Array(UnsafeBufferPointer(start: workspace.gradient, count: workspace.batch * inputDimensions)))
    }

    /// `∂L/∂input` for a batch, given `∂L/∂output`: one forward and one backward pass, no
    /// parameter gradients. This is the differentiable surface attacks use.
    public func inputGradient(_ input: Matrix<Scalar>, outputGradient: Matrix<Scalar>, workspace: Workspace<Scalar>? = nil)
        -> Matrix<Scalar>
    {
        let workspace = workspace ?? Workspace(for: self, batch: input.rows)
        _ = forward(input, workspace: workspace)
        var none: [Scalar] = []
        return backward(outputGradient: outputGradient, workspace: workspace, parameterGradient: &none, request: .input)!
    }

    /// The raw backward pass; the input gradient, when requested, is left in
    /// `workspace.gradient`. Allocates nothing.
    @_specialize(exported:true,where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func backward(
        outputGradient: UnsafePointer<Scalar>, workspace: Workspace<Scalar>,
        parameterGradient: UnsafeMutablePointer<Scalar>?, accumulate: Bool, wantInputGradient: Bool
    ) {
        let batch = workspace.batch
        var g = workspace.gradient
        var spare = workspace.spareGradient
        g.update(from: outputGradient, count: batch * outputDimensions)
        let beta: Scalar = accumulate ? 1 : 0
        let firstWithParameters = parameterLayouts.firstIndex { $0 != nil }!
        parameters.withUnsafeBufferPointer { params in
            let p = params.baseAddress!
            var linearIndex = linearLayers.count - 1
            var width = outputDimensions
            for index in stride(from: modules.count - 1, through: 0, by: -1) {
                if !wantInputGradient && parameterGradient == nil { break }
                if !wantInputGradient && index < firstWithParameters { break }
                switch modules[index] {
                case .conv2d(let conv):
                    let layout = parameterLayouts[index]!
                    let needsInput = wantInputGradient || index > firstWithParameters
                    conv.backward(
                        g, input: workspace.values[index], batch: batch, weight: p + layout.weightOffset,
                        weightGradient: parameterGradient.map { $0 + layout.weightOffset },
                        biasGradient: parameterGradient.map { $0 + layout.biasOffset }, accumulate: accumulate,
                        inputGradient: needsInput ? spare : nil, scratch: workspace.scratch)
                    if needsInput { swap(&g, &spare) }
                    width = conv.inputSize
                case .maxPool2d(let pool):
                    pool.backward(g, input: workspace.values[index], batch: batch, into: spare)
                    swap(&g, &spare)
                    width = pool.inputSize
                case .flatten:
                    break
                case .activation(let activation):
                    activation.multiplyByDerivative(g, output: workspace.values[index + 1], count: batch * width)
                case .linear(let inputs, let outputs):
                    let layout = linearLayers[linearIndex]
                    linearIndex -= 1
                    let x = UnsafePointer(workspace.values[index])
                    if let pg = parameterGradient {
                        Scalar.gemm(
                            transposeA: true, transposeB: false, m: outputs, n: inputs, k: batch, alpha: 1,
                            a: g, lda: outputs, b: x, ldb: inputs, beta: beta, c: pg + layout.weightOffset, ldc: inputs)
                        Scalar.gemv(
                            transposeA: true, m: batch, n: outputs, alpha: 1, a: g, lda: outputs,
                            x: workspace.ones, beta: beta, y: pg + layout.biasOffset)
                    }
                    if wantInputGradient || index > firstWithParameters {
                        let w = p + layout.weightOffset
                        if workspace.usesUnpackedProducts {
                            Scalar.unpackedProduct(
                                m: batch, n: inputs, k: outputs, a: g, lda: outputs, b: w, ldb: inputs, beta: 0, c: spare,
                                ldc: inputs)
                        } else {
                            Scalar.gemm(
                                transposeA: false, transposeB: false, m: batch, n: inputs, k: outputs, alpha: 1,
                                a: g, lda: outputs, b: w, ldb: inputs, beta: 0, c: spare, ldc: inputs)
                        }
                        swap(&g, &spare)
                    }
                    width = inputs
                }
            }
        }
        if g != workspace.gradient {
            workspace.gradient.update(from: g, count: batch * inputDimensions)
        }
    }
}

/// Values computed from a network's parameters, filled on first use from any thread.
private final class DerivedParameters<Scalar: BLASScalar>: Sendable {
    let transposed = Mutex<[Scalar]?>(nil)
    let absolute = Mutex<[Scalar]?>(nil)
}

/// An invalid network description (sizes that do not chain, a wrong parameter count).
public struct NetworkError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What `Sequential.backward` computes.
public struct GradientRequest: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Gradient with respect to every parameter (training).
    public static let parameters = GradientRequest(rawValue: 1)
    /// Gradient with respect to the input (attacks, saliency).
    public static let input = GradientRequest(rawValue: 2)
}

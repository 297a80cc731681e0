import CBackpropKernels

/// An elementwise primitive of one argument: its value and its local derivative, side by side.
///
/// Both the vector-Jacobian product and the Jacobian-vector product of an elementwise function multiply by
/// the same local derivative: `g · f′(x)`. The derivative is stated once, over `ElementwiseAlgebra`, and
/// evaluated on numbers (the fast first-order path and scalar records) and on tensors built from recorded
/// primitives (second and higher derivatives, traces). A new primitive adds its row to `ScalarPrimitiveCode`.
@usableFromInline
protocol UnaryPrimitive: SendableMetatype {
    /// The name traces and error messages use.
    static var name: String { get }
    /// The code that identifies the primitive in scalar records, traces and compiled kernels.
    static var code: ScalarPrimitiveCode { get }
    /// y = f(x).
    static func value<S: TensorScalar>(_ x: S) -> S
    /// f′(x), given x and y = f(x) (several derivatives are cheapest in terms of y).
    static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A) -> A
    /// Writes y = f(x) for `count` values by the scalar type's vectorised kernel and returns true, when the
    /// primitive has one; false (the default) leaves `y` to a loop over `value`.
    static func valuesByKernel<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) -> Bool
}

extension UnaryPrimitive {
    /// No vectorised kernel: `value` element by element.
    @usableFromInline static func valuesByKernel<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) -> Bool {
        false
    }

    /// f′(x) at numbers.
    @inlinable @inline(__always)
    static func derivative<S: TensorScalar>(_ x: S, _ y: S) -> S { derivative(Number(x), Number(y)).value }

    /// f′(x) as a differentiable tensor, given x and y = f(x) (tracked when they are).
    static func derivative<S: TensorScalar>(at x: Tensor<S>, value y: Tensor<S>) -> Tensor<S> {
        derivative(TensorExpression(x), TensorExpression(y)).tensor
    }
}

extension Tensor {
    /// Applies a unary primitive to a scalar and records it: the fast path of scalar graphs, inlined into
    /// the caller so that it is specialised there.
    @inlinable @inline(__always)
    func applyingToScalar<P: UnaryPrimitive>(_: P.Type) -> Tensor {
        let y = P.value(scalarValue)
        if annex != nil && isTraced { return applyingToTracedScalar(P.self) }
        guard isTracked else { return Tensor(y) }
        return Tensor(y).recordedUnary(P.code, self, partial: P.derivative(scalarValue, y))
    }

    /// A unary primitive of a traced scalar: traced, and recorded as a tensor record whose rule is built from
    /// tensors (a scalar record's stored partials would be the first call's numbers in a replay).
    @usableFromInline
    func applyingToTracedScalar<P: UnaryPrimitive>(_: P.Type) -> Tensor {
        let out = Tensor(P.value(scalarValue)).traced(.elementwise(P.code), [self]) { $0[0].applying(P.self) }
        return out.recordedElementwise(P.self, self)
    }

    /// Applies a unary primitive elementwise and records it.
    @inline(__always) @usableFromInline
    func applying<P: UnaryPrimitive>(_: P.Type) -> Tensor {
        if shape.isEmpty { return applyingToScalar(P.self) }
        if P.self == RectifiedLinear.self { return appliedReLU() }
        let count = scalarCount
        let values = [Scalar](unsafeUninitializedCapacity: count) { result, initialized in
            buffer.withUnsafeBufferPointer { xp in
                guard count > 0 else { return }
                let pointers = LoopPointers(inputs: [xp.baseAddress!], output: result.baseAddress!)
                forEachChunk(count: count) { range in
                    let x = pointers.inputs[0], y = pointers.output
                    if P.valuesByKernel(x + range.lowerBound, y + range.lowerBound, count: range.count) { return }
                    for i in range { y[i] = P.value(x[i]) }
                }
            }
            initialized = count
        }
        var out = Tensor(shape: shape, buffer: values)
        if isTraced { out = out.traced(.elementwise(P.code), [self]) { $0[0].applying(P.self) } }
        return out.recordedElementwise(P.self, self)
    }

    /// Records `self`, the value of the elementwise primitive `P` at `x`, with x and y saved: its rule is the
    /// primitive's code (`ElementwiseUnaryRule`), no closure.
    func recordedElementwise<P: UnaryPrimitive>(_: P.Type, _ x: Tensor) -> Tensor {
        guard x.isTracked else { return self }
        return recorded(P.name, inputs: [x], saving: [x], savingOutput: true, rule: DerivativeRule(.unary(ElementwiseUnaryRule(code: P.code))))
    }

    /// g · f′(x) elementwise: one fused loop for a first-order sweep, recorded primitives when the sweep
    /// records (derivatives of derivatives).
    static func scaledByDerivative<P: UnaryPrimitive>(_: P.Type, _ g: Tensor, _ x: Tensor, _ y: Tensor) -> Tensor {
        if !fusedRulesAllowed() { return g * P.derivative(at: x, value: y) }
        let count = g.scalarCount
        let grad = [Scalar](unsafeUninitializedCapacity: count) { result, initialized in
            g.withScalarBuffer { gp in
                x.withScalarBuffer { xp in
                    y.withScalarBuffer { yp in
                        guard count > 0 else { return }
                        let pointers = LoopPointers(
                            inputs: [gp.baseAddress!, xp.baseAddress!, yp.baseAddress!], output: result.baseAddress!)
                        forEachChunk(count: count) { range in
                            let g = pointers.inputs[0], x = pointers.inputs[1], y = pointers.inputs[2], out = pointers.output
                            for i in range { out[i] = g[i] * P.derivative(x[i], y[i]) }
                        }
                    }
                }
            }
            initialized = count
        }
        return Tensor(shape: x.shape, buffer: grad)
    }
}

extension Tensor {
    /// ReLU of a tensor by the vectorised kernels: max(x, 0) forward, and a pullback that passes g where
    /// x > 0 and 0 elsewhere (so an infinite or NaN gradient at an inactive unit does not leak through).
    @usableFromInline
    func appliedReLU() -> Tensor {
        let x = self
        let count = scalarCount
        let values = withScalarBuffer { xp in
            [Scalar](unsafeUninitializedCapacity: count) { out, initialized in
                if count > 0 { vectorRelu(xp.baseAddress!, out.baseAddress!, count: count) }
                initialized = count
            }
        }
        var out = Tensor(shape: shape, buffer: values)
        if isTraced { out = out.traced(.unary(.rectifiedLinear), [x]) { relu($0[0]) } }
        guard isTracked else { return out }
        return out.recorded(
            RectifiedLinear.name, inputs: [x], saving: [x],
            vjp: { g, saved in [Tensor.reluBackward(g, saved[0])] },
            jvp: { t, saved in t[0].map { Tensor.reluBackward($0, saved[0]) } },
            batchedVJP: { g, saved in [g * (saved[0].detached() .> 0)] },
            batchedJVP: { t, saved in t[0].map { $0 * (saved[0].detached() .> 0) } })
    }

    /// g where x > 0, else 0, by the vectorised kernel. When recorded (a sweep that will be differentiated
    /// again) it is its own primitive, linear in g with x's sign pattern a constant: its VJP and its JVP are
    /// the same masking, so a Hessian-vector product masks each tangent in one pass, without a mask tensor.
    static func reluBackward(_ g: Tensor, _ x: Tensor) -> Tensor {
        guard g.shape == x.shape else { return g * (x.detached() .> 0) }
        let count = g.scalarCount
        let grad = g.withScalarBuffer { gp in
            x.withScalarBuffer { xp in
                [Scalar](unsafeUninitializedCapacity: count) { result, initialized in
                    if count > 0 {
                        vectorReluBackward(gradient: gp.baseAddress!, input: xp.baseAddress!, result.baseAddress!, count: count)
                    }
                    initialized = count
                }
            }
        }
        var out = Tensor(shape: x.shape, buffer: grad)
        if g.isTraced || x.isTraced { out = out.traced(.reluBackward, [g, x]) { reluBackward($0[0], $0[1]) } }
        guard g.isTracked, isRecording else { return out }
        return out.recorded(
            "reluBackward", inputs: [g], saving: [x.detached()],
            vjp: { u, saved in [reluBackward(u, saved[0])] },
            jvp: { t, saved in t[0].map { reluBackward($0, saved[0]) } },
            batchedVJP: { u, saved in [u * (saved[0] .> 0)] },
            batchedJVP: { t, saved in t[0].map { $0 * (saved[0] .> 0) } })
    }
}

/// The derivative rule of an elementwise function of one argument, recorded by its code, with x and y = f(x)
/// saved: the VJP and the JVP both multiply by f′(x), the primitive's `derivative`.
struct ElementwiseUnaryRule {
    /// The primitive.
    let code: ScalarPrimitiveCode

    /// [g · f′(x)].
    func vjp<S: TensorScalar>(_ g: Tensor<S>, _ saved: [Tensor<S>]) -> [Tensor<S>?] {
        [code.visit(ScaleByDerivative(g: g, x: saved[0], y: saved[1], batched: false))]
    }

    /// ẋ · f′(x).
    func jvp<S: TensorScalar>(_ t: [Tensor<S>?], _ saved: [Tensor<S>]) -> Tensor<S>? {
        t[0].map { code.visit(ScaleByDerivative(g: $0, x: saved[0], y: saved[1], batched: false)) }
    }

    /// The VJP of cotangents stacked along a new leading axis.
    func batchedVJP<S: TensorScalar>(_ g: Tensor<S>, _ saved: [Tensor<S>]) -> [Tensor<S>?] {
        [code.visit(ScaleByDerivative(g: g, x: saved[0], y: saved[1], batched: true))]
    }

    /// The JVP of tangents stacked along a new leading axis.
    func batchedJVP<S: TensorScalar>(_ t: [Tensor<S>?], _ saved: [Tensor<S>]) -> Tensor<S>? {
        t[0].map { code.visit(ScaleByDerivative(g: $0, x: saved[0], y: saved[1], batched: true)) }
    }
}

/// g · f′(x) for the primitive found by its code: by the fused loop of `scaledByDerivative` for one cotangent
/// or tangent, by broadcasting the derivative against a stacked batch.
private struct ScaleByDerivative<Scalar: TensorScalar>: ElementwisePrimitiveVisitor {
    let g: Tensor<Scalar>, x: Tensor<Scalar>, y: Tensor<Scalar>
    let batched: Bool
    func visitUnary<P: UnaryPrimitive>(_: P.Type) -> Tensor<Scalar> {
        batched ? g * P.derivative(at: x, value: y) : Tensor.scaledByDerivative(P.self, g, x, y)
    }
    func visitBinary<P: BinaryPrimitive>(_: P.Type) -> Tensor<Scalar> {
        preconditionFailure("\(P.name) takes two arguments")
    }
}

/// Applies a unary primitive, found by its code, to a tensor.
private struct ApplyUnary<Scalar: TensorScalar>: ElementwisePrimitiveVisitor {
    let x: Tensor<Scalar>
    func visitUnary<P: UnaryPrimitive>(_: P.Type) -> Tensor<Scalar> { x.applying(P.self) }
    func visitBinary<P: BinaryPrimitive>(_: P.Type) -> Tensor<Scalar> {
        preconditionFailure("\(P.name) takes two arguments")
    }
}

extension Tensor {
    /// The tensor path of a unary primitive: one entry point specialised for `Float` and `Double`, in which the
    /// table's row for each code calls the path specialised for that primitive.
    @usableFromInline @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    func applyingToTensor(_ code: ScalarPrimitiveCode) -> Tensor { code.visit(ApplyUnary(x: self)) }
}

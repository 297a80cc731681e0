/// An elementwise primitive of one argument: its value and its local derivative, side by side.
///
/// The vector-Jacobian product of an elementwise function is `g · f′(x)`.
@usableFromInline
protocol UnaryPrimitive {
    /// The name traces and error messages use.
    static var name: String { get }
    /// y = f(x).
    static func value<S: TensorScalar>(_ x: S) -> S
    /// f′(x), given x and y = f(x) (several derivatives are cheapest in terms of y).
    static func derivative<S: TensorScalar>(_ x: S, _ y: S) -> S
}

extension Tensor {
    /// Applies a unary primitive elementwise and records it.
    @inline(__always) @usableFromInline
    func applying<P: UnaryPrimitive>(_: P.Type) -> Tensor {
        if shape.isEmpty {
            let y = P.value(scalarValue)
            guard isTracked else { return Tensor(y) }
            return Tensor(y).recordedUnary(self, partial: P.derivative(scalarValue, y))
        }
        let x = self
        let out = Tensor(shape: shape, buffer: buffer.map { P.value($0) })
        guard isTracked else { return out }
        return out.recorded(P.name, inputs: [x]) { g in
            let count = g.scalarCount
            let grad = [Scalar](unsafeUninitializedCapacity: count) { result, initialized in
                g.withScalarBuffer { gp in
                    x.withScalarBuffer { xp in
                        out.withScalarBuffer { yp in
                            for i in 0..<count { result[i] = gp[i] * P.derivative(xp[i], yp[i]) }
                        }
                    }
                }
                initialized = count
            }
            return [Tensor(shape: x.shape, buffer: grad)]
        }
    }
}

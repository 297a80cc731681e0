/// An elementwise primitive of two arguments: its value and its local partial derivatives, side by side.
///
/// The engine applies it with NumPy broadcasting. Its vector-Jacobian product is
/// `(g · ∂y/∂a, g · ∂y/∂b)`, each summed back to its input's shape.
@usableFromInline
protocol BinaryPrimitive {
    /// The name traces and error messages use.
    static var name: String { get }
    /// y = f(a, b).
    static func value<S: TensorScalar>(_ a: S, _ b: S) -> S
    /// (∂y/∂a, ∂y/∂b) at (a, b), given y.
    static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S)
}

extension Tensor {
    /// Applies a binary primitive with broadcasting and records it.
    @inline(__always) @usableFromInline
    static func applying<P: BinaryPrimitive>(_: P.Type, _ a: Tensor, _ b: Tensor) -> Tensor {
        if a.shape.isEmpty && b.shape.isEmpty {
            let y = P.value(a.scalarValue, b.scalarValue)
            guard a.isTracked || b.isTracked else { return Tensor(y) }
            let (da, db) = P.partials(a.scalarValue, b.scalarValue, y)
            return Tensor(y).recordedBinary(a, da, b, db)
        }
        let shape = broadcastShape(a.shape, b.shape, operation: P.name)
        let out = Tensor(shape: shape, buffer: broadcastMap(a, b, shape, P.value))
        guard a.isTracked || b.isTracked else { return out }
        return out.recorded(P.name, inputs: [a, b]) { g in
            var ga = [Scalar](repeating: 0, count: g.scalarCount)
            var gb = ga
            let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
            g.withScalarBuffer { gp in
                a.withScalarBuffer { ap in
                    b.withScalarBuffer { bp in
                        out.withScalarBuffer { yp in
                            forEachBroadcastOffset(shape, sa, sb) { i, ia, ib in
                                let (da, db) = P.partials(ap[ia], bp[ib], yp[i])
                                ga[i] = gp[i] * da
                                gb[i] = gp[i] * db
                            }
                        }
                    }
                }
            }
            return [
                Tensor(shape: shape, buffer: ga).summed(toShape: a.shape),
                Tensor(shape: shape, buffer: gb).summed(toShape: b.shape),
            ]
        }
    }

    /// f(a, b) elementwise over the broadcast `shape`.
    @inline(__always) @usableFromInline
    static func broadcastMap(_ a: Tensor, _ b: Tensor, _ shape: [Int], _ f: (Scalar, Scalar) -> Scalar) -> [Scalar] {
        let count = shape.reduce(1, *)
        return a.withScalarBuffer { ap in
            b.withScalarBuffer { bp in
                [Scalar](unsafeUninitializedCapacity: count) { out, initialized in
                    if a.shape == b.shape {
                        for i in 0..<count { out[i] = f(ap[i], bp[i]) }
                    } else if bp.count == 1 {
                        let s = bp[0]
                        for i in 0..<count { out[i] = f(ap[i], s) }
                    } else if ap.count == 1 {
                        let s = ap[0]
                        for i in 0..<count { out[i] = f(s, bp[i]) }
                    } else {
                        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
                        forEachBroadcastOffset(shape, sa, sb) { i, ia, ib in out[i] = f(ap[ia], bp[ib]) }
                    }
                    initialized = count
                }
            }
        }
    }
}

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
    /// Applies a binary primitive to two scalars and records it: the fast path of scalar graphs, inlined
    /// into the caller so that it is specialised there.
    @inlinable @inline(__always)
    static func applyingToScalars<P: BinaryPrimitive>(_: P.Type, _ a: Tensor, _ b: Tensor) -> Tensor {
        let y = P.value(a.scalarValue, b.scalarValue)
        guard a.isTracked || b.isTracked else { return Tensor(y) }
        let (da, db) = P.partials(a.scalarValue, b.scalarValue, y)
        return Tensor(y).recordedBinary(a, da, b, db)
    }

    /// Applies a binary primitive with broadcasting and records it.
    @inline(__always) @usableFromInline
    static func applying<P: BinaryPrimitive>(_: P.Type, _ a: Tensor, _ b: Tensor) -> Tensor {
        if a.shape.isEmpty && b.shape.isEmpty { return applyingToScalars(P.self, a, b) }
        let shape = broadcastShape(a.shape, b.shape, operation: P.name)
        let values = P.self == Addition.self
            ? (rowBiasSum(a, b) ?? broadcastMap(a, b, shape, P.value)) : broadcastMap(a, b, shape, P.value)
        let out = Tensor(shape: shape, buffer: values)
        guard a.isTracked || b.isTracked else { return out }
        let trackA = a.isTracked, trackB = b.isTracked
        return out.recorded(P.name, inputs: [a, b]) { g in
            // Sums and differences pass the gradient through unchanged (up to sign).
            if P.self == Addition.self || P.self == Subtraction.self {
                let gb = P.self == Subtraction.self ? -g : g
                return [trackA ? g.summed(toShape: a.shape) : nil, trackB ? gb.summed(toShape: b.shape) : nil]
            }
            var ga = trackA ? [Scalar](repeating: 0, count: g.scalarCount) : []
            var gb = trackB ? [Scalar](repeating: 0, count: g.scalarCount) : []
            let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
            g.withScalarBuffer { gp in
                a.withScalarBuffer { ap in
                    b.withScalarBuffer { bp in
                        out.withScalarBuffer { yp in
                            ga.withUnsafeMutableBufferPointer { gap in
                                gb.withUnsafeMutableBufferPointer { gbp in
                                    forEachBroadcastOffset(shape, sa, sb) { i, ia, ib in
                                        let (da, db) = P.partials(ap[ia], bp[ib], yp[i])
                                        if trackA { gap[i] = gp[i] * da }
                                        if trackB { gbp[i] = gp[i] * db }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return [
                trackA ? Tensor(shape: shape, buffer: ga).summed(toShape: a.shape) : nil,
                trackB ? Tensor(shape: shape, buffer: gb).summed(toShape: b.shape) : nil,
            ]
        }
    }

    /// a + b when one operand is a vector added to every row of the other (a bias: `[..., n] + [n]` or
    /// `[n] + [..., n]`), by the vectorised kernel; nil for any other pair of shapes.
    @usableFromInline
    static func rowBiasSum(_ a: Tensor, _ b: Tensor) -> [Scalar]? {
        let (matrix, bias) = b.rank == 1 && a.rank >= 2 ? (a, b) : (b, a)
        guard bias.rank == 1, matrix.rank >= 2, matrix.shape[matrix.rank - 1] == bias.shape[0] else { return nil }
        let columns = bias.shape[0], count = matrix.scalarCount
        guard columns > 0, count > 0 else { return nil }
        return matrix.withScalarBuffer { mp in
            bias.withScalarBuffer { bp in
                [Scalar](unsafeUninitializedCapacity: count) { out, initialized in
                    addBiasRows(mp.baseAddress!, bias: bp.baseAddress!, out.baseAddress!,
                                rows: count / columns, columns: columns)
                    initialized = count
                }
            }
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

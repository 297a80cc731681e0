// The exact GELU as one recorded primitive: x·Φ(x) forward in one pass over the vectorised erf, and
// g·(Φ(x) + x·φ(x)) backward in one pass over the vectorised exp, with Φ kept from the forward pass; both
// split over the cores.

/// x·Φ(x), Φ(x) = (1 + erf(x/√2)) / 2, as one recorded primitive whose reference is `geluReference`.
func fusedGELU<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    fusedPrimitive(
        named: "gelu", at: [x],
        forward: { geluForward($0[0], cache: $1) },
        backward: { inputs, _, cotangent, cache in [geluBackward(inputs[0], cotangent, cache: cache)] },
        reference: { geluReference($0[0]) })
}

/// x·Φ(x) as differentiable tensor operations.
func geluReference<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    0.5 * x * (1 + erf(x * Scalar(0.7071067811865476)))
}

/// Elements per part of a split loop.
private let geluPart = 1 << 15

/// The forward pass; the cache keeps Φ(x).
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
func geluForward<Scalar: TensorScalar>(_ x: Tensor<Scalar>, cache: FusedPrimitiveCache<Scalar>?) -> Tensor<Scalar> {
    let count = x.scalarCount
    guard count > 0 else {
        cache?.values = [[]]
        return x
    }
    var phi = [Scalar](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    var output = [Scalar](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    x.withUnsafeScalars { xp in
        phi.withUnsafeMutableBufferPointer { pp in
            output.withUnsafeMutableBufferPointer { yp in
                let (x, p, y) = (xp.baseAddress!, pp.baseAddress!, yp.baseAddress!)
                forEachPart(count: count, minimumPerPart: geluPart) { _, range in
                    let (x, p, y, n) = (x + range.lowerBound, p + range.lowerBound, y + range.lowerBound, range.count)
                    Vector.affine(x, Scalar(0.7071067811865476), 0, p, n)
                    VectorFunction.erf.apply(p, p, count: n)
                    Vector.affine(p, 0.5, 0.5, p, n)
                    Vector.multiply(x, p, y, n)
                }
            }
        }
    }
    cache?.values = [phi]
    return Tensor(shape: x.shape, scalars: output)
}

/// The backward pass: g · (Φ(x) + x·φ(x)), φ(x) = e^(−x²/2) / √(2π).
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
func geluBackward<Scalar: TensorScalar>(_ x: Tensor<Scalar>, _ cotangent: Tensor<Scalar>, cache: FusedPrimitiveCache<Scalar>) -> Tensor<Scalar> {
    let count = x.scalarCount
    guard count > 0 else { return x }
    var gradient = [Scalar](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    x.withUnsafeScalars { xp in
        cotangent.withUnsafeScalars { gp in
            cache.values[0].withUnsafeBufferPointer { pp in
                gradient.withUnsafeMutableBufferPointer { dp in
                    let (x, g, phi, d) = (xp.baseAddress!, gp.baseAddress!, pp.baseAddress!, dp.baseAddress!)
                    forEachPart(count: count, minimumPerPart: geluPart) { _, range in
                        let (x, g, phi, d, n) = (x + range.lowerBound, g + range.lowerBound, phi + range.lowerBound, d + range.lowerBound, range.count)
                        // φ(x) = e^(−x²/2)/√(2π); then g · (Φ + x · φ).
                        Vector.multiply(x, x, d, n)
                        Vector.affine(d, -0.5, 0, d, n)
                        VectorFunction.exp.apply(d, d, count: n)
                        Vector.multiply(x, d, d, n)
                        Vector.affine(d, Scalar(0.3989422804014327), 0, d, n)
                        Vector.add(d, phi, d, n)
                        Vector.multiply(g, d, d, n)
                    }
                }
            }
        }
    }
    return Tensor(shape: x.shape, scalars: gradient)
}

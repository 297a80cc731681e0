// ReLU's pullback through max pooling's pullback, applied to the pooled gradient. A convolution followed by
// ReLU and max pooling differentiates to `reluBackward(scatter(g), x)`: a pass over the full-size image that
// masks a tensor which is zero everywhere but at the windows' maxima. Masking the pooled gradient before the
// scatter gives the same values over a quarter of the data for 2×2 windows, and the backward sweep no longer
// reads the pre-activation x.

extension Graph {
    /// The graph with every `reluBackward(scatterFlat(g, routing), x)` whose scatter nothing else reads
    /// rewritten as `scatterFlat(reluBackward(g, gatherFlat(t, routing)), routing)`: max pooling applied to a
    /// ReLU's output, whose pullback masks with the ReLU's input. `t > 0` must hold exactly where `x > 0`: the
    /// gather is one the graph already computes with the same routing and source, of `x`, `relu(x)` or a `t`
    /// with `x = relu(t)` (the pooled forward value), else a new gather of `x` at the pooled size.
    ///
    /// Equal values, bit for bit: a position no window chose is zero both ways, and one the windows chose gets
    /// the sum of their gradients where `x > 0` and zero elsewhere, added in the same order.
    func withReLUMasksBeforeScatters() -> Graph {
        let uses = useCounts()
        /// Whether `t > 0` exactly where `x > 0`, elementwise.
        func signsAgree(_ t: Int32, _ x: Int32) -> Bool {
            func isReLU(of outer: Int32, _ inner: Int32) -> Bool {
                guard case .unary(.rectifiedLinear) = nodes[Int(outer)].kind else { return false }
                return nodes[Int(outer)].inputs[0] == inner
            }
            return t == x || isReLU(of: t, x) || isReLU(of: x, t)
        }
        /// Gathers at chosen positions, by routing.
        var gathers: [ObjectIdentifier: [Int32]] = [:]
        return rewritten { i, node, rebuild in
            if case .opaque("gatherFlat") = node.kind, let routing = node.routing {
                gathers[routing.id, default: []].append(Int32(i))
            }
            guard case .reluBackward = node.kind, !node.shape.isEmpty else { return nil }
            let scatterID = node.inputs[0], mask = node.inputs[1]
            let scatter = nodes[Int(scatterID)]
            guard case .opaque("scatterFlat") = scatter.kind, let routing = scatter.routing, uses[Int(scatterID)] == 1
            else { return nil }
            let pooledGradient = scatter.inputs[0], source = scatter.inputs[1]
            let pooledShape = nodes[Int(pooledGradient)].shape
            let existing = gathers[routing.id]?.first { id in
                let g = nodes[Int(id)]
                return g.inputs[1] == source && g.shape == pooledShape && signsAgree(g.inputs[0], mask)
            }
            let pooledMask: Int32
            if let existing {
                pooledMask = rebuild.new(existing)
            } else if let gather = routing.gather {
                pooledMask = rebuild.append(TraceNode(
                    kind: .opaque("gatherFlat"), inputs: [rebuild.new(mask), rebuild.new(source)], shape: pooledShape,
                    replay: gather, routing: TracedRouting(memo: routing.memo)))
            } else {
                return nil
            }
            let masked = rebuild.append(TraceNode(
                kind: .reluBackward, inputs: [rebuild.new(pooledGradient), pooledMask], shape: pooledShape,
                replay: { Tensor.reluBackward($0[0], $0[1]) }))
            var moved = scatter
            moved.inputs = [masked, rebuild.new(source)]
            return rebuild.append(moved)
        }
    }
}

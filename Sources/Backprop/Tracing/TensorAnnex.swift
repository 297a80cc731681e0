// What a tensor may carry besides its value and its tape node: the gradient box of a PyTorch-style leaf, or
// the marker of a value traced by `compiled`. One optional reference serves both, so `Tensor` does not grow
// and the fast paths test one field for "something special".

/// The base of a tensor's annex: a `GradientBox` or a `TraceMarker`.
@usableFromInline
class TensorAnnex<Scalar: TensorScalar>: @unchecked Sendable {
    /// Whether this annex marks a traced value (else it is a gradient box).
    @usableFromInline let isTraceMarker: Bool

    init(isTraceMarker: Bool) { self.isTraceMarker = isTraceMarker }
}

extension Tensor {
    /// For a tensor that requires a gradient: where its gradient accumulates.
    @inlinable var leaf: GradientBox<Scalar>? {
        guard let annex, !annex.isTraceMarker else { return nil }
        return unsafeDowncast(annex, to: GradientBox<Scalar>.self)
    }

    /// Whether this tensor is a value traced by `compiled` (its marker is set).
    @inlinable var isTraced: Bool { annex?.isTraceMarker ?? false }

    /// The marker of a traced value, if this is one.
    var traceMarker: TraceMarker<Scalar>? {
        guard let annex, annex.isTraceMarker else { return nil }
        return unsafeDowncast(annex, to: TraceMarker<Scalar>.self)
    }

    /// Forgets a leaf's gradient box (a copy that is no longer a leaf), keeping a trace marker.
    @inlinable mutating func dropLeaf() {
        if let annex, !annex.isTraceMarker { self.annex = nil }
    }

    /// Makes this tensor a leaf with a new gradient box.
    mutating func makeLeaf() {
        precondition(
            !isTraced,
            "requiringGradient(): a tensor traced inside compiled cannot become a leaf; differentiate with "
                + "valueWithGradient(at:of:) inside the compiled function instead")
        annex = GradientBox()
    }
}

@testable import Backprop
import Testing

/// The patch-matrix kernels (im2col and its adjoint) on every kernel path against their definition: the
/// vector paths move runs of an input row, whole vectors and a last partial one, so rows of 1 to 20 outputs
/// cover runs shorter than, equal to and longer than a vector.
@Suite struct PatchKernelTests {
    static let geometries: [WindowGeometry] = [
        WindowGeometry(kernel: (3, 3), padding: (1, 1)),
        WindowGeometry(kernel: (2, 3), stride: (1, 1), padding: (0, 2), dilation: (1, 2)),
        WindowGeometry(kernel: (3, 2), stride: (2, 3), padding: (1, 1)),
    ]

    /// Calls `body(patchIndex, imageIndex)` for every patch entry whose tap is inside the image, in the
    /// kernels' order: patches[(channel·kh + i)·kw + j][y·ow + x] comes from
    /// image[channel][y·sh − ph + i·dh][x·sw − pw + j·dw].
    static func forEachTap(c: Int, h: Int, w: Int, oh: Int, ow: Int, _ g: WindowGeometry, _ body: (Int, Int) -> Void) {
        for channel in 0..<c {
            for i in 0..<g.kernel.height {
                for j in 0..<g.kernel.width {
                    let row = (channel * g.kernel.height + i) * g.kernel.width + j
                    for y in 0..<oh {
                        for x in 0..<ow {
                            let r = y * g.stride.height - g.padding.height + i * g.dilation.height
                            let s = x * g.stride.width - g.padding.width + j * g.dilation.width
                            guard r >= 0, r < h, s >= 0, s < w else { continue }
                            body(row * oh * ow + y * ow + x, (channel * h + r) * w + s)
                        }
                    }
                }
            }
        }
    }

    static func check<Scalar: TensorScalar>(_: Scalar.Type, on path: KernelPath) {
        var random = KernelTestRandom(seed: 91)
        for g in geometries {
            for width in 1...22 {
                let (c, h) = (2, 5)
                guard let (oh, ow) = g.outputSize(height: h, width: width) else { continue }
                let image: [Scalar] = random.values(c * h * width)
                let rows = c * g.kernel.height * g.kernel.width
                // Unfold over a marked matrix: the entries of padding taps must stay as they were.
                var expected = [Scalar](repeating: 7, count: rows * oh * ow)
                forEachTap(c: c, h: h, w: width, oh: oh, ow: ow, g) { patch, pixel in expected[patch] = image[pixel] }
                var patches = [Scalar](repeating: 7, count: rows * oh * ow)
                withKernelPath(path) {
                    image.withUnsafeBufferPointer { source in
                        patches.withUnsafeMutableBufferPointer { target in
                            Scalar._unfoldImage(source.baseAddress!, into: target.baseAddress!, channels: c, height: h,
                                                width: width, outputHeight: oh, outputWidth: ow, geometry: g)
                        }
                    }
                }
                #expect(patches == expected, "unfold, width \(width), \(g), \(Scalar.self) on \(path)")
                // Fold into a nonzero image: the kernel adds to what is there.
                let gradient: [Scalar] = random.values(rows * oh * ow)
                let start: [Scalar] = random.values(c * h * width)
                var folded = start, reference = start
                // The adjoint: each patch entry added back to the pixel it came from, in the same order.
                forEachTap(c: c, h: h, w: width, oh: oh, ow: ow, g) { patch, pixel in reference[pixel] += gradient[patch] }
                withKernelPath(path) {
                    gradient.withUnsafeBufferPointer { source in
                        folded.withUnsafeMutableBufferPointer { target in
                            Scalar._foldImage(source.baseAddress!, into: target.baseAddress!, channels: c, height: h,
                                              width: width, outputHeight: oh, outputWidth: ow, geometry: g)
                        }
                    }
                }
                #expect(folded == reference, "fold, width \(width), \(g), \(Scalar.self) on \(path)")
            }
        }
    }

    @Test(arguments: testableKernelPaths)
    func unfoldAndFoldEqualTheDefinition(path: KernelPath) {
        Self.check(Float.self, on: path)
        Self.check(Double.self, on: path)
    }
}

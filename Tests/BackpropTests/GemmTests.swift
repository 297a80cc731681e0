@testable import Backprop
import Testing

/// One product to check: shapes, transposes, scalars and extra stride padding.
private struct GemmCase: CustomStringConvertible {
    var transposeA: Bool
    var transposeB: Bool
    var m: Int
    var n: Int
    var k: Int
    var alpha: Double
    var beta: Double
    var padding: Int

    var description: String {
        "op(A)\(transposeA ? "ᵀ" : "")·op(B)\(transposeB ? "ᵀ" : "") m=\(m) n=\(n) k=\(k) α=\(alpha) β=\(beta) pad=\(padding)"
    }
}

/// Runs `gemm` on random operands and compares every element of C with a naive triple loop in Double,
/// within `tolerance` times the sum of the magnitudes of the terms (a bound on any ordering's rounding).
/// Returns the number of mismatching elements (recorded as test issues).
@discardableResult
private func checkGemm<Scalar: TensorScalar>(_ test: GemmCase, as _: Scalar.Type, tolerance: Double,
                                             seed: UInt64 = 1) -> Int {
    var random = KernelTestRandom(seed: seed)
    let lda = (test.transposeA ? test.m : test.k) + test.padding
    let ldb = (test.transposeB ? test.k : test.n) + test.padding
    let ldc = test.n + test.padding
    let a: [Scalar] = random.values((test.transposeA ? test.k : test.m) * lda + 1)
    let b: [Scalar] = random.values((test.transposeB ? test.n : test.k) * ldb + 1)
    var c: [Scalar] = random.values(test.m * ldc + 1)
    if test.beta == 0 {
        for index in c.indices { c[index] = .nan }  // must be ignored
    }
    let original = c
    a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in
                gemm(transposeA: test.transposeA, transposeB: test.transposeB, m: test.m, n: test.n, k: test.k,
                     alpha: Scalar(test.alpha), a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                     beta: Scalar(test.beta), c: cp.baseAddress!, ldc: ldc)
            }
        }
    }
    var mismatches = 0
    for i in 0..<test.m {
        for j in 0..<test.n {
            var sum = 0.0, magnitude = 0.0
            for p in 0..<test.k {
                let x = Double(test.transposeA ? a[p * lda + i] : a[i * lda + p])
                let y = Double(test.transposeB ? b[j * ldb + p] : b[p * ldb + j])
                sum += x * y
                magnitude += Swift.abs(x * y)
            }
            var expected = test.alpha * sum
            magnitude = Swift.abs(test.alpha) * magnitude
            if test.beta != 0 {
                let old = Double(original[i * ldc + j])
                expected += test.beta * old
                magnitude += Swift.abs(test.beta * old)
            }
            let actual = Double(c[i * ldc + j])
            if !(Swift.abs(actual - expected) <= tolerance * (magnitude + 1)) {
                mismatches += 1
                if mismatches <= 3 {
                    Issue.record("\(test) [\(Scalar.self)]: C[\(i), \(j)] = \(actual), expected \(expected)")
                }
            }
        }
    }
    // Padding columns between rows of C must be untouched.
    for i in 0..<test.m {
        for j in test.n..<ldc where !(c[i * ldc + j] == original[i * ldc + j] || test.beta == 0 && c[i * ldc + j].isNaN) {
            mismatches += 1
            Issue.record("\(test) [\(Scalar.self)]: wrote padding C[\(i), \(j)]")
        }
    }
    if test.m * ldc < c.count && !(c[test.m * ldc] == original[test.m * ldc] || c[test.m * ldc].isNaN) {
        Issue.record("\(test) [\(Scalar.self)]: wrote past the end of C")
    }
    return mismatches
}

/// Shapes covering edge tiles (1, 3, 7, 17, 33, 65, 130 against micro-tiles of 12×32, 12×16, 6×16, 6×8,
/// 4×8, 4×4), products of fewer rows than a tile, empty dimensions and a K larger than one cache block.
private let gemmShapes: [(m: Int, n: Int, k: Int)] = [
    (1, 1, 1), (3, 7, 17), (17, 33, 7), (7, 1, 130), (1, 65, 3), (65, 17, 33), (33, 130, 65), (130, 3, 1),
    (6, 16, 8), (12, 32, 300), (24, 64, 513), (25, 97, 257), (13, 9, 40), (5, 70, 300), (11, 33, 17), (4, 48, 16), (40, 9, 300), (13, 5, 600), (19, 11, 257), (40, 9, 100), (130, 3, 64), (20, 40, 50), (128, 64, 30), (10, 40, 600), (7, 18, 33), (0, 20, 5), (0, 5, 3), (5, 0, 3), (4, 5, 0),
]

@Suite struct GemmTests {
    /// All four transpose combinations over odd shapes, with β ∈ {0, 1, 0.5}, α ≠ 1 and padded strides.
    @Test(arguments: testableKernelPaths)
    func matchesNaiveProductInFloat(path: KernelPath) {
        withKernelPath(path) {
            var index = 0
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    for shape in gemmShapes {
                        let beta = [0.0, 1.0, 0.5][index % 3]
                        let test = GemmCase(transposeA: transposeA, transposeB: transposeB, m: shape.m, n: shape.n,
                                            k: shape.k, alpha: index % 2 == 0 ? 1.5 : -0.75, beta: beta,
                                            padding: index % 4 == 0 ? 0 : 3)
                        checkGemm(test, as: Float.self, tolerance: 1e-5, seed: UInt64(index + 1))
                        index += 1
                    }
                }
            }
        }
    }

    /// The same cases in double precision, with a tolerance that would catch any single-precision step.
    @Test(arguments: testableKernelPaths)
    func matchesNaiveProductInDouble(path: KernelPath) {
        withKernelPath(path) {
            var index = 0
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    for shape in gemmShapes {
                        let beta = [0.5, 0.0, 1.0][index % 3]
                        let test = GemmCase(transposeA: transposeA, transposeB: transposeB, m: shape.m, n: shape.n,
                                            k: shape.k, alpha: index % 2 == 0 ? -2.0 : 0.3, beta: beta,
                                            padding: index % 4 == 1 ? 0 : 2)
                        checkGemm(test, as: Double.self, tolerance: 1e-13, seed: UInt64(index + 100))
                        index += 1
                    }
                }
            }
        }
    }

    /// Products above the parallel threshold, split by columns (n ≥ m) and by rows (m > n), every transpose.
    @Test func parallelSplitMatchesNaiveProduct() {
        #expect(gemmThreadCount >= 1)
        let shapes = [(m: 70, n: 263, k: 130), (m: 263, n: 70, k: 130)]
        for shape in shapes {
            #expect(shape.m * shape.n * shape.k >= gemmParallelThreshold)
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    let test = GemmCase(transposeA: transposeA, transposeB: transposeB, m: shape.m, n: shape.n,
                                        k: shape.k, alpha: 0.5, beta: transposeA ? 0.5 : 0, padding: 1)
                    checkGemm(test, as: Float.self, tolerance: 1e-5, seed: 7)
                    checkGemm(test, as: Double.self, tolerance: 1e-13, seed: 8)
                }
            }
        }
    }

    /// α = 0 leaves β·C without reading A or B (NaNs there must not appear), as BLAS does.
    @Test func zeroAlphaScalesCOnly() {
        let a = [Float](repeating: .nan, count: 6)
        let b = [Float](repeating: .nan, count: 6)
        var c: [Float] = [1, 2, 3, 4]
        gemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 3, alpha: 0, a: a, lda: 3, b: b, ldb: 2,
             beta: 0.5, c: &c, ldc: 2)
        #expect(c == [0.5, 1, 1.5, 2])
    }

    /// A known small product, so the test does not rely only on the reference loop.
    @Test func knownProduct() {
        let a: [Double] = [1, 2, 3, 4, 5, 6]  // 2×3
        let b: [Double] = [7, 8, 9, 10, 11, 12]  // 3×2
        var c = [Double](repeating: .nan, count: 4)
        gemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 3, alpha: 1, a: a, lda: 3, b: b, ldb: 2,
             beta: 0, c: &c, ldc: 2)
        #expect(c == [58, 64, 139, 154])
        // Aᵀ·A through the transposed path: A is stored 2×3, so op(A) = Aᵀ is 3×2.
        var gram = [Double](repeating: 0, count: 9)
        gemm(transposeA: true, transposeB: false, m: 3, n: 3, k: 2, alpha: 1, a: a, lda: 3, b: a, ldb: 3,
             beta: 0, c: &gram, ldc: 3)
        #expect(gram == [17, 22, 27, 22, 29, 36, 27, 36, 45])
    }

    /// The generic entry reaches the right precision: a Double product keeps digits a Float one would lose.
    @Test func genericEntryDispatchesByScalar() {
        func product<Scalar: TensorScalar>(_ x: Scalar, _ y: Scalar) -> Scalar {
            var c: [Scalar] = [0]
            gemm(transposeA: false, transposeB: false, m: 1, n: 1, k: 1, alpha: Scalar(1), a: [x], lda: 1, b: [y],
                 ldb: 1, beta: Scalar(0), c: &c, ldc: 1)
            return c[0]
        }
        #expect(product(1.0 + 1e-12, 1.0) == 1.0 + 1e-12)
        #expect(product(Float(3), Float(-2.5)) == -7.5)
    }
}

/// `BACKPROP_THREADS`: a whole number from 1 to 1024 sets the thread count; anything else is ignored with a
/// warning that names the value.
@Suite struct ThreadCountSettingTests {
    @Test func settingChoosesTheThreadCount() {
        #expect(threadCount(setting: nil, online: 2) == (2, nil))
        #expect(threadCount(setting: "1", online: 2) == (1, nil))
        #expect(threadCount(setting: "8", online: 2) == (8, nil))
        for bad in ["0", "-3", "two", "", "4096", "1.5"] {
            let (count, problem) = threadCount(setting: bad, online: 2)
            #expect(count == 2)
            #expect(problem?.contains("BACKPROP_THREADS=\(bad) ") == true, "\(bad)")
        }
    }
}

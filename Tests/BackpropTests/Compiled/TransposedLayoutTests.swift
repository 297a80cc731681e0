@testable import Backprop
import Testing

/// Transposed operands of matrix products without copies: kernel values stored in the layout of the transpose a
/// product reads (`Lowering.transposedLayout`), and strided views read in place by the GEMM
/// (`Lowering.gemmOperand`). Equal to eager, and no copy where either applies.
@Suite struct TransposedLayoutTests {
    /// The kernels of a compiled program that only copy (no instructions).
    func copyKernels(_ f: @escaping ([Tensor<Double>]) -> [Tensor<Double>], at args: [Tensor<Double>]) -> Int {
        let program = CompiledProgram<Double>.trace(f, at: args).program
        var count = 0
        for step in program.steps {
            switch step {
            case .parallel(let k): if k.spec.instructions.isEmpty { count += 1 }
            case .sequence(_, let kernels): count += kernels.filter { $0.spec.instructions.isEmpty }.count
            default: break
            }
        }
        return count
    }

    @Test func aKernelValueReadTransposedByAProductIsStoredTransposed() {
        // GMM-like: differences of points and means, [n, k, d], multiplied per component as [k, n, d].
        let x = uniform([6, 1, 4], -1, 1, seed: 1), mu = uniform([1, 3, 4], -1, 1, seed: 2)
        let w = uniform([3, 4, 4], -1, 1, seed: 3)
        func f(_ a: [Tensor<Double>]) -> [Tensor<Double>] {
            let d = a[0] - a[1]
            let q = matmul(d.transposed(permutation: [1, 0, 2]), a[2])  // [3, 6, 4]
            // d is read by another kernel too (through strides).
            return [q, (d * d).sum(alongAxes: 2), exp(d).sum()]
        }
        let g = compiled(f)
        #expect(largestError(g([x, mu, w]), f([x, mu, w])) <= 1e-12)
        #expect(copyKernels(f, at: [x, mu, w]) == 0)
        // Its gradient transposes back for the product's pullback: equal to eager too.
        func grads(_ a: [Tensor<Double>]) -> [Tensor<Double>] {
            let (gx, gmu) = gradient(at: a[0], a[1]) { x, mu in
                let d = x - mu
                return (sin(matmul(d.transposed(permutation: [1, 0, 2]), a[2])) * d.transposed(permutation: [1, 0, 2])).sum()
            }
            return [gx, gmu]
        }
        #expect(largestError(compiled(grads)([x, mu, w]), grads([x, mu, w])) <= 1e-12)
        // A permutation that is not its own inverse (a cycle of three axes).
        let p = uniform([2, 3, 4, 5], -1, 1, seed: 8), r = uniform([3, 4, 5, 2], -1, 1, seed: 9)
        func cycle(_ a: [Tensor<Double>]) -> [Tensor<Double>] {
            [matmul((exp(a[0]) * 0.5).transposed(permutation: [1, 2, 0, 3]), a[1])]
        }
        #expect(largestError(compiled(cycle)([p, r]), cycle([p, r])) <= 1e-12)
        #expect(copyKernels(cycle, at: [p, r]) == 0)
    }

    @Test func productsReadTransposedViewsOfProductsInPlace() {
        // Attention-like heads: a product's output [b, t, h·d] split into heads and transposed to [b, h, t, d]
        // (a batch-axis permutation), and a matrix transpose of a product (read column-major).
        let x = uniform([2, 3, 8], -1, 1, seed: 10), w = uniform([8, 8], -1, 1, seed: 11)
        func heads(_ a: [Tensor<Double>]) -> [Tensor<Double>] {
            let q = matmul(a[0].reshaped(to: [6, 8]), a[1]).reshaped(to: [2, 3, 2, 4]).transposed(permutation: [0, 2, 1, 3])
            let k = matmul(a[0].reshaped(to: [6, 8]), a[1].transposed()).reshaped(to: [2, 3, 2, 4]).transposed(permutation: [0, 2, 3, 1])
            let scores = matmul(q, k)  // [2, 2, 3, 3]
            let p = matmul(a[1], a[1].transposed())
            return [scores, matmul(p.transposed(), a[1]), matmul(scores.transposed(permutation: [0, 1, 3, 2]), q)]
        }
        #expect(largestError(compiled(heads)([x, w]), heads([x, w])) <= 1e-12)
        #expect(copyKernels(heads, at: [x, w]) == 0)
        // Their gradients (products of transposed cotangents) too.
        func grads(_ a: [Tensor<Double>]) -> [Tensor<Double>] {
            let (gx, gw) = gradient(at: a[0], a[1]) { x, w in
                let q = matmul(x.reshaped(to: [6, 8]), w).reshaped(to: [2, 3, 2, 4]).transposed(permutation: [0, 2, 1, 3])
                return sin(matmul(q, q.transposed(permutation: [0, 1, 3, 2]))).sum()
            }
            return [gx, gw]
        }
        #expect(largestError(compiled(grads)([x, w]), grads([x, w])) <= 1e-12)
        // A broadcast row is not a matrix the GEMM can read: copied, still equal.
        func broadcastRows(_ a: [Tensor<Double>]) -> [Tensor<Double>] {
            [matmul(a[1].slicing(0..<1, alongAxis: 0).broadcasted(to: [5, 8]), a[1])]
        }
        #expect(largestError(compiled(broadcastRows)([x, w]), broadcastRows([x, w])) <= 1e-12)
    }

    @Test func randomPermutationsIntoProductsEqualEager() {
        // Values of rank 3 and 4 (a kernel's, a product's, an argument's) permuted at random and multiplied on
        // either side, the other operand transposed or not: every operand layout the GEMM may read in place, or
        // not, against eager.
        var generator = SeededGenerator(seed: 12)
        for trial in 0..<40 {
            let rank = 3 + Int(generator.next() % 2)
            let shape = (0..<rank).map { _ in 2 + Int(generator.next() % 3) }
            let permutation = Array(0..<rank).shuffled(using: &generator)
            let permuted = permutation.map { shape[$0] }
            let (rows, columns) = (permuted[rank - 2], permuted[rank - 1])
            let batch = Array(permuted.dropLast(2))
            let source = Int(generator.next() % 3), onTheLeft = generator.next() % 2 == 0
            let flip = generator.next() % 2 == 0
            let x = uniform(shape, -1, 1, seed: UInt64(100 + trial))
            let m = uniform([shape[rank - 1], shape[rank - 1]], -1, 1, seed: UInt64(200 + trial))
            let otherShape = onTheLeft ? (flip ? [3, columns] : [columns, 3]) : (flip ? [rows, 3] : [3, rows])
            let other = uniform(batch + otherShape, -1, 1, seed: UInt64(300 + trial))
            func f(_ a: [Tensor<Double>]) -> [Tensor<Double>] {
                let value: Tensor<Double>
                switch source {
                case 0: value = exp(a[0]) * 0.5  // a kernel's value
                case 1: value = matmul(a[0], a[2])  // a product's output
                default: value = a[0]  // an argument
                }
                let p = value.transposed(permutation: permutation)
                return [onTheLeft ? matmul(p, a[1], transposeB: flip) : matmul(a[1], p, transposeA: flip)]
            }
            let args = [x, other, m]
            #expect(largestError(compiled(f)(args), f(args)) <= 1e-12, "trial \(trial): \(shape) permuted by \(permutation)")
        }
    }

    @Test func layoutsThatWouldNotHelpStayRowMajor() {
        let x = uniform([5, 4], -1, 1, seed: 4), y = uniform([5, 4], -1, 1, seed: 5)
        // A transpose that moves the last axis (a matrix transpose) is copied as before.
        func swapped(_ a: [Tensor<Double>]) -> [Tensor<Double>] {
            let s = exp(a[0]) * a[1]
            return [matmul(s.transposed(permutation: [1, 0]), a[1])]
        }
        #expect(largestError(compiled(swapped)([x, y]), swapped([x, y])) <= 1e-12)
        // A value returned as well as transposed, and one read by two different transposes.
        let t = uniform([2, 3, 4], -1, 1, seed: 6), m = uniform([2, 4, 4], -1, 1, seed: 7)
        func returned(_ a: [Tensor<Double>]) -> [Tensor<Double>] {
            let s = a[0] * 2
            return [matmul(s.transposed(permutation: [1, 0, 2]).reshaped(to: [3, 8]), a[1].reshaped(to: [8, 4])), s]
        }
        #expect(largestError(compiled(returned)([t, m]), returned([t, m])) <= 1e-12)
        func twoTransposes(_ a: [Tensor<Double>]) -> [Tensor<Double>] {
            let s = tanh(a[0])
            let p = matmul(s.transposed(permutation: [1, 0, 2]), s.transposed(permutation: [1, 0, 2]).transposed(permutation: [0, 2, 1]))
            return [p, matmul(s, a[1])]
        }
        #expect(largestError(compiled(twoTransposes)([t, m]), twoTransposes([t, m])) <= 1e-12)
    }
}

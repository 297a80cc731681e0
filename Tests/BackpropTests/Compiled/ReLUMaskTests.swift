@testable import Backprop
import Testing

/// ReLU's pullback moved before max pooling's scatter (`Compiler/ReLUMasks.swift`): compiled gradients equal
/// the eager ones bit for bit, and the rewrite happens where it should.
@Suite struct ReLUMaskTests {
    /// Pre-activations with negative windows, zeros (ties between the ReLU's zeros) and positive values.
    func images(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
        let u = uniform(shape, -1, 1, seed: seed)
        // About a quarter of the values exactly zero.
        return u * (abs(u) .> 0.25)
    }

    /// The gradients of a convolution, ReLU and max pooling with respect to the weight and the input.
    func gradients(
        _ x: Tensor<Double>, _ w: Tensor<Double>, pool: (Tensor<Double>) -> Tensor<Double>
    ) -> [Tensor<Double>] {
        let seed = uniform([2, 3, 3, 3], -1, 1, seed: 9)
        let (gw, gx) = gradient(at: w, x) { w, x in
            (pool(relu(conv2d(x, weight: w, padding: (1, 1)))) * seed).sum()
        }
        return [gw, gx]
    }

    func maskedReluBackwardShapes(_ f: @escaping ([Tensor<Double>]) -> [Tensor<Double>], at args: [Tensor<Double>]) -> [[Int]] {
        let program = CompiledProgram<Double>.trace(f, at: args)
        return program.graph.nodes.compactMap { node in
            if case .reluBackward = node.kind { node.shape } else { nil }
        }
    }

    @Test func gradientsThroughReLUAndMaxPoolingEqualEagerBitForBit() {
        let x = images([2, 1, 6, 6], seed: 1), w = uniform([3, 1, 3, 3], -1, 1, seed: 2)
        // Windows that tile the image, and overlapping ones (a position chosen by two windows).
        let pools: [(Tensor<Double>) -> Tensor<Double>] = [
            { maxPool2d($0, kernel: (2, 2)) },
            { maxPool2d($0, kernel: (3, 3), stride: (2, 2), padding: (1, 1)) },
            { maxPool2d($0, kernel: (4, 4), stride: (1, 1)) },
        ]
        for pool in pools {
            let f: ([Tensor<Double>]) -> [Tensor<Double>] = { a in gradients(a[0], a[1], pool: pool) }
            let eager = f([x, w])
            let g = compiled(f)
            for _ in 0..<2 {
                let got = g([x, w])
                #expect(got.map(\.scalars) == eager.map(\.scalars))
            }
            // The mask is applied to the pooled gradient, not to the image-sized one.
            #expect(maskedReluBackwardShapes(f, at: [x, w]).allSatisfy { $0 == [2, 3, 3, 3] })
        }
    }

    @Test func anInfiniteGradientAtAnInactiveUnitDoesNotLeak() {
        // An infinite upstream gradient where the pooled ReLU output is zero: zero both ways.
        let x = images([1, 1, 4, 4], seed: 3) - 2
        func f(_ a: [Tensor<Double>]) -> [Tensor<Double>] {
            [gradient(at: a[0]) { x in (maxPool2d(relu(x), kernel: (2, 2)) * a[1]).sum() }]
        }
        let upstream = Tensor<Double>(shape: [1, 1, 2, 2], scalars: [.infinity, -.infinity, 1, 2])
        let eager = f([x, upstream])
        #expect(eager[0].scalars.allSatisfy { $0 == 0 })
        #expect(compiled(f)([x, upstream]).map(\.scalars) == eager.map(\.scalars))
        #expect(maskedReluBackwardShapes(f, at: [x, upstream]) == [[1, 1, 2, 2]])
    }

    @Test func aMaskWhoseSignsDifferFromThePooledValuesIsGatheredItself() {
        let x = images([1, 2, 4, 4], seed: 4), z = images([1, 2, 4, 4], seed: 6)
        let upstream = uniform([1, 2, 2, 2], -1, 1, seed: 5)
        // ReLU's pullback at x applied to the pullback of pooling another tensor, z, whose pooled values the
        // function also returns: their signs are not x's, so x itself is gathered at z's maxima for the mask.
        func f(_ a: [Tensor<Double>]) -> [Tensor<Double>] {
            let (_, reluPullback) = valueWithPullback(at: a[0]) { relu($0) }
            let (value, poolPullback) = valueWithPullback(at: a[1]) { z in (maxPool2d(z, kernel: (2, 2)) * a[2]).sum() }
            return [reluPullback(poolPullback(Tensor(1))), value]
        }
        let got = compiled(f)([x, z, upstream]), eager = f([x, z, upstream])
        #expect(got[0].scalars == eager[0].scalars)
        // (The value is a sum, added in another order by the compiled kernel.)
        #expect(largestError([got[1]], [eager[1]]) <= 1e-12)
        let nodes = CompiledProgram<Double>.trace(f, at: [x, z, upstream]).graph.nodes
        let gathered = nodes.compactMap { node -> Int32? in
            if case .opaque("gatherFlat") = node.kind { node.inputs[0] } else { nil }
        }
        #expect(gathered.count == 2 && gathered.contains(0) && gathered.contains(1))
        #expect(maskedReluBackwardShapes(f, at: [x, z, upstream]) == [[1, 2, 2, 2]])
    }

    @Test func aScatterThatIsAlsoReturnedIsLeftAsItIs() {
        // Moving the mask would scatter twice.
        let x = images([1, 2, 4, 4], seed: 4), upstream = uniform([1, 2, 2, 2], -1, 1, seed: 5)
        func both(_ a: [Tensor<Double>]) -> [Tensor<Double>] {
            let (y, reluPullback) = valueWithPullback(at: a[0]) { relu($0) }
            let (_, poolPullback) = valueWithPullback(at: y) { y in (maxPool2d(y, kernel: (2, 2)) * a[1]).sum() }
            let gy = poolPullback(Tensor(1))
            return [reluPullback(gy), gy]
        }
        #expect(compiled(both)([x, upstream]).map(\.scalars) == both([x, upstream]).map(\.scalars))
        #expect(maskedReluBackwardShapes(both, at: [x, upstream]) == [[1, 2, 4, 4]])
    }
}

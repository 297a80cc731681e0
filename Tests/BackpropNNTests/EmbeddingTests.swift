import Backprop
import BackpropNN
import Testing

/// `Embedding`: rows looked up, shapes, and gradients scattered back to the rows exactly.
@Suite struct EmbeddingTests {
    /// Row i is [10i, 10i + 1, 10i + 2], so every looked-up value names its row and column.
    let table = Tensor<Double>(shape: [5, 3], scalars: (0..<5).flatMap { i in (0..<3).map { Double(10 * i + $0) } })

    @Test func parameterNamesAndShapes() {
        let layer = Embedding<Double>(weight: table)
        #expect(layer.parameterNames == ["weight"])
        #expect(layer.parameters == [table])
        #expect(layer.count == 5 && layer.dimension == 3 && layer.parameterCount == 15)
        let stack = Sequential<Double>(Embedding<Double>(weight: table), Linear<Double>(inputSize: 3, outputSize: 2, seed: 1))
        #expect(stack.parameterNames == ["0.weight", "1.weight", "1.bias"])
        var updated = layer
        updated.parameters = [table * 2]
        #expect(updated.weight == table * 2)
    }

    @Test func randomInitialisationIsStandardNormalAndReproducible() {
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7)
        let layer = Embedding<Float>(count: 100, dimension: 8, generator: &a)
        #expect(layer.weight.shape == [100, 8])
        #expect(layer.weight == Tensor<Float>.randomNormal(shape: [100, 8], using: &b))
        // The generator advanced, so a second layer differs.
        #expect(Embedding<Float>(count: 100, dimension: 8, generator: &a).weight != layer.weight)
        let values = layer.weight.scalars.map(Double.init)
        let mean = values.reduce(0, +) / 800
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 800
        #expect(Swift.abs(mean) < 0.15 && Swift.abs(variance - 1) < 0.2)
    }

    @Test func gathersTheRowsOfTheIndices() {
        let layer = Embedding<Double>(weight: table)
        let rows = layer(Tensor([3, 0, 3, 4]))
        #expect(rows.shape == [4, 3])
        #expect(rows.scalars == [30, 31, 32, 0, 1, 2, 30, 31, 32, 40, 41, 42])
        #expect(layer(indices: [3, 0, 3, 4]) == rows)
        // A single index gives one vector.
        #expect(layer(Tensor(2)) == Tensor([20, 21, 22]))
        #expect(layer(indices: []).shape == [0, 3])
    }

    @Test func outputShapeAppendsTheDimension() {
        let layer = Embedding<Double>(weight: table)
        let indices = Tensor<Double>(shape: [2, 3], scalars: [1, 4, 0, 2, 2, 3])
        let output = layer(indices)
        #expect(output.shape == [2, 3, 3])
        for i in 0..<2 {
            for j in 0..<3 {
                let row = Int(indices[index: i, j])
                for k in 0..<3 { #expect(output[index: i, j, k] == Double(10 * row + k)) }
            }
        }
        let deeper = layer(Tensor(shape: [2, 1, 2], scalars: [0, 1, 2, 3]))
        #expect(deeper.shape == [2, 1, 2, 3])
    }

    @Test func gradientScattersAndSumsRepeatedIndices() {
        // Index 1 appears three times, 3 once, 0, 2 and 4 never.
        let indices = Tensor<Double>(shape: [2, 3], scalars: [1, 3, 1, 1, 4, 4])
        let upstream = Tensor<Double>(shape: [2, 3, 3], scalars: (0..<18).map { Double($0 + 1) })
        let g = gradient(at: table) { w in (Embedding<Double>(weight: w)(indices) * upstream).sum() }
        #expect(g.shape == [5, 3])
        let expected: [Double] = [
            0, 0, 0,
            1 + 7 + 10, 2 + 8 + 11, 3 + 9 + 12,
            0, 0, 0,
            4, 5, 6,
            13 + 16, 14 + 17, 15 + 18,
        ]
        #expect(g.scalars == expected)
        // The same through the [Int] convenience.
        let h = gradient(at: table) { w in (Embedding<Double>(weight: w)(indices: [1, 3, 1, 1, 4, 4]) * upstream.reshaped(to: [6, 3])).sum() }
        #expect(h == g)
    }

    @Test func forwardModeAndSecondOrderGoThroughTheLookup() {
        // The lookup is linear in the weight: its JVP is the lookup of the tangent, and the Hessian of a
        // quadratic loss is diagonal with the counts of each row.
        let indices = Tensor<Double>([2, 0, 2])
        let tangent = Tensor<Double>.randomUniform(shape: [5, 3], lowerBound: -1, upperBound: 1, seed: 3)
        let dy = jvp(at: table, along: tangent) { w in Embedding<Double>(weight: w)(indices) }
        #expect(dy == Embedding<Double>(weight: tangent)(indices))
        let hv = hessianVectorProduct(at: table, along: tangent) { w in
            let y = Embedding<Double>(weight: w)(indices)
            return (y * y).sum() / 2
        }
        let counts: [Double] = [1, 0, 2, 0, 0]
        let expected = zip(tangent.scalars, (0..<15).map { counts[$0 / 3] }).map { $0 * $1 }
        #expect(hv.scalars == expected)
    }
}

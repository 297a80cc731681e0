@testable import BackpropNN
import Testing

/// The finiteness check of training (`allFinite`): a NaN or an infinity anywhere in any tensor is found, in
/// each of its eight sums and in the tail; finite values, however large, pass.
struct FinitenessCheckTests {
    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func aNonFiniteValueAnywhereIsFound(_ bad: Float) {
        for count in 1...21 {
            for position in 0..<count {
                var values = (0..<count).map { Float($0) * 1e37 - 1e38 }
                values[position] = bad
                let tensors = [Tensor<Float>(shape: [3], scalars: [1, 2, 3]), Tensor(shape: [count], scalars: values)]
                #expect(!allFinite(tensors), "\(bad) at \(position) of \(count)")
                #expect(!allFinite(tensors.map { Tensor<Double>(shape: $0.shape, scalars: $0.scalars.map(Double.init)) }))
            }
            #expect(allFinite([Tensor<Float>(shape: [count], scalars: (0..<count).map { Float($0) * 1e37 - 1e38 })]))
        }
        #expect(allFinite([Tensor<Float>]()) && allFinite([Tensor<Float>(shape: [0], scalars: [])]))
    }
}

import Backprop

/// One primitive (or short composition) to differentiate: inputs at a point where it is smooth, and the
/// function. The table covers every primitive of the library, on tensors and on scalars (the scalar
/// records), with broadcasting, batched and transposed operands.
struct PrimitiveCase: CustomStringConvertible, Sendable {
    var name: String
    var inputs: [Tensor<Double>]
    var f: @Sendable ([Tensor<Double>]) -> Tensor<Double>
    var description: String { name }
}

/// Values in [lower, upper] of the given shape, from a seed.
func uniform(_ shape: [Int], _ lower: Double, _ upper: Double, seed: UInt64) -> Tensor<Double> {
    Tensor<Double>.randomUniform(shape: shape, lowerBound: lower, upperBound: upper, seed: seed)
}

/// Values of both signs with magnitude in [0.3, 1.5]: away from the kinks of relu, abs, max and min.
func awayFromZero(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
    let magnitude = uniform(shape, 0.3, 1.5, seed: seed)
    let sign = uniform(shape, -1, 1, seed: seed + 1000)
    return Tensor(shape: shape, scalars: zip(magnitude.scalars, sign.scalars).map { $1 < 0 ? -$0 : $0 })
}

let primitiveCases: [PrimitiveCase] = {
    let positive = uniform([3, 4], 0.5, 2, seed: 1)
    let signed = uniform([3, 4], -1, 1, seed: 2)
    let apart = awayFromZero([3, 4], seed: 3)
    let other = uniform([3, 4], 0.5, 2, seed: 4)
    let row = uniform([4], 0.5, 2, seed: 5)
    let column = uniform([3, 1], 0.5, 2, seed: 6)
    let p = Tensor<Double>(1.3), q = Tensor<Double>(0.7), s = Tensor<Double>(-0.6)
    var cases: [PrimitiveCase] = [
        .init(name: "negate", inputs: [signed]) { -$0[0] },
        .init(name: "sqrt", inputs: [positive]) { sqrt($0[0]) },
        .init(name: "exp", inputs: [signed]) { exp($0[0]) },
        .init(name: "log", inputs: [positive]) { log($0[0]) },
        .init(name: "sin", inputs: [signed]) { sin($0[0]) },
        .init(name: "cos", inputs: [signed]) { cos($0[0]) },
        .init(name: "tan", inputs: [signed]) { tan($0[0]) },
        .init(name: "tanh", inputs: [signed]) { tanh($0[0]) },
        .init(name: "sigmoid", inputs: [signed]) { sigmoid($0[0]) },
        .init(name: "erf", inputs: [uniform([3, 4], -2, 2, seed: 25)]) { erf($0[0]) },
        .init(name: "relu", inputs: [apart]) { relu($0[0]) * $0[0] },
        .init(name: "abs", inputs: [apart]) { abs($0[0]) * $0[0] },
        .init(name: "square", inputs: [signed]) { $0[0].squared() },
        .init(name: "add broadcast row", inputs: [positive, row]) { ($0[0] + $0[1]) * $0[0] },
        .init(name: "subtract broadcast column", inputs: [positive, column]) { ($0[0] - $0[1]) * $0[1] },
        .init(name: "multiply", inputs: [positive, other]) { $0[0] * $0[1] },
        .init(name: "multiply broadcast", inputs: [positive, column]) { $0[0] * $0[1] },
        .init(name: "divide", inputs: [positive, other]) { $0[0] / $0[1] },
        .init(name: "divide broadcast", inputs: [row, positive]) { $0[0] / $0[1] },
        .init(name: "pow", inputs: [positive, other]) { pow($0[0], $0[1]) },
        .init(name: "pow constant exponent", inputs: [positive]) { pow($0[0], 3) },
        .init(name: "pow constant base", inputs: [signed]) { pow(2, $0[0]) },
        .init(name: "max elementwise", inputs: [apart, awayFromZero([3, 4], seed: 30)]) { max($0[0], $0[1]) * $0[0] },
        .init(name: "min elementwise", inputs: [apart, awayFromZero([3, 4], seed: 31)]) { min($0[0], $0[1]) * $0[1] },
        .init(name: "sum", inputs: [signed]) { ($0[0] * $0[0]).sum() },
        .init(name: "sum along axis", inputs: [signed]) { exp($0[0]).sum(alongAxes: 1) },
        .init(name: "sum along axes kept", inputs: [uniform([2, 3, 4], -1, 1, seed: 7)]) {
            sin($0[0]).sum(alongAxes: [0, 2], keepingDimensions: true)
        },
        .init(name: "mean", inputs: [signed]) { ($0[0] * $0[0]).mean(alongAxes: 0) },
        .init(name: "max along axis", inputs: [signed]) { ($0[0] * $0[0]).max(alongAxes: 1, keepingDimensions: true) },
        .init(name: "max of all", inputs: [signed]) { exp($0[0]).max() },
        .init(name: "reshape", inputs: [signed]) { $0[0].reshaped(to: [2, 6]) * $0[0].reshaped(to: [2, 6]) },
        .init(name: "broadcast", inputs: [row]) { $0[0].broadcasted(to: [3, 4]) * $0[0] },
        .init(name: "transpose", inputs: [uniform([2, 3, 4], -1, 1, seed: 8)]) {
            $0[0].transposed(permutation: [2, 0, 1]) * $0[0].transposed(permutation: [2, 0, 1])
        },
        .init(name: "squeeze and expand", inputs: [column]) { $0[0].squeezed().expandingShape(at: 0) * $0[0].squeezed() },
        .init(name: "matmul", inputs: [signed, uniform([4, 2], -1, 1, seed: 9)]) { matmul($0[0], $0[1]) * matmul($0[0], $0[1]) },
        .init(name: "matmul transposeA", inputs: [uniform([4, 3], -1, 1, seed: 10), uniform([4, 2], -1, 1, seed: 11)]) {
            tanh(matmul($0[0], $0[1], transposeA: true))
        },
        .init(name: "matmul transposeB", inputs: [signed, uniform([2, 4], -1, 1, seed: 12)]) {
            tanh(matmul($0[0], $0[1], transposeB: true))
        },
        .init(name: "matmul both transposed", inputs: [uniform([4, 3], -1, 1, seed: 13), uniform([2, 4], -1, 1, seed: 14)]) {
            sin(matmul($0[0], $0[1], transposeA: true, transposeB: true))
        },
        .init(name: "batched matmul", inputs: [uniform([2, 3, 4], -1, 1, seed: 15), uniform([2, 4, 2], -1, 1, seed: 16)]) {
            tanh(matmul($0[0], $0[1]))
        },
        .init(name: "batched matmul broadcast batch", inputs: [uniform([2, 3, 4], -1, 1, seed: 17), uniform([4, 2], -1, 1, seed: 18)]) {
            tanh(matmul($0[0], $0[1]))
        },
        .init(name: "batched matmul transposed", inputs: [uniform([2, 3, 4], -1, 1, seed: 19), uniform([2, 5, 4], -1, 1, seed: 20)]) {
            tanh(matmul($0[0], $0[1], transposeB: true))
        },
        .init(name: "slice", inputs: [signed]) { exp($0[0].slicing(1..<3, alongAxis: 1)) },
        .init(name: "index", inputs: [signed]) { sin($0[0][1]) * $0[0][2] },
        .init(name: "gather with repeats", inputs: [signed]) { exp($0[0].gathering(atIndices: [2, 0, 2], alongAxis: 0)) },
        .init(name: "concatenate", inputs: [signed, uniform([3, 2], -1, 1, seed: 21)]) {
            let c = Tensor(concatenating: [$0[0], $0[1]], alongAxis: 1)
            return c * c
        },
        .init(name: "stack", inputs: [row, uniform([4], -1, 1, seed: 22)]) {
            let s = Tensor(stacking: [$0[0], $0[1]])
            return sin(s * s)
        },
        .init(name: "softmax", inputs: [signed]) { $0[0].softmax(alongAxis: 1) },
        .init(name: "logSumExp", inputs: [uniform([2, 3, 4], -2, 2, seed: 23)]) { $0[0].logSumExp(alongAxes: 2) },
        .init(name: "logSumExp kept, two axes", inputs: [uniform([2, 3, 4], -2, 2, seed: 24)]) {
            $0[0].logSumExp(alongAxes: [0, 2], keepingDimensions: true) * 2
        },
        .init(name: "softmax axis 0", inputs: [signed]) { $0[0].softmax(alongAxis: 0) },
        .init(name: "logSoftmax", inputs: [signed]) { $0[0].logSoftmax(alongAxis: 1) },
        .init(name: "softmaxCrossEntropy", inputs: [signed]) { $0[0].softmaxCrossEntropy(labels: [3, 0, 1]) },
        .init(name: "scalar unary chain", inputs: [p]) { x in
            sigmoid(tanh(sin(cos(exp(log(sqrt(x[0])))))) + tan(x[0]) - x[0]).squared()
        },
        .init(name: "scalar relu abs", inputs: [s]) { x in relu(-x[0]) * abs(x[0]) * x[0] },
        .init(name: "scalar erf", inputs: [s]) { x in erf(x[0] * x[0]) * erf(x[0]) },
        .init(name: "scalar binary", inputs: [p, q]) { x in
            pow(x[0], x[1]) * x[0] / x[1] + max(x[0], x[1]) * min(x[0], x[1]) - x[1] * x[1]
        },
        .init(name: "scalar with constants", inputs: [p]) { x in 2 / x[0] + pow(x[0], 2.5) - 3 * x[0] + pow(1.5, x[0]) },
        .init(name: "scalar and tensor mixed", inputs: [q, row]) { x in (x[0] * x[1]).sum() * x[0] },
    ]
    cases.append(.init(name: "scan recurrence", inputs: [uniform([3], -1, 1, seed: 60), uniform([4, 3], -1, 1, seed: 61), uniform([3, 3], -0.5, 0.5, seed: 62)]) { v in
        // h ← tanh(W h + x_t), with the running sum of h as a second carry and h · x_t as each step's output.
        let (carry, ys) = scan(initial: [v[0], Tensor.zeros(shape: [3])], over: [v[1]], parameters: [v[2]]) { c, x, p in
            let h = tanh(matmul(p[0], c[0].reshaped(to: [3, 1])).reshaped(to: [3]) + x[0])
            return ([h, c[1] + h], [(h * x[0]).sum()])
        }
        return carry[1] * ys[0].sum() + carry[0]
    })
    cases.append(.init(name: "lecture 004", inputs: [Tensor(2), Tensor(-1), Tensor(0)]) { v in
        v[2] + sin(v[0] * v[0] + v[1] * exp(v[2]))
    })
    cases += convolutionPrimitiveCases()
    return cases
}()

/// Convolution and pooling (issue #12): small NCHW batches, every option that changes the index maths.
func convolutionPrimitiveCases() -> [PrimitiveCase] {
    let image = uniform([2, 2, 5, 6], -1, 1, seed: 40)
    let filters = uniform([3, 2, 3, 2], -1, 1, seed: 41)
    let bias = uniform([3], -1, 1, seed: 42)
    return [
        .init(name: "conv2d", inputs: [image, filters, bias]) { conv2d($0[0], weight: $0[1], bias: $0[2]) * $0[0].sum() },
        .init(name: "conv2d stride padding dilation", inputs: [image, filters]) {
            sin(conv2d($0[0], weight: $0[1], stride: (2, 1), padding: (1, 2), dilation: (2, 1)))
        },
        .init(name: "conv2d groups", inputs: [uniform([1, 4, 4, 3], -1, 1, seed: 43), uniform([2, 2, 2, 2], -1, 1, seed: 44)]) {
            conv2d($0[0], weight: $0[1], padding: (1, 0), groups: 2).squared()
        },
        .init(name: "unfold and fold", inputs: [image]) { v in
            let geometry = WindowGeometry(kernel: (2, 3), stride: (1, 2), padding: (1, 1))
            let patches = v[0].unfoldingPatches(geometry)
            return (patches * patches).foldingPatches(geometry, into: v[0].shape)
        },
        .init(name: "maxPool2d", inputs: [awayFromZero([2, 2, 5, 6], seed: 45)]) { maxPool2d($0[0] * $0[0], kernel: (2, 2)) },
        .init(name: "maxPool2d stride padding", inputs: [awayFromZero([1, 2, 5, 5], seed: 46)]) {
            maxPool2d(exp($0[0]), kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        },
        .init(name: "avgPool2d", inputs: [image]) { avgPool2d($0[0] * $0[0], kernel: (2, 3), stride: (1, 2), padding: (1, 1)) },
    ]
}

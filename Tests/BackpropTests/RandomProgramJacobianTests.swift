import Backprop
import Testing

/// Random programs: seeded compositions of the public primitives on small tensors, constants among their
/// operands (a constant in a concatenation once crashed the batched reverse sweep, issue #24). Each
/// program's Jacobian is computed four ways, which must agree: one pullback per output element (reverse
/// mode, one seed at a time), one JVP per input element (forward mode, one seed at a time), and
/// `jacobian(at:mode:)` in either mode (the batched sweeps, every seed at once).
@Suite struct RandomProgramJacobianTests {
    @Test(arguments: 0..<120)
    func reverseForwardAndBatchedJacobiansAgree(_ seed: Int) {
        let program = RandomProgram(seed: UInt64(seed))
        let inputs = program.inputs
        let y = withoutRecording { program.run(inputs) }
        #expect(y.scalars.allSatisfy { $0.isFinite }, "\(program)")
        let outputCount = y.scalarCount
        let (_, pullback) = valueWithPullback(at: inputs, of: program.run)
        let byPullbacks = (0..<outputCount).map { j in pullback(oneHot(j, shape: y.shape)) }
        let batchedReverse = jacobian(at: inputs, mode: .reverse, of: program.run)
        let batchedForward = jacobian(at: inputs, mode: .forward, of: program.run)
        for (i, x) in inputs.enumerated() {
            // Column k of input i: the JVP along the one-hot direction at element k of that input.
            let byJVPs = (0..<x.scalarCount).map { k in
                jvp(at: inputs, along: inputs.indices.map { m in m == i ? oneHot(k, shape: x.shape) : Tensor.zeros(shape: inputs[m].shape) },
                    of: program.run).scalars
            }
            let expectedShape = y.shape + x.shape
            #expect(batchedReverse[i].shape == expectedShape, "\(program)")
            #expect(batchedForward[i].shape == expectedShape, "\(program)")
            for j in 0..<outputCount {
                for k in 0..<x.scalarCount {
                    let reverse = byPullbacks[j][i].scalars[k]
                    let forward = byJVPs[k][j]
                    let batchedR = batchedReverse[i].scalars[j * x.scalarCount + k]
                    let batchedF = batchedForward[i].scalars[j * x.scalarCount + k]
                    let scale = Swift.max(1, Swift.abs(reverse))
                    let worst = [forward, batchedR, batchedF].map { Swift.abs($0 - reverse) }.max()!
                    #expect(worst <= 1e-10 * scale, "input \(i), ∂y[\(j)]/∂x[\(k)]: reverse \(reverse), forward \(forward), batched reverse \(batchedR), batched forward \(batchedF); \(program)")
                }
            }
        }
    }

    @Test func aConstantOperandOfConcatenationOrStackingHasAReverseJacobian() {
        // Issue #24: the batched reverse sweep stacked the constant's cotangent with the shape [] and trapped.
        let c = Tensor<Double>([3, 4, 5]), x = Tensor<Double>([1, 2])
        #expect(jacobian(at: x, mode: .reverse) { Tensor(concatenating: [c, $0]).sum() }.scalars == [1, 1])
        #expect(jacobian(at: x, mode: .reverse) { Tensor(concatenating: [$0 * $0, c]) }.scalars == [2, 0, 0, 4, 0, 0, 0, 0, 0, 0])
        let row = Tensor<Double>([7, 8])
        #expect(jacobian(at: x, mode: .reverse) { (Tensor(stacking: [row, $0]) * 3).sum() }.scalars == [3, 3])
    }
}

/// The one-hot tensor of `shape` with a 1 at flat position `index`.
private func oneHot(_ index: Int, shape: [Int]) -> Tensor<Double> {
    var values = [Double](repeating: 0, count: shape.reduce(1, *))
    values[index] = 1
    return Tensor(shape: shape, scalars: values)
}

/// A small deterministic generator (SplitMix64), so a failing program is reproduced by its seed.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func double(_ lower: Double, _ upper: Double) -> Double {
        lower + (upper - lower) * Double(next() >> 11) / Double(1 << 53)
    }
    mutating func tensor(_ shape: [Int]) -> Tensor<Double> {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in double(-1.2, 1.2) })
    }
}

/// A straight-line program over a growing list of values (the inputs first): each step applies one primitive
/// to earlier values and constants, chosen at random from the shapes at hand. Every primitive used is smooth
/// where it is evaluated (log and sqrt see x² + 1, division sees 2 + x²).
struct RandomProgram: CustomStringConvertible {
    /// One step: its description and what it computes from the values so far.
    struct Step {
        var text: String
        var apply: ([Tensor<Double>]) -> Tensor<Double>
    }

    let seed: UInt64
    let inputs: [Tensor<Double>]
    private var steps: [Step] = []

    init(seed: UInt64) {
        self.seed = seed
        var random = SplitMix(state: seed &* 0x2545_F491_4F6C_DD1D &+ 1)
        let inputShapes: [[Int]] = [[2, 3], [3], [3, 2], [4]].shuffledPrefix(random.int(1..<3), &random)
        inputs = inputShapes.map { random.tensor($0) }
        var shapes = inputShapes
        let length = random.int(3..<9)
        for _ in 0..<length {
            let i = shapes.count - 1 - random.int(0..<Swift.min(shapes.count, 3))  // mostly recent values
            let shape = shapes[i]
            let step = RandomProgram.step(on: i, shape: shape, among: shapes, &random)
            steps.append(step.step)
            shapes.append(step.shape)
        }
        // The output combines the last value with the inputs, so that every input matters.
        let last = shapes.count - 1
        let inputCount = inputs.count
        steps.append(Step(text: "v\(last) + Σ inputs") { v in v[last] + (0..<inputCount).map { v[$0].sum() }.reduce(Tensor(0), +) * 0.5 })
    }

    /// Runs the program on `inputs`.
    func run(_ inputs: [Tensor<Double>]) -> Tensor<Double> {
        var values = inputs
        for step in steps { values.append(step.apply(values)) }
        return values.last!
    }

    var description: String {
        "program \(seed): inputs \(inputs.map(\.shape)); " + steps.enumerated().map { "v\($0.offset + inputs.count) = \($0.element.text)" }.joined(separator: "; ")
    }

    /// A random step on value `i` of `shape`, with its result's shape.
    static func step(on i: Int, shape: [Int], among shapes: [[Int]], _ random: inout SplitMix) -> (step: Step, shape: [Int]) {
        let rank = shape.count
        let size = shape.reduce(1, *)
        let partner = shapes.indices.filter { shapes[$0] == shape && $0 != i }.last
        switch random.int(0..<17) {
        case 0:
            let kinds: [(String, (Tensor<Double>) -> Tensor<Double>)] = [
                ("sin", { sin($0) }), ("cos", { cos($0) }), ("tanh", { tanh($0) }), ("sigmoid", { sigmoid($0) }),
                ("exp", { exp($0 * 0.5) }), ("log1+x²", { log($0 * $0 + 1) }), ("sqrt1+x²", { sqrt($0 * $0 + 1) }),
                ("square", { $0.squared() }), ("negate", { -$0 }),
            ]
            let (name, f) = kinds[random.int(0..<kinds.count)]
            return (Step(text: "\(name)(v\(i))") { f($0[i]) }, shape)
        case 1, 2:
            // A binary operation with an earlier value of the same shape, or a constant.
            let c = random.tensor(shape)
            let j = random.int(0..<2) == 0 ? partner : nil
            let kinds: [(String, (Tensor<Double>, Tensor<Double>) -> Tensor<Double>)] = [
                ("+", { $0 + $1 }), ("-", { $0 - $1 }), ("*", { $0 * $1 }), ("/", { $0 / ($1 * $1 + 2) }),
            ]
            let (name, f) = kinds[random.int(0..<kinds.count)]
            if let j { return (Step(text: "v\(i) \(name) v\(j)") { f($0[i], $0[j]) }, shape) }
            let constantFirst = random.int(0..<2) == 0
            return (Step(text: constantFirst ? "c \(name) v\(i)" : "v\(i) \(name) c") { constantFirst ? f(c, $0[i]) : f($0[i], c) }, shape)
        case 3 where rank >= 1:
            // Broadcasting a row (constant) over the last axis.
            let row = random.tensor([shape[rank - 1]])
            return (Step(text: "v\(i) * row") { $0[i] * row + row }, shape)
        case 4 where rank == 2:
            let n = random.int(1..<4)
            let w = random.tensor([shape[1], n])
            return (Step(text: "matmul(v\(i), c[\(shape[1])x\(n)])") { matmul($0[i], w) }, [shape[0], n])
        case 5 where rank == 2:
            return (Step(text: "transpose(v\(i))") { $0[i].transposed(permutation: [1, 0]) }, [shape[1], shape[0]])
        case 6 where rank >= 1:
            // Concatenation with a constant (before or after) or with the value itself.
            let axis = random.int(0..<rank)
            var other = shape
            other[axis] = random.int(1..<3)
            let c = random.tensor(other)
            var out = shape
            let order = random.int(0..<3)
            switch order {
            case 0:
                out[axis] += other[axis]
                return (Step(text: "concat([c, v\(i)], axis \(axis))") { Tensor(concatenating: [c, $0[i]], alongAxis: axis) }, out)
            case 1:
                out[axis] += other[axis]
                return (Step(text: "concat([v\(i), c], axis \(axis))") { Tensor(concatenating: [$0[i], c], alongAxis: axis) }, out)
            default:
                out[axis] *= 2
                return (Step(text: "concat([v\(i), v\(i)], axis \(axis))") { Tensor(concatenating: [$0[i], $0[i]], alongAxis: axis) }, out)
            }
        case 7 where rank <= 2:
            let c = random.tensor(shape)
            let axis = random.int(0..<(rank + 1))
            var out = shape
            out.insert(2, at: axis)
            let constantFirst = random.int(0..<2) == 0
            return (Step(text: constantFirst ? "stack([c, v\(i)], axis \(axis))" : "stack([v\(i), c], axis \(axis))") {
                Tensor(stacking: constantFirst ? [c, $0[i]] : [$0[i], c], alongAxis: axis)
            }, out)
        case 8 where rank >= 2:
            let axis = random.int(0..<rank)
            var out = shape
            out.remove(at: axis)
            return (Step(text: "sum(v\(i), axis \(axis))") { $0[i].sum(alongAxes: axis) }, out)
        case 9 where rank >= 1:
            let axis = random.int(0..<rank)
            var out = shape
            out[axis] = 1
            return (Step(text: "logSumExp(v\(i), axis \(axis), kept)") { $0[i].logSumExp(alongAxes: [axis], keepingDimensions: true) }, out)
        case 10 where rank >= 1:
            let axis = random.int(0..<rank)
            return (Step(text: "softmax(v\(i), axis \(axis))") { $0[i].softmax(alongAxis: axis) }, shape)
        case 11 where rank >= 1 && shape[0] >= 2:
            let lower = random.int(0..<(shape[0] - 1))
            let upper = random.int((lower + 1)..<(shape[0] + 1))
            var out = shape
            out[0] = upper - lower
            return (Step(text: "v\(i)[\(lower)..<\(upper)]") { $0[i].slicing(lower..<upper, alongAxis: 0) }, out)
        case 12 where rank >= 1:
            let axis = rank - 1
            let indices = (0..<random.int(1..<4)).map { _ in random.int(0..<shape[axis]) }
            var out = shape
            out[axis] = indices.count
            return (Step(text: "gather(v\(i), \(indices), axis \(axis))") { $0[i].gathering(atIndices: indices, alongAxis: axis) }, out)
        case 13 where rank >= 1:
            return (Step(text: "reshape(v\(i), [\(size)])") { $0[i].reshaped(to: [size]) }, [size])
        case 14 where rank >= 1:
            let axis = random.int(0..<rank)
            var out = shape
            out.remove(at: axis)
            return (Step(text: "mean(v\(i), axis \(axis))") { $0[i].mean(alongAxes: axis) }, out)
        case 15 where rank >= 1:
            // max is not smooth at ties; random values have none.
            let axis = random.int(0..<rank)
            var out = shape
            out.remove(at: axis)
            return (Step(text: "max(v\(i), axis \(axis))") { $0[i].max(alongAxes: axis) }, out)
        case 16:
            return (Step(text: "v\(i) * sum(v\(i))") { $0[i] * $0[i].sum() * 0.1 }, shape)
        default:
            return (Step(text: "tanh(v\(i))") { tanh($0[i]) }, shape)
        }
    }
}

extension Array {
    /// `count` elements in a seeded random order.
    fileprivate func shuffledPrefix(_ count: Int, _ random: inout SplitMix) -> [Element] {
        var copy = self
        for k in 0..<Swift.min(count, copy.count) { copy.swapAt(k, k + random.int(0..<(copy.count - k))) }
        return Array(copy.prefix(count))
    }
}

import CBackpropKernels

/// What a traced node computes, as far as the compiler needs to know: elementwise functions, reductions and
/// data movement it lowers itself, and opaque primitives it runs through their replay closure.
enum OpKind: Hashable, CustomStringConvertible {
    /// The function's argument of this index.
    case argument(Int)
    /// A constant (the node holds its value).
    case constant
    /// An elementwise function of one argument.
    case unary(ScalarPrimitiveCode)
    /// An elementwise function of two arguments, with NumPy broadcasting.
    case binary(ScalarPrimitiveCode)
    /// An elementwise comparison with broadcasting, giving 1 where it holds and 0 elsewhere.
    case compare(Comparison)
    /// `g` where `x > 0`, else 0 (ReLU's pullback): inputs (g, x) of one shape.
    case reluBackward
    /// The sum along `axes`, which are kept with size 1.
    case sum(axes: [Int])
    /// The maximum along `axes`, kept with size 1.
    case max(axes: [Int])
    /// The same values with the node's shape.
    case reshape
    /// The input broadcast to the node's shape.
    case broadcast
    /// The axes permuted: axis `i` of the result is axis `permutation[i]` of the input.
    case transpose([Int])
    /// Positions `lower..<upper` along `axis`.
    case slice(lower: Int, upper: Int, axis: Int)
    /// The input placed at positions from `lower` along `axis` of a zero tensor of the node's shape.
    case pad(lower: Int, axis: Int)
    /// Inputs joined along `axis`.
    case concat(axis: Int)
    /// The product op(a)·op(b) of two batches of matrices with the same batch shape.
    case matmul(transposeA: Bool, transposeB: Bool)
    /// A primitive the compiler runs as it is, by its replay closure.
    case opaque(String)

    /// The kind of an elementwise primitive's node: fused into kernels when the interpreter implements the
    /// primitive, else opaque (run by its replay closure), so a new primitive compiles before it has a kernel.
    static func elementwise(_ code: ScalarPrimitiveCode) -> OpKind {
        guard bp_fused_implements(code.rawValue) != 0 else { return .opaque(code.name) }
        return code.arity == 1 ? .unary(code) : .binary(code)
    }

    var description: String {
        switch self {
        case .argument(let i): "argument \(i)"
        case .constant: "constant"
        case .unary(let code), .binary(let code): code.name
        case .compare(let c): c.rawValue
        case .reluBackward: "reluBackward"
        case .sum(let axes): "sum\(axes)"
        case .max(let axes): "max\(axes)"
        case .reshape: "reshape"
        case .broadcast: "broadcast"
        case .transpose(let p): "transpose\(p)"
        case .slice(let l, let u, let a): "slice[\(l)..<\(u) axis \(a)]"
        case .pad(let l, let a): "pad[from \(l) axis \(a)]"
        case .concat(let a): "concat[axis \(a)]"
        case .matmul(let ta, let tb): "matmul\(ta ? "ᵀ" : "")\(tb ? "ᵀ" : "")"
        case .opaque(let name): name
        }
    }
}

/// An elementwise comparison.
enum Comparison: String, Hashable, Sendable {
    case less = ".<", lessOrEqual = ".<=", greater = ".>", greaterOrEqual = ".>=", equal = ".==", notEqual = ".!="

    /// Whether the comparison holds for `a` and `b`.
    @inline(__always)
    func holds<S: TensorScalar>(_ a: S, _ b: S) -> Bool {
        switch self {
        case .less: a < b
        case .lessOrEqual: a <= b
        case .greater: a > b
        case .greaterOrEqual: a >= b
        case .equal: a == b
        case .notEqual: a != b
        }
    }
}

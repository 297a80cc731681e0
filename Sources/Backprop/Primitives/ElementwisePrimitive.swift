/// One of the engine's elementwise primitives, by name, with its value and local partial derivatives on
/// numbers: the same definitions that tensors, scalar records and compiled programs use.
///
/// Tools that evaluate expressions number by number read the engine's rules through it rather than writing
/// them again (the teaching module's tables of local derivatives do).
///
/// ```swift
/// let tanh = ElementwisePrimitive(named: "tanh")!
/// let y = tanh.value(0.5)                                 // 0.46211715726000974
/// let dy = tanh.partials(at: 0.5, value: y)               // [0.7864477329659274]
/// ```
public struct ElementwisePrimitive: Hashable, Sendable, CustomStringConvertible {
    let code: ScalarPrimitiveCode

    /// Every elementwise primitive of the engine.
    public static var all: [ElementwisePrimitive] { ScalarPrimitiveCode.allCases.map(ElementwisePrimitive.init(code:)) }

    init(code: ScalarPrimitiveCode) { self.code = code }

    /// The primitive called `name` (`"sin"`, `"multiply"`, `"pow"`, `"max"`, ...), or nil.
    public init?(named name: String) {
        guard let code = ScalarPrimitiveCode.allCases.first(where: { $0.name == name }) else { return nil }
        self.code = code
    }

    /// The primitive's name, as records, traces and error messages call it.
    public var name: String { code.name }

    /// The primitive's name.
    public var description: String { name }

    /// How many arguments the primitive takes: 1 or 2.
    public var arity: Int { code.arity }

    /// The value at `a` (and `b` for a primitive of two arguments).
    public func value(_ a: Double, _ b: Double = 0) -> Double { code.value(a, b) }

    /// The local partial derivatives ∂y/∂a (and ∂y/∂b for two arguments) at `a` and `b`, given the value `y`,
    /// one per argument.
    public func partials(at a: Double, _ b: Double = 0, value y: Double) -> [Double] {
        let (da, db) = code.partials(a, b, y)
        return arity == 1 ? [da] : [da, db]
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// A floating-point type that tensors can hold: `Float` or `Double`.
///
/// The elementary functions are requirements so that generic tensor code calls the C library's
/// concrete implementation for each type.
public protocol TensorScalar: BinaryFloatingPoint, Sendable, CustomStringConvertible, _ScalarKernels
where Self.RawSignificand: FixedWidthInteger {
    /// e raised to `x`.
    static func exp(_ x: Self) -> Self
    /// The natural logarithm of `x`.
    static func log(_ x: Self) -> Self
    /// The sine of `x` (radians).
    static func sin(_ x: Self) -> Self
    /// The cosine of `x` (radians).
    static func cos(_ x: Self) -> Self
    /// The tangent of `x` (radians).
    static func tan(_ x: Self) -> Self
    /// The hyperbolic tangent of `x`.
    static func tanh(_ x: Self) -> Self
    /// The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt.
    static func erf(_ x: Self) -> Self
    /// `x` raised to the power `y`.
    static func pow(_ x: Self, _ y: Self) -> Self
    /// The name of the type in checkpoint formats: `"F32"` or `"F64"`.
    static var dtypeName: String { get }
}

extension Float: TensorScalar {
    /// e raised to `x` (the C library's `expf`).
    @inlinable public static func exp(_ x: Float) -> Float { expf(x) }
    /// The natural logarithm (the C library's `logf`).
    @inlinable public static func log(_ x: Float) -> Float { logf(x) }
    /// The sine (the C library's `sinf`).
    @inlinable public static func sin(_ x: Float) -> Float { sinf(x) }
    /// The cosine (the C library's `cosf`).
    @inlinable public static func cos(_ x: Float) -> Float { cosf(x) }
    /// The tangent (the C library's `tanf`).
    @inlinable public static func tan(_ x: Float) -> Float { tanf(x) }
    /// The hyperbolic tangent (the C library's `tanhf`).
    @inlinable public static func tanh(_ x: Float) -> Float { tanhf(x) }
    /// The error function (the C library's `erff`).
    @inlinable public static func erf(_ x: Float) -> Float { erff(x) }
    /// `x` raised to `y` (the C library's `powf`).
    @inlinable public static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
    /// `"F32"`.
    public static var dtypeName: String { "F32" }
}

extension Double: TensorScalar {
    /// e raised to `x` (the C library's `exp`).
    @inlinable public static func exp(_ x: Double) -> Double { libm_exp(x) }
    /// The natural logarithm (the C library's `log`).
    @inlinable public static func log(_ x: Double) -> Double { libm_log(x) }
    /// The sine (the C library's `sin`).
    @inlinable public static func sin(_ x: Double) -> Double { libm_sin(x) }
    /// The cosine (the C library's `cos`).
    @inlinable public static func cos(_ x: Double) -> Double { libm_cos(x) }
    /// The tangent (the C library's `tan`).
    @inlinable public static func tan(_ x: Double) -> Double { libm_tan(x) }
    /// The hyperbolic tangent (the C library's `tanh`).
    @inlinable public static func tanh(_ x: Double) -> Double { libm_tanh(x) }
    /// The error function (the C library's `erf`).
    @inlinable public static func erf(_ x: Double) -> Double { libm_erf(x) }
    /// `x` raised to `y` (the C library's `pow`).
    @inlinable public static func pow(_ x: Double, _ y: Double) -> Double { libm_pow(x, y) }
    /// `"F64"`.
    public static var dtypeName: String { "F64" }
}

// The C library's double-precision functions under names that do not collide with the static requirements.
@usableFromInline func libm_exp(_ x: Double) -> Double { exp(x) }
@usableFromInline func libm_log(_ x: Double) -> Double { log(x) }
@usableFromInline func libm_sin(_ x: Double) -> Double { sin(x) }
@usableFromInline func libm_cos(_ x: Double) -> Double { cos(x) }
@usableFromInline func libm_tan(_ x: Double) -> Double { tan(x) }
@usableFromInline func libm_tanh(_ x: Double) -> Double { tanh(x) }
@usableFromInline func libm_erf(_ x: Double) -> Double { erf(x) }
@usableFromInline func libm_pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }

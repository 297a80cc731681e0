// Pointer re-typing for the generic kernel wrappers: generic code holds `UnsafePointer<Scalar>`, and once it
// has checked that `Scalar` is `Float` (or `Double`) it hands the C kernels the same memory as that type.

/// `pointer` viewed as pointing at `To`; only valid when `From` and `To` are the same type.
@inline(__always)
func kernelPointer<From, To>(_ pointer: UnsafePointer<From>, as _: To.Type) -> UnsafePointer<To> {
    UnsafeRawPointer(pointer).assumingMemoryBound(to: To.self)
}

/// `pointer` viewed as pointing at `To`; only valid when `From` and `To` are the same type.
@inline(__always)
func kernelPointer<From, To>(_ pointer: UnsafeMutablePointer<From>, as _: To.Type) -> UnsafeMutablePointer<To> {
    UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: To.self)
}

/// Stops with a clear message when a generic kernel wrapper meets a scalar type other than Float or Double.
func unsupportedKernelScalar<Scalar>(_: Scalar.Type, function: StaticString = #function) -> Never {
    fatalError("\(function): kernels exist for Float and Double only, not \(Scalar.self)")
}

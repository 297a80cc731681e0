// The compiled transform: trace a function once per list of input shapes, compile the traced graph, replay.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `f` compiled: the first call with a given list of input shapes traces `f` into a graph of primitives and
/// compiles it (dead code removed, common subexpressions merged, elementwise and reduction chains fused,
/// memory planned); later calls with the same shapes replay the compiled program. New shapes trace again;
/// each compiled function keeps the programs of its eight most recently used shape lists.
///
/// `f` must be a function of its arguments' values: tensors it captures are constants of the program, and
/// reading a traced value on the host inside `f` (`scalars`, `scalar`, a subscript, `==`) stops with a
/// message, because a replay would reuse the first call's value. Random draws from a `RandomStream` are drawn
/// again on every call. Transforms compose both ways: `f` may take gradients (the forward and backward sweeps
/// compile together), and a compiled function can be differentiated by every transform, to any order.
/// Inside `withAnomalyDetection`, `f` runs uncompiled, so that every operation is checked.
///
/// ```swift
/// let step = compiled { (p: [Tensor<Float>]) -> [Tensor<Float>] in
///     let (loss, g) = valueWithGradient(at: p) { p in ((matmul(x, p[0]) + p[1]) - y).squared().mean() }
///     return [loss] + g
/// }
/// let results = step(parameters)   // traced and compiled on the first call, replayed afterwards
/// ```
public func compiled<Scalar: TensorScalar>(
    _ f: @escaping ([Tensor<Scalar>]) -> [Tensor<Scalar>]
) -> ([Tensor<Scalar>]) -> [Tensor<Scalar>] {
    let function = CompiledFunction(f)
    return { function.call($0) }
}

/// `f` of one tensor, compiled (see `compiled(_:)` for arrays).
public func compiled<Scalar: TensorScalar>(
    _ f: @escaping (Tensor<Scalar>) -> Tensor<Scalar>
) -> (Tensor<Scalar>) -> Tensor<Scalar> {
    let function = CompiledFunction<Scalar> { [f($0[0])] }
    return { function.call([$0])[0] }
}

/// `f` of two tensors, compiled (see `compiled(_:)` for arrays).
public func compiled<Scalar: TensorScalar>(
    _ f: @escaping (Tensor<Scalar>, Tensor<Scalar>) -> Tensor<Scalar>
) -> (Tensor<Scalar>, Tensor<Scalar>) -> Tensor<Scalar> {
    let function = CompiledFunction<Scalar> { [f($0[0], $0[1])] }
    return { function.call([$0, $1])[0] }
}

/// `f` of three tensors, compiled (see `compiled(_:)` for arrays).
public func compiled<Scalar: TensorScalar>(
    _ f: @escaping (Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>) -> Tensor<Scalar>
) -> (Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>) -> Tensor<Scalar> {
    let function = CompiledFunction<Scalar> { [f($0[0], $0[1], $0[2])] }
    return { function.call([$0, $1, $2])[0] }
}

/// How many compiled programs (one per list of input shapes) a compiled function keeps.
let compiledProgramCacheSize = 8

/// A compiled function: its programs by input shapes, and, once it has been differentiated, the compiled
/// functions of its pullbacks and tangent maps.
final class CompiledFunction<Scalar: TensorScalar>: @unchecked Sendable {
    let function: ([Tensor<Scalar>]) -> [Tensor<Scalar>]
    /// Programs, most recently used last.
    private var programs: [(shapes: [[Int]], program: CompiledProgram<Scalar>)] = []
    /// The compiled pullback of output k: (arguments..., cotangent) → one cotangent per argument.
    private var pullbacks: [Int: CompiledFunction<Scalar>] = [:]
    /// The compiled tangent map of output k: (arguments..., one tangent per argument) → the output's tangent.
    private var tangentMaps: [Int: CompiledFunction<Scalar>] = [:]
    private var lock = pthread_mutex_t()
    /// How many times a program was traced (for tests and `bench`).
    private(set) var traceCount = 0

    init(_ function: @escaping ([Tensor<Scalar>]) -> [Tensor<Scalar>]) {
        self.function = function
        pthread_mutex_init(&lock, nil)
    }

    deinit { pthread_mutex_destroy(&lock) }

    /// Calls the function: inline inside another trace, as one differentiable node on tracked arguments,
    /// else by its compiled program.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    func call(_ arguments: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        if isTracing || ThreadContext.current.anomalyDepth > 0 { return function(arguments) }
        if arguments.contains(where: { $0.isTracked }) && recordingEnabled() { return differentiableCall(arguments) }
        return evaluate(arguments.map { $0.detached() })
    }

    /// The values at untracked arguments, by the program for their shapes (traced and compiled first if
    /// there is none). The first call's values come from the program too, not from the trace, so a call's
    /// numbers do not depend on whether its program was already made (the trace rounds as eager code does).
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    func evaluate(_ arguments: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        // Closures, not key paths: a key path literal in generic code is instantiated on every call.
        let shapes = arguments.map { $0.shape }
        pthread_mutex_lock(&lock)
        if let index = programs.firstIndex(where: { $0.shapes == shapes }) {
            let entry = programs.remove(at: index)
            programs.append(entry)
            pthread_mutex_unlock(&lock)
            return entry.program.run(arguments)
        }
        pthread_mutex_unlock(&lock)
        let program = CompiledProgram.trace(function, at: arguments)
        pthread_mutex_lock(&lock)
        traceCount += 1
        if !programs.contains(where: { $0.shapes == shapes }) {
            programs.append((shapes, program))
            if programs.count > compiledProgramCacheSize { programs.removeFirst() }
        }
        pthread_mutex_unlock(&lock)
        return program.run(arguments)
    }

    /// The shape lists of the programs kept, least recently used first (for tests).
    var cachedShapes: [[[Int]]] {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return programs.map(\.shapes)
    }

    /// The call on tracked arguments: the values by the compiled program, each output recorded as one node
    /// whose VJP and JVP are compiled functions too (so they differentiate again, to any order).
    private func differentiableCall(_ arguments: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        let values = evaluate(arguments.map { $0.detached() })
        let count = arguments.count
        let shapes = arguments.map { $0.shape }
        return values.enumerated().map { k, value in
            value.recorded(
                "compiled", inputs: arguments, saving: arguments,
                vjp: { g, saved in self.pullback(of: k, count: count).call(saved + [g]).map { Optional($0) } },
                jvp: { tangents, saved in
                    let directions = zip(tangents, shapes).map { t, shape in t ?? Tensor.zeros(shape: shape) }
                    return self.tangentMap(of: k, count: count).call(saved + directions)[0]
                })
        }
    }

    /// The compiled pullback of output `k` of a function of `count` arguments.
    private func pullback(of k: Int, count: Int) -> CompiledFunction<Scalar> {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if let existing = pullbacks[k] { return existing }
        let function = self.function
        let made = CompiledFunction { xs in
            valueWithPullback(at: Array(xs[0..<count])) { function($0)[k] }.pullback(xs[count])
        }
        pullbacks[k] = made
        return made
    }

    /// The compiled tangent map of output `k` of a function of `count` arguments.
    private func tangentMap(of k: Int, count: Int) -> CompiledFunction<Scalar> {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if let existing = tangentMaps[k] { return existing }
        let function = self.function
        let made = CompiledFunction { xs in
            [valueWithJVP(at: Array(xs[0..<count]), along: Array(xs[count...])) { function($0)[k] }.jvp]
        }
        tangentMaps[k] = made
        return made
    }
}

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

/// `update` compiled as a step that changes `state` (a model's parameters, an optimizer's moments) and
/// returns other values (a loss): the first call with given shapes traces and compiles it as `compiled(_:)`
/// does, the forward pass, the gradient and the update together.
///
/// Each new state tensor is written into the memory of the old one, as JAX's donated arguments are, when the
/// compiler finds that nothing reads the old value after the new one is computed and `state` is the only owner
/// of that memory; otherwise it gets new memory, so a copy of the old state kept elsewhere keeps its values.
/// Steps after the first then allocate no new state, and an update `p + α·g` whose `g` is a matrix product
/// is computed by the product itself, accumulating into the state. `update` must keep each state tensor's
/// shape and the number of state tensors. On tracked tensors (inside `gradient`) the step is differentiable
/// like any compiled function, and updates nothing in place.
///
/// ```swift
/// let step = compiled(updating: { (p: inout [Tensor<Float>], batch: [Tensor<Float>]) -> [Tensor<Float>] in
///     let (loss, g) = valueWithGradient(at: p) { p in ((matmul(batch[0], p[0]) + p[1]) - batch[1]).squared().mean() }
///     for i in p.indices { p[i] = p[i] - 0.01 * g[i] }
///     return [loss]
/// })
/// let loss = step(&parameters, [x, y])[0]   // parameters updated in place
/// ```
public func compiled<Scalar: TensorScalar>(
    updating update: @escaping (_ state: inout [Tensor<Scalar>], _ inputs: [Tensor<Scalar>]) -> [Tensor<Scalar>]
) -> (_ state: inout [Tensor<Scalar>], _ inputs: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
    let compiledUpdate = CompiledUpdate(update)
    return { state, inputs in compiledUpdate.function(stateCount: state.count).update(&state, inputs) }
}

/// A compiled update: its compiled function, made at the first call (which tells how many state tensors
/// there are).
final class CompiledUpdate<Scalar: TensorScalar>: @unchecked Sendable {
    private let update: (inout [Tensor<Scalar>], [Tensor<Scalar>]) -> [Tensor<Scalar>]
    private var compiledFunction: CompiledFunction<Scalar>?
    private var lock = pthread_mutex_t()

    init(_ update: @escaping (inout [Tensor<Scalar>], [Tensor<Scalar>]) -> [Tensor<Scalar>]) {
        self.update = update
        pthread_mutex_init(&lock, nil)
    }

    deinit { pthread_mutex_destroy(&lock) }

    /// The compiled function of (state..., inputs...) → (new state..., outputs...).
    func function(stateCount count: Int) -> CompiledFunction<Scalar> {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if let compiledFunction { return compiledFunction }
        let update = self.update
        let made = CompiledFunction<Scalar>({ arguments in
            var state = Array(arguments[..<count])
            let shapes = state.map { $0.shape }
            let outputs = update(&state, Array(arguments[count...]))
            precondition(
                state.count == count,
                "compiled(updating:): the update changed the number of state tensors from \(count) to \(state.count)")
            for (i, (before, after)) in zip(shapes, state.map { $0.shape }).enumerated() {
                precondition(
                    before == after,
                    "compiled(updating:): the update changed the shape of state tensor \(i) from \(before) to \(after)")
            }
            return state + outputs
        }, stateCount: count)
        compiledFunction = made
        return made
    }
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

    /// How many of the first arguments are state that the first outputs update (`compiled(updating:)`).
    let stateCount: Int

    init(_ function: @escaping ([Tensor<Scalar>]) -> [Tensor<Scalar>], stateCount: Int = 0) {
        self.function = function
        self.stateCount = stateCount
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
        program(for: arguments).run(arguments)
    }

    /// The program for the arguments' shapes, traced and compiled first if there is none.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    private func program(for arguments: [Tensor<Scalar>]) -> CompiledProgram<Scalar> {
        // Closures, not key paths: a key path literal in generic code is instantiated on every call.
        let shapes = arguments.map { $0.shape }
        pthread_mutex_lock(&lock)
        if let index = programs.firstIndex(where: { $0.shapes == shapes }) {
            let entry = programs.remove(at: index)
            programs.append(entry)
            pthread_mutex_unlock(&lock)
            return entry.program
        }
        pthread_mutex_unlock(&lock)
        let program = CompiledProgram.trace(function, at: arguments, stateCount: stateCount)
        pthread_mutex_lock(&lock)
        traceCount += 1
        if !programs.contains(where: { $0.shapes == shapes }) {
            programs.append((shapes, program))
            if programs.count > compiledProgramCacheSize { programs.removeFirst() }
        }
        pthread_mutex_unlock(&lock)
        return program
    }

    /// Calls an update (`compiled(updating:)`, `stateCount` state tensors first): on untracked tensors by its
    /// program, the new state written over the old where the state owns its memory alone; else as `call`.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    func update(_ state: inout [Tensor<Scalar>], _ inputs: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        precondition(
            state.count == stateCount,
            "compiled(updating:): the update was compiled for \(stateCount) state tensors, got \(state.count)")
        let tracked = state.contains(where: { $0.isTracked }) || inputs.contains(where: { $0.isTracked })
        if isTracing || ThreadContext.current.anomalyDepth > 0 || (tracked && recordingEnabled()) {
            let results = call(state + inputs)
            state = Array(results[..<stateCount])
            return Array(results[stateCount...])
        }
        for i in state.indices where state[i].tape != nil || state[i].annex != nil { state[i] = state[i].detached() }
        let detachedInputs = inputs.map { $0.detached() }
        return program(for: state + detachedInputs).run(updating: &state, detachedInputs)
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

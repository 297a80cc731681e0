// Programs found by the structure of a trace: a function traced again (an eager `scan` is traced on every call,
// since a Swift closure has no identity to key a cache by) reuses the program compiled for an identical trace.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a compiled program depends on in a trace: every node's kind, inputs and shape, the constants' values
/// and the outputs. Two traces with equal keys compile to the same program. A trace with an opaque node has
/// no key: its replay closure belongs to that trace (a random stream, a nested loop's body); nor has one with
/// a constant of more than `largestConstant` values (a key would copy it, and compiling again costs less than
/// reading it).
struct TraceKey: Hashable {
    static let largestConstant = 4096

    private struct NodeKey: Hashable {
        let kind: OpKind
        let inputs: [Int32]
        let shape: [Int]
        let constant: [UInt64]
    }

    private let nodes: [NodeKey]
    private let outputs: [Int32]
    private let argumentCount: Int
    private let scalarType: ObjectIdentifier

    init?<Scalar: TensorScalar>(_ trace: Trace<Scalar>, outputs: [Int32], argumentCount: Int) {
        var nodes: [NodeKey] = []
        nodes.reserveCapacity(trace.nodes.count)
        for node in trace.nodes {
            if case .opaque = node.kind { return nil }
            if let constant = node.constant, constant.scalarCount > TraceKey.largestConstant { return nil }
            let constant = node.constant.map { value in value.withScalarBuffer { $0.map { Double($0).bitPattern } } } ?? []
            nodes.append(NodeKey(kind: node.kind, inputs: node.inputs, shape: node.shape, constant: constant))
        }
        self.nodes = nodes
        self.outputs = outputs
        self.argumentCount = argumentCount
        scalarType = ObjectIdentifier(Scalar.self)
    }
}

/// The programs of recently compiled traces, by their keys (at most `capacity`, least recently used dropped).
final class ProgramCache: @unchecked Sendable {
    /// The process's cache of loop bodies' programs (each keeps its arena, so the cache is small).
    static let loopBodies = ProgramCache(capacity: 16)

    let capacity: Int
    private var programs: [TraceKey: (program: AnyObject, lastUse: Int)] = [:]
    private var clock = 0
    private var lock = pthread_mutex_t()

    init(capacity: Int) {
        self.capacity = capacity
        pthread_mutex_init(&lock, nil)
    }

    deinit { pthread_mutex_destroy(&lock) }

    /// What was compiled for `trace` (returning `outputs`): made by `make` when no trace with the same key was
    /// compiled (or the trace has no key).
    func compiled<Compiled: AnyObject, Scalar: TensorScalar>(
        for trace: Trace<Scalar>, outputs: [Int32], argumentCount: Int, make: () -> Compiled
    ) -> Compiled {
        guard let key = TraceKey(trace, outputs: outputs, argumentCount: argumentCount) else { return make() }
        pthread_mutex_lock(&lock)
        clock += 1
        if let entry = programs[key], let found = entry.program as? Compiled {
            programs[key] = (found, clock)
            pthread_mutex_unlock(&lock)
            return found
        }
        pthread_mutex_unlock(&lock)
        let made = make()
        pthread_mutex_lock(&lock)
        programs[key] = (made, clock)
        if programs.count > capacity, let oldest = programs.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            programs[oldest] = nil
        }
        pthread_mutex_unlock(&lock)
        return made
    }

    /// How many programs the cache holds (for tests).
    var count: Int {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return programs.count
    }
}

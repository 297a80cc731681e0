@_spi(Reflection) import Swift
import Foundation

/// How a walk over a module's tensors visits the values of one type, for one scalar type.
///
/// The walk itself (`TensorWalk`) is not generic: the types it meets are known only at run time, and
/// generic code would look up their metadata at every visit (a few hundred instructions each), several
/// times the cost of the visit.
enum TensorLayout {
    /// Holds no tensor of the walk's scalar type: skipped.
    case noTensors
    /// A `Tensor<Scalar>`: handed to the walk's body.
    case tensor
    /// A module, container or existential: visited by a function that knows its type.
    case custom((UnsafeMutableRawPointer, inout TensorWalk) -> Void)
    /// A struct or tuple: these stored properties (those that may hold tensors) are visited.
    case storedProperties([StoredProperty])

    /// Whether values of the type may hold tensors.
    var holdsTensors: Bool {
        if case .noTensors = self { return false }
        return true
    }
}

/// A stored property, by where it is and what it holds (zero-sized properties may share an offset).
struct StoredPropertyKey: Hashable {
    var offset: Int
    var type: ObjectIdentifier

    init(offset: Int, type: Any.Type) {
        self.offset = offset
        self.type = ObjectIdentifier(type)
    }
}

/// A stored property that may hold tensors.
struct StoredProperty {
    /// The name used in tensor names: the property's name (for `@Buffer var x`, `x` rather than the
    /// wrapper's storage `_x`), or a tuple element's label or index.
    var name: String
    /// The byte offset in the value.
    var offset: Int
    /// How the property's value is visited.
    var layout: TensorLayout
}

/// A module type met in a walk, with the call of its `visitTensors(with:)`.
final class ModuleVisit: @unchecked Sendable {  // immutable
    /// The module type.
    let type: Any.Type
    /// Calls `visitTensors(with:)` on the module at a pointer.
    let callVisitTensors: (UnsafeMutableRawPointer, inout TensorWalk) -> Void

    init(type: Any.Type, callVisitTensors: @escaping (UnsafeMutableRawPointer, inout TensorWalk) -> Void) {
        self.type = type
        self.callVisitTensors = callVisitTensors
    }
}

/// One walk over a module's tensors: where it is (the names from the root), the role of what it finds,
/// and the function it hands each tensor to.
struct TensorWalk {
    /// How each type is visited, for the walk's scalar type.
    let layouts: TensorLayouts
    /// Called with a pointer to each `Tensor<Scalar>`, its role and its path of names.
    let body: (UnsafeMutableRawPointer, TensorRole, [String]) -> Void
    /// Whether the body only reads: then shared storage (arrays, existential boxes) is visited where it
    /// lies instead of being made unique first, which a write would need.
    let isReadOnly: Bool
    /// The names from the root to the value being visited.
    var path: [String]
    /// The role of tensors under the value being visited (`.buffer` inside `@Buffer`).
    var role: TensorRole = .parameter

    /// Starts a walk at the root of a module.
    init(layouts: TensorLayouts, isReadOnly: Bool, body: @escaping (UnsafeMutableRawPointer, TensorRole, [String]) -> Void) {
        self.layouts = layouts
        self.isReadOnly = isReadOnly
        self.body = body
        path = []
        path.reserveCapacity(16)
    }

    /// Hands the tensor at `pointer` to the body, under `name` (nil: the current name), as `role`
    /// (a buffer whatever `role` inside `@Buffer`).
    mutating func visitTensor(at pointer: UnsafeMutableRawPointer, named name: String?, role: TensorRole) {
        if let name { path.append(name) }
        body(pointer, self.role == .buffer ? .buffer : role, path)
        if name != nil { path.removeLast() }
    }

    /// Visits the value at `pointer`, laid out as `layout` says, under `name`.
    mutating func visit(_ layout: TensorLayout, at pointer: UnsafeMutableRawPointer, named name: String) {
        guard layout.holdsTensors else { return }
        path.append(name)
        visit(layout, at: pointer)
        path.removeLast()
    }

    /// Visits the value at `pointer`, laid out as `layout` says, under the current name.
    mutating func visit(_ layout: TensorLayout, at pointer: UnsafeMutableRawPointer) {
        switch layout {
        case .noTensors: return
        case .tensor: body(pointer, role, path)
        case .custom(let visit): visit(pointer, &self)
        case .storedProperties(let fields): visitFields(fields, at: pointer)
        }
    }

    /// Visits the stored properties of the value of type `type` at `pointer`.
    mutating func visitStoredProperties(of type: Any.Type, at pointer: UnsafeMutableRawPointer) {
        visitFields(layouts.storedProperties(of: type), at: pointer)
    }

    /// Visits the given stored properties of the value at `pointer`.
    mutating func visitFields(_ fields: [StoredProperty], at pointer: UnsafeMutableRawPointer) {
        for field in fields { visit(field.layout, at: pointer + field.offset, named: field.name) }
    }

    /// Visits the value at `pointer` (of a type laid out as `layout`) as buffers.
    mutating func visitAsBuffers(_ layout: TensorLayout, at pointer: UnsafeMutableRawPointer) {
        let outer = role
        role = .buffer
        visit(layout, at: pointer)
        role = outer
    }

    /// Visits a module of a type met before (`visit`): its stored properties directly once the type is
    /// known to use the default `visitTensors(with:)`, else through its `visitTensors(with:)`.
    mutating func visitModule(_ visit: ModuleVisit, at pointer: UnsafeMutableRawPointer) {
        if let fields = layouts.defaultFields(of: visit) {
            visitFields(fields, at: pointer)
        } else {
            visit.callVisitTensors(pointer, &self)
        }
    }

    /// Calls a module's `visitTensors(with:)` with this walk.
    mutating func callVisitTensors<M: Module>(_ module: inout M) {
        // A `TensorVisitor` is this walk and nothing else: viewed as one in place.
        withUnsafeMutablePointer(to: &self) { walk in
            walk.withMemoryRebound(to: TensorVisitor<M.Scalar>.self, capacity: 1) { module.visitTensors(with: &$0.pointee) }
        }
    }

    /// Visits a module opened from an existential, in place.
    mutating func visitOpened<M: Module>(_ module: inout M) {
        let layout = layouts.layout(of: M.self)
        withUnsafeMutablePointer(to: &module) { visit(layout, at: $0) }
    }

    /// Visits a module opened from an existential where it lies, for a read-only walk: opening it for
    /// mutation would copy a shared existential box.
    mutating func visitOpenedInPlace<M: Module>(_ module: M) {
        let layout = layouts.layout(of: M.self)
        withUnsafePointer(to: module) { visit(layout, at: UnsafeMutableRawPointer(mutating: $0)) }
    }

    /// The name of element `index`: `String(index)`, without building a string for the first few.
    static func indexName(_ index: Int) -> String {
        index < indexNames.count ? indexNames[index] : String(index)
    }

    private static let indexNames = (0..<256).map(String.init)
}

/// The layouts of the types met so far, for one scalar type: worked out once per type and cached.
///
/// Stored properties and their offsets come from the standard library's field reflection
/// (`_forEachField(of:)`, the metadata `Mirror` reads, with each field's offset and type): reading and
/// writing a property is then a pointer access, with no `Mirror`, no boxing into `Any` and no dynamic cast
/// per visit. Why this mechanism and what it costs: docs/models.md.
final class TensorLayouts: @unchecked Sendable {
    // Guarded by `lock` (so the dynamic exclusivity checks are redundant).
    private let lock = NSLock()
    @exclusivity(unchecked) private var layouts: [ObjectIdentifier: TensorLayout] = [:]
    @exclusivity(unchecked) private var properties: [ObjectIdentifier: [StoredProperty]] = [:]
    /// Types whose layout is being worked out (a type holding an array of itself meets itself).
    @exclusivity(unchecked) private var inProgress: Set<ObjectIdentifier> = []
    /// The stored properties of module types seen to use the default `visitTensors(with:)`.
    @exclusivity(unchecked) private var defaultVisits: [ObjectIdentifier: [StoredProperty]] = [:]
    /// Works out a type's layout for the scalar type (a generic function's specialisation).
    private var classify: ((Any.Type, TensorLayouts) -> TensorLayout)!

    private init() {}

    /// The table for `Scalar`, made on first use.
    static func table<Scalar: TensorScalar>(for _: Scalar.Type) -> TensorLayouts {
        registry.lock.lock()
        defer { registry.lock.unlock() }
        if let table = registry.tables[ObjectIdentifier(Scalar.self)] { return table }
        let table = TensorLayouts()
        table.classify = { type, table in ScalarLayouts<Scalar>.layout(of: type, in: table) }
        registry.tables[ObjectIdentifier(Scalar.self)] = table
        return table
    }

    /// One table per scalar type.
    private final class Registry: @unchecked Sendable {
        let lock = NSLock()
        @exclusivity(unchecked) var tables: [ObjectIdentifier: TensorLayouts] = [:]
    }

    private static let registry = Registry()

    /// How values of `type` are visited.
    func layout(of type: Any.Type) -> TensorLayout {
        let key = ObjectIdentifier(type)
        lock.lock()
        if let known = layouts[key] {
            lock.unlock()
            return known
        }
        if inProgress.contains(key) {
            lock.unlock()
            // Met again while being worked out (a recursive type): looked up again at visiting time.
            return .custom { pointer, walk in walk.visit(walk.layouts.layout(of: type), at: pointer) }
        }
        inProgress.insert(key)
        lock.unlock()
        let layout = classify(type, self)
        lock.lock()
        inProgress.remove(key)
        layouts[key] = layout
        lock.unlock()
        return layout
    }

    /// Records that module type `type` uses the default `visitTensors(with:)`, which visits its stored
    /// properties: later walks visit them directly, without calling it (a witness is fixed per type).
    func noteDefaultVisit(of type: Any.Type) {
        let fields = storedProperties(of: type)
        lock.lock()
        defaultVisits[ObjectIdentifier(type)] = fields
        lock.unlock()
    }

    /// The stored properties of a module type that uses the default `visitTensors(with:)`, once seen.
    func defaultFields(of visit: ModuleVisit) -> [StoredProperty]? {
        lock.lock()
        defer { lock.unlock() }
        return defaultVisits[ObjectIdentifier(visit.type)]
    }

    /// The stored properties of a struct or tuple type that may hold tensors, in declaration order.
    ///
    /// - Precondition: `type` is not a class.
    func storedProperties(of type: Any.Type) -> [StoredProperty] {
        let key = ObjectIdentifier(type)
        lock.lock()
        if let known = properties[key] {
            lock.unlock()
            return known
        }
        lock.unlock()
        let found = computeStoredProperties(type)
        lock.lock()
        properties[key] = found
        lock.unlock()
        return found
    }

    private func computeStoredProperties(_ type: Any.Type) -> [StoredProperty] {
        let kind = TypeKind.of(type)
        precondition(
            kind != .class && kind != .objcClassWrapper && kind != .foreignClass,
            "Module: \(type) is a class; a model is a value (a struct), whose tensors are found by reflection")
        guard kind == .struct || kind == .tuple else { return [] }
        var renamed = (type as? any Module.Type)?.stateDictNamesByOffset ?? [:]
        var all: [(name: String, offset: Int, type: Any.Type)] = []
        _forEachField(of: type) { name, offset, fieldType, _ in
            let key = StoredPropertyKey(offset: offset, type: fieldType)
            all.append((renamed.removeValue(forKey: key) ?? Self.displayName(String(cString: name), type: fieldType), offset, fieldType))
            return true
        }
        precondition(renamed.isEmpty, "\(type).stateDictNames: \(renamed.values.sorted()) name no stored property of \(type)")
        return all.compactMap { field in
            let layout = layout(of: field.type)
            return layout.holdsTensors ? StoredProperty(name: field.name, offset: field.offset, layout: layout) : nil
        }
    }

    /// The name a property contributes to tensor names: a `@Buffer`'s storage `_x` is named `x`, a tuple
    /// element `.0` is named `0`.
    private static func displayName(_ name: String, type: Any.Type) -> String {
        if type is any BufferWrapper.Type, name.hasPrefix("_") { return String(name.dropFirst()) }
        if name.hasPrefix(".") { return String(name.dropFirst()) }
        return name
    }
}

/// The parts of working out layouts that depend on the scalar type.
enum ScalarLayouts<Scalar: TensorScalar> {
    /// How values of `type` are visited by walks over tensors of `Scalar`.
    static func layout(of type: Any.Type, in table: TensorLayouts) -> TensorLayout {
        if type == Tensor<Scalar>.self { return .tensor }
        // The common cases are visited by functions specialised for Float and Double; generic code would
        // look up (or rebuild from its mangled name) the types' metadata at every visit.
        if type == Tensor<Scalar>?.self { return .custom(optionalTensorVisit()) }
        if type == [Tensor<Scalar>].self { return .custom(tensorArrayVisit()) }
        if type == (any Layer<Scalar>).self { return .custom(layerVisit()) }
        if type == [any Layer<Scalar>].self { return .custom(layerArrayVisit()) }
        if type is any TensorType.Type { return .noTensors }   // a tensor of another precision
        if type is any ParameterFreeLayer.Type { return .noTensors }
        if let module = type as? any Module<Scalar>.Type {
            let visit = ModuleVisit(type: type) { pointer, walk in module.visitTensors(at: pointer, walk: &walk) }
            return .custom { pointer, walk in walk.visitModule(visit, at: pointer) }
        }
        if type is any Module.Type { return .noTensors }   // a module of another precision
        if let container = type as? any TensorContainer.Type { return container.layout(in: table) }
        switch TypeKind.of(type) {
        case .struct, .tuple:
            let fields = table.storedProperties(of: type)
            return fields.isEmpty ? .noTensors : .storedProperties(fields)
        case .existential, .unknown:  // `any Layer<Float>` is a kind `_MetadataKind` lacks: `.unknown`
            return existentialVisit(type)
        default:
            return .noTensors
        }
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    static func optionalTensorVisit() -> (UnsafeMutableRawPointer, inout TensorWalk) -> Void {
        { pointer, walk in
            let optional = pointer.assumingMemoryBound(to: Tensor<Scalar>?.self)
            guard optional.pointee != nil else { return }
            withUnsafeMutablePointer(to: &optional.pointee!) { walk.visitTensor(at: $0, named: nil, role: .parameter) }
        }
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    static func tensorArrayVisit() -> (UnsafeMutableRawPointer, inout TensorWalk) -> Void {
        { pointer, walk in
            let array = pointer.assumingMemoryBound(to: [Tensor<Scalar>].self)
            for index in array.pointee.indices {
                if walk.isReadOnly {
                    var tensor = array.pointee[index]
                    withUnsafeMutablePointer(to: &tensor) { walk.visitTensor(at: $0, named: TensorWalk.indexName(index), role: .parameter) }
                } else {
                    withUnsafeMutablePointer(to: &array.pointee[index]) { walk.visitTensor(at: $0, named: TensorWalk.indexName(index), role: .parameter) }
                }
            }
        }
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    static func layerVisit() -> (UnsafeMutableRawPointer, inout TensorWalk) -> Void {
        { pointer, walk in
            let layer = pointer.assumingMemoryBound(to: (any Layer<Scalar>).self)
            if walk.isReadOnly { walk.visitOpenedInPlace(layer.pointee) } else { walk.visitOpened(&layer.pointee) }
        }
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    static func layerArrayVisit() -> (UnsafeMutableRawPointer, inout TensorWalk) -> Void {
        { pointer, walk in
            let array = pointer.assumingMemoryBound(to: [any Layer<Scalar>].self)
            for index in array.pointee.indices {
                walk.path.append(TensorWalk.indexName(index))
                if walk.isReadOnly { walk.visitOpenedInPlace(array.pointee[index]) } else { walk.visitOpened(&array.pointee[index]) }
                walk.path.removeLast()
            }
        }
    }

    /// How an existential other than `any Layer<Scalar>` is visited: opened when what it holds is a module
    /// of this scalar type.
    static func existentialVisit(_ type: Any.Type) -> TensorLayout {
        func layout<Value>(_: Value.Type) -> TensorLayout {
            .custom { pointer, walk in
                let existential = pointer.assumingMemoryBound(to: Value.self)
                guard var module = existential.pointee as? any Module<Scalar> else { return }
                if walk.isReadOnly {
                    walk.visitOpenedInPlace(module)
                } else {
                    walk.visitOpened(&module)
                    if let updated = module as? Value { existential.pointee = updated }
                }
            }
        }
        return layout(type)
    }
}

extension Module {
    /// Visits the module stored at `pointer` (a `Self`): the entry point for a module met inside another
    /// value, whose type is known only at run time.
    static func visitTensors(at pointer: UnsafeMutableRawPointer, walk: inout TensorWalk) {
        walk.callVisitTensors(&pointer.assumingMemoryBound(to: Self.self).pointee)
    }
}

/// The kind of a type, as the standard library's field reflection reports it.
enum TypeKind {
    /// A struct with one stored property of type `Value`, whose reflection tells `Value`'s kind.
    private struct Holder<Value> { var value: Value }

    /// The kind of `type` (struct, class, existential, …).
    static func of(_ type: Any.Type) -> _MetadataKind {
        func kind<Value>(_: Value.Type) -> _MetadataKind {
            var found = _MetadataKind.unknown
            _forEachField(of: Holder<Value>.self) { _, _, _, kind in
                found = kind
                return false
            }
            return found
        }
        return kind(type)
    }
}

/// Marks `Tensor` of any scalar type, so reflection recognises tensors of another precision.
protocol TensorType {}
extension Tensor: TensorType {}

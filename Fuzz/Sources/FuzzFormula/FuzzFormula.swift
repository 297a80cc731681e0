import BackpropTeaching
import FuzzSupport

/// libFuzzer's entry point: any bytes, as UTF-8 text, parsed as a formula; errors are fine, traps are not.
/// A formula that parses (and is small enough to differentiate quickly) also goes through every method the
/// CLI prints: both modes, symbolic derivatives, the Hessian and the non-finite diagnosis, at a point made
/// of the input's own bytes (so zeros, negatives and large values all occur).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    guard let formula = try? Formula(parsing: text), formula.nodes.count <= 64, formula.variables.count <= 6 else { return 0 }
    let point = formula.variables.indices.map { k in Double(Int(data[k % count]) - 128) / 16 }
    _ = formula.gradient(at: point)
    _ = formula.forwardModeGradient(at: point)
    let symbolic = formula.symbolicDerivatives(at: point)
    let values = Dictionary(uniqueKeysWithValues: zip(formula.variables, point))
    for partial in symbolic.partials where Double(partial.treeSize.description) ?? .infinity < 20_000 {
        _ = partial.evaluate(at: values)
        if let text = partial.text { _ = try? Formula(parsing: text) }
    }
    _ = formula.hessianAnalysis(at: point)
    _ = formula.nonFiniteExplanation(at: point)
    return 0
}

/// The executable's entry point as SwiftPM names it: hands the command line to libFuzzer.
@_cdecl("FuzzFormula_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

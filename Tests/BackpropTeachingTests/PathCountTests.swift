import Testing
@testable import BackpropTeaching

/// Paths from `node` to the result by explicit enumeration (exponential; small graphs only).
private func enumeratedPaths(from node: Int, in formula: Formula) -> Int {
    if node == formula.root { return 1 }
    return formula.consumers[node].reduce(0) { $0 + enumeratedPaths(from: $1, in: formula) }
}

@Test("path counts match brute-force enumeration on small graphs", arguments: [
    "x + sin(x^2 + y*exp(z))",
    "x*x",
    "(x*y + y)*(x + y*y)",
    "sigmoid(w*x + b) * (w*x + b)",
])
func pathCountMatchesEnumeration(source: String) throws {
    let formula = try Formula(parsing: source)
    let counted = formula.paths
    var expected: [String] = []
    var total = 0
    for (index, node) in formula.nodes.enumerated() {
        if case .variable = node.operation {
            let n = enumeratedPaths(from: index, in: formula)
            expected.append(String(n))
            total += n
        }
    }
    #expect(counted.pathsPerVariable.map(\.description) == expected)
    #expect(counted.totalPaths.description == String(total))
    #expect(counted.nodeCount == formula.nodes.count)
}

@Test("a squared chain of 100 steps has 2^100 paths, counted exactly")
func pathCountExplodes() throws {
    // ((x*x)*(x*x)) … : each level reads the one below twice, so paths double per level.
    var source = "x"
    for _ in 0..<10 { source = "(\(source))*(\(source))" }
    #expect(try Formula(parsing: source).paths.totalPaths.description == "1024")
    var count = UnboundedCount(1)
    for _ in 0..<100 { count = count + count }
    #expect(count.description == "1267650600228229401496703205376")
}

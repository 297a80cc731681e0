@testable import Backprop
import CBackpropKernels
import Foundation
import Testing

/// The vectorised elementary functions of vecmath.c on every kernel path this machine has: error bounds in
/// ulp over dense samples of each function's interesting ranges, the C library's special values, tails,
/// aliasing and n = 0. Double results are measured against long double (x86-64) or, elsewhere, against the
/// C library with one more ulp of slack; float results against the C library in double.
@Suite struct VectorMathTests {
    typealias DoubleKernel = @Sendable (UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, Int) -> Void
    typealias FloatKernel = @Sendable (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void

    /// One function: its kernels, references and ulp bounds (double, float), and where to sample it.
    struct Function: CustomStringConvertible, Sendable {
        let name: String
        let double: DoubleKernel
        let float: FloatKernel
        /// The exact value as well as the C library knows it in double (the float reference).
        let reference: @Sendable (Double) -> Double
        #if arch(x86_64)
        /// The value in long double (the double reference).
        let precise: @Sendable (Float80) -> Float80
        #endif
        let doubleBound: Double
        let floatBound: Double
        /// Intervals sampled densely and uniformly.
        let ranges: [ClosedRange<Double>]
        var description: String { name }
    }

    /// 1 / (1 + e^-x), written so that e^-x cannot overflow.
    static func sigmoid(_ x: Double) -> Double {
        if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
        let e = Foundation.exp(x)
        return e / (1 + e)
    }
    #if arch(x86_64)
    static func sigmoid(_ x: Float80) -> Float80 {
        if x >= 0 { return 1 / (1 + expl(-x)) }
        let e = expl(x)
        return e / (1 + e)
    }
    #endif

    static let functions: [Function] = {
        func make(_ name: String, _ d: @escaping DoubleKernel, _ f: @escaping FloatKernel,
                  _ reference: @escaping @Sendable (Double) -> Double, _ precise: @escaping @Sendable (Float80Type) -> Float80Type,
                  _ doubleBound: Double, _ ranges: [ClosedRange<Double>]) -> Function {
            #if arch(x86_64)
            Function(name: name, double: d, float: f, reference: reference, precise: precise, doubleBound: doubleBound,
                     floatBound: 1, ranges: ranges)
            #else
            Function(name: name, double: d, float: f, reference: reference, doubleBound: doubleBound + 1, floatBound: 1,
                     ranges: ranges)
            #endif
        }
        let ln2 = 0.6931471805599453
        return [
            make("exp", bp_dexp, bp_sexp, { Foundation.exp($0) }, { expl($0) }, 0.52,
                 [-1...1, -ln2 / 2 - 1e-9...ln2 / 2 + 1e-9, -745.2...709.8, -110...90, 700...709.78, -745.2...(-700)]),
            make("expm1", bp_dexpm1, bp_sexpm1, { Foundation.expm1($0) }, { expm1l($0) }, 1,
                 [-1e-6...1e-6, -1...1, -40...40, -800...709.78, 30...45, -45...(-30)]),
            make("log", bp_dlog, bp_slog, { Foundation.log($0) }, { logl($0) }, 1,
                 [0.5...2, 0.999...1.001, 0.70...0.72, 1.40...1.42, 1e-300...1e-290, 0...1e300, 0x1p-1063...1e-300]),
            make("log1p", bp_dlog1p, bp_slog1p, { Foundation.log1p($0) }, { log1pl($0) }, 1,
                 [-1e-8...1e-8, -0.5...1, -1...(-0.99), 0...1e6, 1e15...1e20]),
            make("sin", bp_dsin, bp_ssin, { Foundation.sin($0) }, { sinl($0) }, 2,
                 [-1e-5...1e-5, -4...4, 1.5...1.65, 3.1...3.2, -1e5...1e5, 5e5...6e5, 1e10...1e12]),
            make("cos", bp_dcos, bp_scos, { Foundation.cos($0) }, { cosl($0) }, 2,
                 [-1e-5...1e-5, -4...4, 1.5...1.65, 3.1...3.2, -1e5...1e5, 5e5...6e5, 1e10...1e12]),
            make("tan", bp_dtan, bp_stan, { Foundation.tan($0) }, { tanl($0) }, 2,
                 [-1e-5...1e-5, -4...4, 0.7...0.9, 1.5...1.65, -1e5...1e5, 5e5...6e5]),
            make("tanh", bp_dtanh, bp_stanh, { Foundation.tanh($0) }, { tanhl($0) }, 0.6,
                 [-1e-6...1e-6, -1...1, 0.15...0.2, -25...25, 18...23]),
            make("sigmoid", bp_dsigmoid, bp_ssigmoid, { Self.sigmoid($0) }, { Self.sigmoid($0) }, 2,
                 [-1...1, -40...40, -750...(-700), 700...1000, -104...(-80)]),
            make("erf", bp_derf, bp_serf, { Foundation.erf($0) }, { erfl($0) }, 2,
                 [-1e-6...1e-6, -1.2...1.2, 0.9...1.1, 1.9...2.1, 3.4...3.6, -7...7, 5.8...6.1]),
        ]
    }()

    /// `count` points spread evenly over each range, plus their negations' neighbours at the ends.
    static func samples(_ ranges: [ClosedRange<Double>], count: Int = 20_000) -> [Double] {
        var values: [Double] = []
        for range in ranges {
            let step = (range.upperBound - range.lowerBound) / Double(count - 1)
            values += (0..<count).map { range.lowerBound + Double($0) * step }
            values += [range.lowerBound.nextUp, range.upperBound.nextDown]
        }
        return values
    }

    /// The error of `value` in ulp of the exact value (the spacing of doubles in its binade).
    static func ulps(_ value: Double, exact: Float80Type) -> Double {
        let e = Double(exact)
        if value.isNaN || e.isNaN { return value.isNaN && e.isNaN ? 0 : .infinity }
        if value.isInfinite || e.isInfinite { return value == e ? 0 : .infinity }
        let binade = exact == 0 ? Float80Type(Double.leastNormalMagnitude) : Float80Type(Swift.abs(exact)).binade
        let ulp = Swift.max(binade * Float80Type(Double.ulpOfOne), Float80Type(Double.leastNonzeroMagnitude))
        return Double(Swift.abs(Float80Type(value) - exact) / ulp)
    }

    /// The error of `value` in ulp of the exact value (given in double) at float precision.
    static func ulps(_ value: Float, exact: Double) -> Double {
        if value.isNaN || exact.isNaN { return value.isNaN && exact.isNaN ? 0 : .infinity }
        if value.isInfinite || Float(exact).isInfinite { return value == Float(exact) ? 0 : .infinity }
        let binade = exact == 0 ? Double(Float.leastNormalMagnitude) : Swift.abs(exact).binade
        let ulp = Swift.max(binade * Double(Float.ulpOfOne), Double(Float.leastNonzeroMagnitude))
        return Swift.abs(Double(value) - exact) / ulp
    }

    static func exact(_ function: Function, _ x: Double) -> Float80Type {
        #if arch(x86_64)
        function.precise(Float80(x))
        #else
        function.reference(x)
        #endif
    }

    static let cases: [(Function, KernelPath)] = functions.flatMap { f in testableKernelPaths.map { (f, $0) } }

    @Test(arguments: cases)
    func doubleWithinBound(function: Function, path: KernelPath) {
        let x = Self.samples(function.ranges)
        var y = [Double](repeating: .nan, count: x.count)
        withKernelPath(path) { function.double(x, &y, x.count) }
        var worst = 0.0, worstAt = 0.0, failures = 0
        for (xi, yi) in zip(x, y) {
            let error = Self.ulps(yi, exact: Self.exact(function, xi))
            if error > worst { (worst, worstAt) = (error, xi) }
            if error > function.doubleBound, failures < 5 {
                failures += 1
                Issue.record("\(path) \(function.name)(\(xi)) = \(yi), exact \(Self.exact(function, xi)): \(error) ulp")
            }
        }
        #expect(worst <= function.doubleBound, "\(path) \(function.name): worst \(worst) ulp at \(worstAt)")
    }

    @Test(arguments: cases)
    func floatWithinBound(function: Function, path: KernelPath) {
        let x = Self.samples(function.ranges).map { Float($0) }.filter(\.isFinite)
        var y = [Float](repeating: .nan, count: x.count)
        withKernelPath(path) { function.float(x, &y, x.count) }
        var worst = 0.0, worstAt: Float = 0, failures = 0
        // The C library's own float functions are allowed their documented error on the portable path.
        let bound = path == .portable ? function.floatBound + 1 : function.floatBound
        for (xi, yi) in zip(x, y) {
            let error = Self.ulps(yi, exact: function.reference(Double(xi)))
            if error > worst { (worst, worstAt) = (error, xi) }
            if error > bound, failures < 5 {
                failures += 1
                Issue.record("\(path) float \(function.name)(\(xi)) = \(yi), exact \(function.reference(Double(xi))): \(error) ulp")
            }
        }
        #expect(worst <= bound, "\(path) float \(function.name): worst \(worst) ulp at \(worstAt)")
    }

    /// Special inputs give what the C library gives: the same NaN-ness, infinity, zero and sign of zero.
    @Test(arguments: cases)
    func specialValuesMatchTheCLibrary(function: Function, path: KernelPath) {
        let specials: [Double] = [
            .nan, -.nan, .infinity, -.infinity, 0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
            .leastNormalMagnitude, -.leastNormalMagnitude, 0x1p-1030, -0x1p-1030, .greatestFiniteMagnitude,
            -.greatestFiniteMagnitude, 1, -1, 0.5, -0.5, 2, 708, -708, 709.78, 709.79, 710, -745.1, -745.2, -746,
            -1000, 1000, 1e300, -1e300, 0x1p19, 0x1p19.nextUp, -0x1p19.nextUp, 1e22, 22, -22, 6, -6, 5.9, 40, -40,
        ]
        var y = [Double](repeating: 42, count: specials.count)
        withKernelPath(path) { function.double(specials, &y, specials.count) }
        for (x, value) in zip(specials, y) {
            let expected = function.reference(x)
            let precise = Self.exact(function, x)
            if expected.isNaN || expected.isInfinite || expected == 0 {
                #expect(value.isNaN == expected.isNaN && (expected.isNaN || value == expected),
                        "\(path) \(function.name)(\(x)) = \(value), C library \(expected)")
                #expect(expected != 0 || value.sign == expected.sign, "\(path) \(function.name)(\(x)) = \(value): sign of zero")
            } else {
                #expect(Self.ulps(value, exact: precise) <= function.doubleBound + 1,
                        "\(path) \(function.name)(\(x)) = \(value), exact \(precise)")
            }
        }
        let floats = specials.map { Float($0) }
        var yf = [Float](repeating: 42, count: floats.count)
        withKernelPath(path) { function.float(floats, &yf, floats.count) }
        for (x, value) in zip(floats, yf) {
            let expected = function.reference(Double(x))
            if expected.isNaN || Float(expected).isInfinite || Float(expected) == 0 {
                #expect(value.isNaN == expected.isNaN && (expected.isNaN || value == Float(expected)),
                        "\(path) float \(function.name)(\(x)) = \(value), C library \(expected)")
                #expect(Float(expected) != 0 || value.sign == Float(expected).sign,
                        "\(path) float \(function.name)(\(x)) = \(value): sign of zero")
            } else {
                #expect(Self.ulps(value, exact: expected) <= 1, "\(path) float \(function.name)(\(x)) = \(value)")
            }
        }
    }

    /// Every length from 0 to 40 (the vector loop's tail): all n values written, nothing past them; and the
    /// output may be the input array itself.
    @Test(arguments: cases)
    func tailsAndAliasing(function: Function, path: KernelPath) {
        withKernelPath(path) {
            for n in 0...40 {
                let x = (0..<n).map { Double($0) * 0.173 - 2.9 }
                var out = [Double](repeating: 42, count: n + 3)
                out.withUnsafeMutableBufferPointer { function.double(x, $0.baseAddress!, n) }
                for i in 0..<n {
                    #expect(Self.ulps(out[i], exact: Self.exact(function, x[i])) <= function.doubleBound, "n = \(n), i = \(i)")
                }
                #expect(out[n...] == [42, 42, 42], "\(function.name) wrote past \(n) values")
                var inPlace = x
                inPlace.withUnsafeMutableBufferPointer { function.double($0.baseAddress!, $0.baseAddress!, n) }
                #expect(inPlace.map(\.bitPattern) == out[..<n].map(\.bitPattern), "in place differs, n = \(n)")
                let xf = x.map { Float($0) }
                var outf = [Float](repeating: 42, count: n + 3)
                outf.withUnsafeMutableBufferPointer { function.float(xf, $0.baseAddress!, n) }
                #expect(outf[n...] == [42, 42, 42], "float \(function.name) wrote past \(n) values")
                var inPlacef = xf
                inPlacef.withUnsafeMutableBufferPointer { function.float($0.baseAddress!, $0.baseAddress!, n) }
                #expect(inPlacef.map(\.bitPattern) == outf[..<n].map(\.bitPattern), "float in place differs, n = \(n)")
            }
        }
    }

    /// A value's result does not depend on its neighbours: values that take different formulas (tanh below
    /// and above 1/32, exp near its overflow, log of subnormals, sin of huge arguments) mixed in one array give
    /// each what the kernel gives that value alone, whatever the vector width or the threads' split.
    @Test(arguments: cases)
    func resultsDoNotDependOnNeighbours(function: Function, path: KernelPath) {
        var random = KernelTestRandom(seed: 31)
        let ordinary = (0..<64).map { _ in random.next() * 3 }
        let unusual: [Double] = [0.01, -0.02, 1e-9, 0x1p-1030, 709.5, -745, 1e6, -1e300, 0.5, 22.5, .nan, 0]
        var x = ordinary
        for (i, value) in unusual.enumerated() { x[(i * 5) % x.count] = value }
        withKernelPath(path) {
            var together = [Double](repeating: 0, count: x.count)
            function.double(x, &together, x.count)
            for (i, value) in x.enumerated() {
                var alone = [0.0]
                function.double([value], &alone, 1)
                #expect(together[i].bitPattern == alone[0].bitPattern || (together[i].isNaN && alone[0].isNaN),
                        "\(path) \(function.name)(\(value)) = \(together[i]) among others, \(alone[0]) alone")
            }
        }
    }

    // MARK: pow

    /// Pairs covering the fast path (positive bases, exponents up to hundreds, bases near 1 with huge
    /// exponents, negative bases with integer exponents) and the C library's edge cases.
    static let powPairs: [(Double, Double)] = {
        var random = KernelTestRandom(seed: 20)
        var pairs: [(Double, Double)] = []
        for _ in 0..<20_000 { pairs.append((Swift.abs(random.next()) * 10, random.next() * 30)) }
        for _ in 0..<10_000 { pairs.append((Foundation.exp(random.next() * 700), random.next() * 1.01)) }
        for _ in 0..<10_000 { pairs.append((1 + random.next() * 1e-6, random.next() * 7e8)) }
        for _ in 0..<10_000 { pairs.append((1 + random.next() * 0.4, random.next() * 2000)) }
        for _ in 0..<10_000 { pairs.append((random.next() * 20, (random.next() * 40).rounded())) }
        for _ in 0..<2_000 { pairs.append((random.next() * 5, random.next() * 5)) } // negative bases, fractions
        let specials: [Double] = [0, -0.0, 1, -1, 2, -2, 0.5, -0.5, 3, -3, .infinity, -.infinity, .nan, 0x1p-1030, -0x1p-1030,
                                  1e308, 0x1p52, 0x1p52 + 1, 0x1p53 + 2, -0x1p51 - 1, 1.5, -1.5, 1e-20]
        for x in specials { for y in specials { pairs.append((x, y)) } }
        return pairs
    }()

    @Test(arguments: testableKernelPaths)
    func powWithinBoundAndSpecials(path: KernelPath) {
        let x = Self.powPairs.map(\.0), y = Self.powPairs.map(\.1)
        var z = [Double](repeating: 42, count: x.count)
        withKernelPath(path) { bp_dpow(x, y, &z, x.count) }
        var worst = 0.0, failures = 0
        for i in x.indices {
            let expected = Foundation.pow(x[i], y[i])
            if expected.isNaN || expected.isInfinite || expected == 0 {
                let same = z[i].isNaN == expected.isNaN && (expected.isNaN || (z[i] == expected && z[i].sign == expected.sign))
                if !same, failures < 10 {
                    failures += 1
                    Issue.record("\(path) pow(\(x[i]), \(y[i])) = \(z[i]), C library \(expected)")
                }
                continue
            }
            #if arch(x86_64)
            let error = Self.ulps(z[i], exact: powl(Float80(x[i]), Float80(y[i])))
            let bound = 2.0
            #else
            let error = Self.ulps(z[i], exact: expected)
            let bound = 3.0
            #endif
            worst = Swift.max(worst, error)
            if error > bound, failures < 10 {
                failures += 1
                Issue.record("\(path) pow(\(x[i]), \(y[i])) = \(z[i]), exact \(expected): \(error) ulp")
            }
        }
        #expect(failures == 0, "\(path) pow: worst \(worst) ulp")
        // Float: against double pow, within 1 ulp (the C library's powf on the portable path).
        let xf = x.map { Float($0) }, yf = y.map { Float($0) }
        var zf = [Float](repeating: 42, count: xf.count)
        withKernelPath(path) { bp_spow(xf, yf, &zf, xf.count) }
        var floatFailures = 0
        for i in xf.indices {
            let expected = Foundation.pow(Double(xf[i]), Double(yf[i]))
            let error = Self.ulps(zf[i], exact: expected)
            let ok = Float(expected) == 0 ? zf[i] == 0 && zf[i].sign == Float(expected).sign : error <= 1
            if !ok, floatFailures < 10 {
                floatFailures += 1
                Issue.record("\(path) powf(\(xf[i]), \(yf[i])) = \(zf[i]), exact \(expected)")
            }
        }
        #expect(floatFailures == 0)
        // Tails and aliasing: z written over x.
        withKernelPath(path) {
            for n in 0...20 {
                var a = (0..<n).map { 0.3 + Double($0) * 0.21 }
                let b = (0..<n).map { Double($0) * 0.37 - 3 }
                let expected = zip(a, b).map { Foundation.pow($0, $1) }
                a.withUnsafeMutableBufferPointer { bp_dpow($0.baseAddress!, b, $0.baseAddress!, n) }
                for i in 0..<n { #expect(Self.ulps(a[i], exact: Float80Type(expected[i])) <= 3, "n = \(n)") }
            }
        }
    }
}

#if arch(x86_64)
/// The type of the double functions' reference values: long double where Swift has it.
typealias Float80Type = Float80
#else
typealias Float80Type = Double
#endif

import Foundation
import Testing
@testable import BackpropNN

@Suite struct CSVReaderTests {
    private func read(_ text: String, labelColumn: Int? = nil, hasHeader: Bool? = nil, labelColumnName: String? = nil) throws
        -> Dataset<Double>
    {
        try Dataset(csvAt: try temporaryFile(named: "data.csv", text: text), labelColumn: labelColumn,
                    hasHeader: hasHeader, labelColumnName: labelColumnName)
    }

    private func error(_ text: String, labelColumn: Int? = nil, labelColumnName: String? = nil) -> DataError? {
        do {
            _ = try read(text, labelColumn: labelColumn, labelColumnName: labelColumnName)
            return nil
        } catch let error as DataError {
            return error
        } catch {
            return nil
        }
    }

    @Test func plainDecimalsReadWithoutStrtodEqualIt() {
        // The fast path for plain decimals against Double(String) (strtod), bit for bit: random digits with the
        // point anywhere, signs, leading and trailing zeros, the 2^53 and 10^22 edges, and fields it must leave
        // to strtod (exponents, too many digits, inf/nan, stray signs and points).
        var generator = SeededGenerator(seed: 12)
        var fields = ["0", "-0", "+0", "0.0", "-0.0", ".5", "5.", "-.5", "007.250", "9007199254740992",
                      "9007199254740993", "0.0000000000000000000001", "1.00000000000000000000000",
                      "123456789012345678", "1234567890123456789", "12345678901234567890", "1e5", "-2.5E-3",
                      "inf", "nan", "-", "+", ".", "1.2.3", "--1", "1-2", "0.1", "0.2", "0.3", "1.7976931348623157"]
        for _ in 0..<20_000 {
            let count = 1 + Int(generator.next() % 18)
            var digits = (0..<count).map { _ in Character(String(generator.next() % 10)) }
            if generator.next() % 3 == 0 { digits.insert(".", at: Int(generator.next() % UInt64(count + 1))) }
            let sign = ["", "-", "+"][Int(generator.next() % 3)]
            fields.append(sign + String(digits))
        }
        for field in fields {
            let fast = CSVTable.number(in: ArraySlice(Array(field.utf8)))
            let reference = Double(field)
            #expect(fast?.bitPattern == reference?.bitPattern, "\(field): \(String(describing: fast)) vs \(String(describing: reference))")
        }
        #expect(CSVTable.plainDecimal(ArraySlice(Array("0.1".utf8))) == 0.1)
        #expect(CSVTable.plainDecimal(ArraySlice(Array("1e5".utf8))) == nil)
    }

    @Test func readsNumbersWithDefaultLastLabel() throws {
        let data = try read("1,2,0\n3.5,-4e-1,1\r\n\n5,6,2\n")
        #expect(data.features.shape == [3, 2])
        #expect(data.features.scalars == [1, 2, 3.5, -0.4, 5, 6])
        #expect(data.labels == [0, 1, 2])
    }

    @Test func detectsHeaderAndFindsLabelByName() throws {
        let data = try read("label,a,b\n1,0.5,0.25\n0,1,2\n", labelColumnName: "label")
        #expect(data.labels == [1, 0])
        #expect(data.features.scalars == [0.5, 0.25, 1, 2])
        let byIndex = try read("label,a,b\n1,0.5,0.25\n", labelColumn: 0)
        #expect(byIndex.labels == [1])
        let negative = try read("1,2,3\n4,5,6\n", labelColumn: -2)
        #expect(negative.labels == [2, 5])
    }

    @Test func mapsNonIntegerLabelsToClasses() throws {
        let moons = try Dataset<Double>(csvAt: fixture("moons.csv"))
        #expect(moons.labelValues == [-1, 1])
        #expect(Set(moons.labels) == [0, 1])
        #expect(moons.classCount == 2)
        #expect(moons.featureCount == 2 && moons.count == 20)
        let data = try read("0,2.5\n1,-3\n2,2.5\n")
        #expect(data.labels == [1, 0, 1] && data.labelValues == [-3, 2.5])
    }

    @Test func readsRegressionTargets() throws {
        let url = try temporaryFile(named: "r.csv", text: "x,y\n1,2.5\n2,4.5\n")
        let data = try Dataset<Float>(csvAt: url, labelKind: .target)
        #expect(data.labels.isEmpty)
        #expect(data.targets?.shape == [2, 1] && data.targets?.scalars == [2.5, 4.5])
    }

    @Test func reportsBadValuesWithLineAndColumn() {
        let bad = error("1,2,3\n1,2,3\n4,abc,1\n")
        #expect(bad?.kind == .invalidValue)
        #expect(bad?.description == "data.csv: line 3: column 2: 'abc' is not a number")
        #expect(error("1,2,3\n1,,3\n")?.description == "data.csv: line 2: column 2: empty field is not a number")
        #expect(error("1,2,3\n1,nan,3\n")?.kind == .invalidValue)
    }

    @Test func reportsRaggedRows() {
        let ragged = error("1,2,3\n4,5\n")
        #expect(ragged?.kind == .raggedRow)
        #expect(ragged?.description == "data.csv: line 2: expected 3 columns, got 2")
    }

    @Test func reportsEmptyMissingAndOutOfRange() throws {
        #expect(error("")?.kind == .empty)
        #expect(error("\n\n  \n")?.kind == .empty)
        #expect(error("a,b,c\n")?.kind == .empty)
        #expect(error("1,2\n", labelColumn: 5)?.kind == .labelColumnOutOfRange)
        #expect(error("1,2\n", labelColumn: -3)?.kind == .labelColumnOutOfRange)
        #expect(error("a,b\n1,2\n", labelColumnName: "c")?.kind == .labelColumnOutOfRange)
        #expect(error("1,2\n", labelColumnName: "c")?.kind == .labelColumnOutOfRange)
        #expect(error("1\n2\n")?.kind == .labelColumnOutOfRange)
        let missing = URL(fileURLWithPath: "/nonexistent/nowhere.csv")
        #expect(throws: DataError.self) { try Dataset<Float>(csvAt: missing) }
        do { _ = try Dataset<Float>(csvAt: missing) } catch let error as DataError { #expect(error.kind == .fileNotFound) }
    }

    @Test func rejectsQuotedFieldsClearly() {
        let quoted = error("1,\"2\",3\n")
        #expect(quoted?.kind == .unsupported)
        #expect(quoted?.description.contains("quoted fields") == true)
    }

    @Test func neverCrashesOnGarbage() throws {
        var generator = SeededGenerator(seed: 99)
        for length in [1, 2, 7, 64, 500] {
            for _ in 0..<20 {
                let garbage = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                _ = try? Dataset<Float>(csvBytes: garbage)
                // Garbage made mostly of CSV characters exercises the parser more deeply.
                let alphabet = Array("0123456789,.-e\n\r \"".utf8)
                let csvish = (0..<length).map { _ in alphabet[uniformIndex(below: alphabet.count, using: &generator)] }
                _ = try? Dataset<Float>(csvBytes: csvish)
            }
        }
    }
}

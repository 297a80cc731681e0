import Foundation

/// What the label column of a CSV file holds.
public enum CSVLabelKind: Sendable {
    /// Class labels: integers ≥ 0 are used as they are; any other values are mapped, in sorted order,
    /// to `0..<k` (the original values kept in `Dataset.labelValues`).
    case classes
    /// A regression target: the column becomes `Dataset.targets` (shape `[n, 1]`) and labels stay empty.
    case target
}

extension Dataset {
    /// Reads a numeric CSV file: one example per line, comma-separated numbers, one column the label.
    ///
    /// Blank lines are skipped; `\r\n` line ends and a UTF-8 byte-order mark are accepted. Quoted
    /// fields, non-numeric values and non-finite values are rejected with an error giving line and column.
    ///
    /// - Parameters:
    ///   - url: the file.
    ///   - labelColumn: the 0-based label column; negative values count from the end (−1 is the last).
    ///     Nil means the last column, unless `labelColumnName` is given.
    ///   - hasHeader: whether the first non-blank line is a header; nil detects it (a first row with a
    ///     field that is not a number is a header).
    ///   - labelColumnName: the label column's name in the header (requires a header).
    ///   - labelKind: class labels or a regression target.
    /// - Throws: `DataError` saying what is wrong and where.
    public init(
        csvAt url: URL, labelColumn: Int? = nil, hasHeader: Bool? = nil, labelColumnName: String? = nil,
        labelKind: CSVLabelKind = .classes
    ) throws {
        let bytes = try readFileBytes(at: url)
        do {
            self = try Dataset(
                csvBytes: bytes, labelColumn: labelColumn, hasHeader: hasHeader, labelColumnName: labelColumnName,
                labelKind: labelKind)
        } catch let error as DataError {
            throw error.located(in: url)
        }
    }

    /// Parses numeric CSV text held in memory; see `init(csvAt:labelColumn:hasHeader:labelColumnName:labelKind:)`.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public init(
        csvBytes bytes: [UInt8], labelColumn: Int? = nil, hasHeader: Bool? = nil, labelColumnName: String? = nil,
        labelKind: CSVLabelKind = .classes
    ) throws {
        let table = try CSVTable(bytes: bytes, hasHeader: hasHeader)
        let columns = table.columnCount
        var labelIndex: Int
        if let labelColumnName {
            guard let header = table.header else {
                throw DataError(.labelColumnOutOfRange, "label column '\(labelColumnName)' requested, but the file has no header")
            }
            guard let found = header.firstIndex(of: labelColumnName) else {
                throw DataError(
                    .labelColumnOutOfRange,
                    "no column named '\(labelColumnName)' in the header (columns: \(header.joined(separator: ", ")))",
                    line: table.headerLine)
            }
            labelIndex = found
        } else {
            labelIndex = labelColumn ?? -1
            if labelIndex < 0 { labelIndex += columns }
            guard labelIndex >= 0 && labelIndex < columns else {
                throw DataError(
                    .labelColumnOutOfRange,
                    "label column \(labelColumn ?? -1) is out of range for \(columns) column\(columns == 1 ? "" : "s")")
            }
        }
        guard columns >= 2 else {
            throw DataError(.labelColumnOutOfRange, "needs at least two columns (features and a label), found \(columns)")
        }

        let rows = table.rowCount
        let featureCount = columns - 1
        var features = [Scalar]()
        features.reserveCapacity(rows * featureCount)
        var rawLabels = [Double]()
        rawLabels.reserveCapacity(rows)
        try table.values.withUnsafeBufferPointer { values in
            for row in 0..<rows {
                let base = row * columns
                for column in 0..<columns {
                    let value = values[base + column]
                    if column == labelIndex {
                        if labelKind == .target { try table.checkFinite(value, as: Scalar.self, row: row, column: column) }
                        rawLabels.append(value)
                    } else {
                        let scalar = Scalar(value)
                        if !scalar.isFinite { try table.checkFinite(value, as: Scalar.self, row: row, column: column) }
                        features.append(scalar)
                    }
                }
            }
        }
        let featureTensor = Tensor(shape: [rows, featureCount], scalars: features)
        switch labelKind {
        case .target:
            self.init(
                features: featureTensor, labels: [],
                targets: Tensor(shape: [rows, 1], scalars: rawLabels.map { Scalar($0) }))
        case .classes:
            let (labels, labelValues) = Self.classLabels(rawLabels)
            self.init(features: featureTensor, labels: labels, labelValues: labelValues)
        }
    }

    /// Integer labels ≥ 0 as they are (if not absurdly large); otherwise the distinct sorted values
    /// mapped to `0..<k`, with the mapping.
    static func classLabels(_ raw: [Double]) -> (labels: [Int], labelValues: [Double]?) {
        let limit = 1 << 20
        if raw.allSatisfy({ $0 >= 0 && $0 < Double(limit) && $0 == $0.rounded() }) {
            return (raw.map { Int($0) }, nil)
        }
        let distinct = Array(Set(raw)).sorted()
        var index = [Double: Int]()
        for (k, value) in distinct.enumerated() { index[value] = k }
        return (raw.map { index[$0] ?? 0 }, distinct)
    }
}

/// A rectangular table of finite numbers parsed from CSV bytes, with an optional header row.
struct CSVTable {
    /// The column names, if the file has a header.
    var header: [String]?
    /// The 1-based line of the header.
    var headerLine: Int?
    /// The number of columns.
    var columnCount = 0
    /// The number of data rows.
    var rowCount = 0
    /// The values, row-major.
    var values: [Double] = []
    /// The 1-based line of each data row.
    var rowLines: [Int] = []

    /// Parses the bytes.
    ///
    /// - Parameter hasHeader: whether the first non-blank line is a header; nil detects it.
    init(bytes: [UInt8], hasHeader: Bool?) throws {
        var start = 0
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { start = 3 }
        var lineNumber = 0
        var firstRow = true
        var position = start
        while position < bytes.count {
            lineNumber += 1
            var end = position
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            var lineEnd = end
            if lineEnd > position && bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            defer { position = end + 1 }
            let line = bytes[position..<lineEnd]
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
            let fields = try Self.fields(of: line, lineNumber: lineNumber)
            if firstRow {
                firstRow = false
                columnCount = fields.count
                let isHeader = hasHeader ?? fields.contains { Self.number(in: $0) == nil }
                if isHeader {
                    header = fields.map { String(decoding: $0, as: UTF8.self) }
                    headerLine = lineNumber
                    continue
                }
            }
            guard fields.count == columnCount else {
                throw DataError(
                    .raggedRow, "expected \(columnCount) column\(columnCount == 1 ? "" : "s"), got \(fields.count)",
                    line: lineNumber)
            }
            for (column, field) in fields.enumerated() {
                guard let value = Self.number(in: field) else {
                    let text = String(decoding: field.prefix(40), as: UTF8.self)
                    let what = field.isEmpty ? "empty field is not a number" : "'\(text)' is not a number"
                    throw DataError(.invalidValue, what, line: lineNumber, column: column + 1)
                }
                guard value.isFinite else {
                    throw DataError(
                        .invalidValue, "'\(String(decoding: field, as: UTF8.self))' is not a finite number",
                        line: lineNumber, column: column + 1)
                }
                values.append(value)
            }
            rowLines.append(lineNumber)
            rowCount += 1
        }
        guard rowCount > 0 else {
            throw DataError(.empty, header == nil ? "the file has no data rows" : "the file has a header but no data rows")
        }
    }

    /// The values converted to `Scalar`, row-major.
    ///
    /// - Throws: `DataError` at the first value that is not finite as a `Scalar` (1e39 is a finite Double but
    ///   an infinite Float), naming its line and column.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    func scalars<Scalar: TensorScalar>(as _: Scalar.Type) throws -> [Scalar] {
        var result = [Scalar]()
        result.reserveCapacity(values.count)
        for (index, value) in values.enumerated() {
            let scalar = Scalar(value)
            if !scalar.isFinite { try checkFinite(value, as: Scalar.self, row: index / columnCount, column: index % columnCount) }
            result.append(scalar)
        }
        return result
    }

    /// Throws a `DataError` naming the line and column when `value` (of data row `row`) is not finite as a `Scalar`.
    func checkFinite<Scalar: TensorScalar>(_ value: Double, as _: Scalar.Type, row: Int, column: Int) throws {
        guard !Scalar(value).isFinite else { return }
        let type = "\(scalarName(Scalar.self)) (at most \(largestMagnitudeText(Scalar.self)) in magnitude)"
        throw DataError(.invalidValue, "\(value) is not finite as \(type)", line: rowLines[row], column: column + 1)
    }

    /// The comma-separated fields of a line, trimmed of spaces and tabs; quoted fields are rejected.
    static func fields(of line: ArraySlice<UInt8>, lineNumber: Int) throws -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var fieldStart = line.startIndex
        var index = line.startIndex
        while true {
            if index == line.endIndex || line[index] == UInt8(ascii: ",") {
                var lower = fieldStart, upper = index
                while lower < upper && (line[lower] == 0x20 || line[lower] == 0x09) { lower += 1 }
                while upper > lower && (line[upper - 1] == 0x20 || line[upper - 1] == 0x09) { upper -= 1 }
                let field = line[lower..<upper]
                if field.contains(UInt8(ascii: "\"")) || field.contains(UInt8(ascii: "'")) {
                    throw DataError(
                        .unsupported, "quoted fields are not supported (numeric CSV only)",
                        line: lineNumber, column: result.count + 1)
                }
                result.append(field)
                if index == line.endIndex { break }
                fieldStart = index + 1
            }
            index += 1
        }
        return result
    }

    /// The number a field spells, or nil (fields are ASCII decimal or scientific notation).
    static func number(in field: ArraySlice<UInt8>) -> Double? {
        guard !field.isEmpty, field.count < 64 else { return nil }
        if let value = plainDecimal(field) { return value }
        for byte in field {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "+"),
                UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "i"), UInt8(ascii: "n"), UInt8(ascii: "f"),
                UInt8(ascii: "a"), UInt8(ascii: "N"), UInt8(ascii: "I"), UInt8(ascii: "F"), UInt8(ascii: "A"):
                continue
            default:
                return nil
            }
        }
        return Double(String(decoding: field, as: UTF8.self))
    }

    /// Exact powers of ten as doubles: 10^0 through 10^22.
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
        1e19, 1e20, 1e21, 1e22,
    ]

    /// A plain decimal (`[+-]digits[.digits]`) whose digits make an integer of at most 2^53, with at most 22
    /// after the point, or nil for anything else. Its value is that integer divided by a power of ten, both
    /// exact doubles, and IEEE division rounds the quotient correctly: the double `strtod` gives, without
    /// making a String of the field (Clinger's fast path).
    static func plainDecimal(_ field: ArraySlice<UInt8>) -> Double? {
        var index = field.startIndex
        var negative = false
        if field[index] == UInt8(ascii: "-") || field[index] == UInt8(ascii: "+") {
            negative = field[index] == UInt8(ascii: "-")
            index += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0, fractionDigits = 0
        var seenPoint = false
        while index < field.endIndex {
            let byte = field[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                digits += 1
                guard digits <= 19 else { return nil }  // 19 digits cannot overflow 64 bits
                mantissa = mantissa * 10 + UInt64(byte - UInt8(ascii: "0"))
                if seenPoint { fractionDigits += 1 }
            } else if byte == UInt8(ascii: ".") && !seenPoint {
                seenPoint = true
            } else {
                return nil
            }
            index += 1
        }
        guard digits > 0, mantissa <= 1 << 53, fractionDigits < powersOfTen.count else { return nil }
        let value = Double(mantissa) / powersOfTen[fractionDigits]
        return negative ? -value : value
    }
}

import Foundation

extension Tensor {
    /// Reads a numeric CSV file without labels as a matrix `[rows, columns]` (for prediction).
    ///
    /// The same rules as `Dataset.init(csvAt:…)`: blank lines skipped, a header detected (or as given),
    /// every field a number finite as a `Scalar`, every row the same length.
    ///
    /// - Throws: `DataError` saying what is wrong and where.
    public init(csvAt url: URL, hasHeader: Bool? = nil) throws {
        let bytes = try readFileBytes(at: url)
        do {
            let table = try CSVTable(bytes: bytes, hasHeader: hasHeader)
            guard table.rowCount > 0 else { throw DataError(.empty, "the file has no data rows") }
            self.init(shape: [table.rowCount, table.columnCount], scalars: try table.scalars(as: Scalar.self))
        } catch let error as DataError {
            throw error.located(in: url)
        }
    }
}

import BackpropNN

/// What the workers of a data-parallel run must agree on (the examples, the model, every setting that decides
/// how many collectives run and how large each is), as named 64-bit digests compared before the first
/// collective. Workers given different data or flags would otherwise call collectives of different counts
/// and sizes, and a broadcast would overrun a buffer; a stale copy of the data on one node is enough.
struct RunAgreement {
    /// The named digests, in the order they were added (the same on every worker: it is the code's order).
    private(set) var entries: [(name: String, digest: UInt64)] = []
    /// This worker's own text of each entry, for the message.
    private var values: [String?] = []

    /// Adds a setting by its text (shown in the message when workers differ).
    mutating func add(_ name: String, _ text: String) {
        var hash = Digest()
        hash.add(text)
        entries.append((name, hash.value))
        values.append(text)
    }

    /// Adds a data set by its content: features, labels and the original label values.
    mutating func add(_ name: String, _ data: Dataset<Float>?) {
        var hash = Digest()
        if let data {
            hash.add(data.features.shape.map(UInt64.init))
            data.features.withUnsafeScalars { hash.add(bytesOf: $0) }
            hash.add(data.labels.map { UInt64(truncatingIfNeeded: $0) })
            hash.add((data.labelValues ?? []).map(\.bitPattern))
        } else {
            hash.add("none")
        }
        entries.append((name, hash.value))
        values.append(nil)
    }

    /// Compares every worker's digests with worker 0's through one sum of `2 × entries × workers` values (each
    /// worker fills its own slot with its digests in 32-bit halves, exact as doubles), so every worker reaches
    /// the same verdict.
    ///
    /// - Throws: `UserError` naming each entry that differs and the workers it differs on.
    func check(over reduction: any GradientReduction) throws {
        let workers = reduction.workerCount, count = entries.count
        var table = [Double](repeating: 0, count: workers * count * 2)
        for (index, entry) in entries.enumerated() {
            let base = (reduction.workerIndex * count + index) * 2
            table[base] = Double(entry.digest >> 32)
            table[base + 1] = Double(entry.digest & 0xFFFF_FFFF)
        }
        try reduction.sum(&table)
        func digest(worker: Int, entry: Int) -> UInt64 {
            let base = (worker * count + entry) * 2
            return UInt64(table[base]) << 32 | UInt64(table[base + 1])
        }
        var differences: [String] = []
        for index in 0..<count {
            let others = (1..<Swift.max(workers, 1)).filter { digest(worker: $0, entry: index) != digest(worker: 0, entry: index) }
            guard !others.isEmpty else { continue }
            let mine = values[index].map { " (here: \($0.isEmpty ? "not given" : $0))" } ?? ""
            differences.append("\(entries[index].name) differs on rank\(others.count == 1 ? "" : "s") \(others.map(String.init).joined(separator: ", ")) from rank 0\(mine)")
        }
        guard differences.isEmpty else {
            throw UserError(
                "the processes of this run disagree before training: \(differences.joined(separator: "; ")); "
                    + "every process must be given the same flags and the same data (a stale copy on one node is enough to differ)")
        }
    }
}

/// A 64-bit digest (not cryptographic): eight bytes at a time, each word multiplied in and mixed.
struct Digest {
    private(set) var value: UInt64 = 0x9E37_79B9_7F4A_7C15

    private mutating func mix(_ word: UInt64) {
        value = (value ^ word) &* 0xBF58_476D_1CE4_E5B9
        value ^= value >> 31
    }

    mutating func add(_ words: [UInt64]) {
        mix(UInt64(words.count))
        for word in words { mix(word) }
    }

    mutating func add(_ text: String) { add(bytesOf: Array(text.utf8)) }

    mutating func add<T>(bytesOf buffer: UnsafeBufferPointer<T>) {
        add(bytesOf: UnsafeRawBufferPointer(buffer))
    }

    mutating func add(bytesOf array: [UInt8]) {
        array.withUnsafeBytes { add(bytesOf: $0) }
    }

    mutating func add(bytesOf bytes: UnsafeRawBufferPointer) {
        mix(UInt64(bytes.count))
        var offset = 0
        while offset + 8 <= bytes.count {
            mix(bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        var tail: UInt64 = 0
        for k in offset..<bytes.count { tail |= UInt64(bytes[k]) << (8 * UInt64(k - offset)) }
        mix(tail)
    }
}

extension TrainOptions {
    /// What the workers of a data-parallel run must share: the examples (after the split and normalization),
    /// every flag that shapes the run, the model and optimizer settings, the epochs already completed and the
    /// parameter shapes (from the flags or the resumed checkpoint), and the launcher's own `settings`.
    func agreement(
        trainer: ClassifierTrainer<Float>, train: Dataset<Float>, test: Dataset<Float>, settings: [(name: String, value: String)]
    ) -> RunAgreement {
        var agreement = RunAgreement()
        agreement.add("the training examples (--data)", train)
        agreement.add("the test examples (--data, --test-fraction)", test)
        let flags: [(String, String)] = [
            ("--label-column", labelColumn.map(String.init) ?? ""), ("--model", model?.rawValue ?? ""),
            ("--architecture", architecture ?? ""), ("--image-shape", imageShape ?? ""), ("--layers", layers ?? ""),
            ("--activation", activation ?? ""), ("--dropout", dropout.map { "\($0)" } ?? ""), ("--epochs", epochs.map(String.init) ?? ""),
            ("--batch-size", batchSize.map(String.init) ?? ""), ("--optimizer", optimizer ?? ""), ("--lr", lr.map { "\($0)" } ?? ""),
            ("--schedule", schedule ?? ""), ("--clip-norm", clipNorm.map { "\($0)" } ?? ""),
            ("--test-fraction", testFraction.map { "\($0)" } ?? ""), ("--seed", seed.map(String.init) ?? ""),
            ("--detect-anomaly", "\(detectAnomaly)"), ("--resume (given or not)", resume == nil ? "no" : "yes"),
        ]
        for (flag, value) in flags { agreement.add(flag, value) }
        let model = trainer.configuration.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        agreement.add("the model and optimizer settings", (model + ["inputs=\(trainer.inputSize)", "classes=\(trainer.classCount)"]).joined(separator: ";"))
        agreement.add("the epochs completed (--resume)", "\(trainer.completedEpochs)")
        agreement.add("the parameter shapes", trainer.model.parameters.map { "\($0.shape)" }.joined(separator: ",")
            + " buffers " + trainer.model.buffers.map { "\($0.shape)" }.joined(separator: ","))
        for (name, value) in settings { agreement.add(name, value) }
        return agreement
    }
}

@testable import Backprop
import Testing

/// A released tape hands its emptied array of tensor records to the next tape of the same thread
/// (`RecordArrayCache`), as it hands over its node buffer.
@Suite struct RecordArrayReuseTests {
    @Test func theNextTapeAppendsToTheLastReleasedTapesRecords() {
        let x = Tensor<Double>(shape: [4], scalars: [0.1, 0.2, 0.3, 0.4])
        let g = gradient(at: x) { x in
            var v = x
            for _ in 0..<3000 { v = sin(v) }
            return v.sum()
        }
        #expect(g.shape == [4])
        let tape = Tape<Double>()
        #expect(tape.records.isEmpty)
        #expect(tape.records.capacity >= 3000, "the new tape starts from an empty array")
        // The reused array records and sweeps as a new one does.
        #expect(gradient(at: x) { sin($0).sum() } == withoutRecording { cos(x) })
    }
}

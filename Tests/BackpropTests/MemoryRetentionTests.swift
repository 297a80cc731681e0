import Backprop
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `retainReleasedMemory(upTo:)` takes effect on glibc and leaves tensor arithmetic unchanged.
@Suite struct MemoryRetentionTests {
    @Test func retainingFreedMemoryKeepsResultsCorrect() {
        let applied = retainReleasedMemory(upTo: 64 << 20)
        #if canImport(Glibc)
        #expect(applied)
        #endif
        #expect(!retainReleasedMemory(upTo: 0))
        let a = Tensor<Double>.randomNormal(shape: [300, 300], seed: 7)
        for _ in 0..<3 {
            let s = (a + a).sum().scalar
            #expect(Swift.abs(s - 2 * a.sum().scalar) <= 1e-9)
        }
    }
}

import Backprop
import Testing

/// Loading the library leaves the allocator alone; freed tensor memory is reused when a program asks, the
/// bound can be changed and the memory released, and none of it changes what tensors compute.
@Suite(.serialized) struct MemoryRetentionTests {
    @Test func retentionIsOffUntilAskedForAndCanBeBoundedOrReleased() {
        // Nothing in the test runner asks for retention (the command-line tools do, at start). Where the C
        // library takes the settings: glibc's allocator does; a sanitizer's replacement allocator (swift test
        // --sanitize=address) and other C libraries do not, and then retention stays off.
        let initial = TensorMemory.retainedLimit
        if TensorMemory.retainFreedMemory(upTo: 64 << 20) {
            #expect(initial == 0)
            #expect(TensorMemory.retainedLimit == 64 << 20)
            #expect(!TensorMemory.retainFreedMemory(upTo: 0))
            #expect(TensorMemory.retainedLimit == 0)
            #expect(TensorMemory.retainFreedMemory(upTo: 512 << 20))
        } else {
            #expect(initial == 0 && TensorMemory.retainedLimit == 0)
        }
        let a = Tensor<Double>.randomNormal(shape: [300, 300], seed: 7)
        for _ in 0..<3 {
            let s = (a + a).sum().scalar
            #expect(Swift.abs(s - 2 * a.sum().scalar) <= 1e-9)
        }
        _ = TensorMemory.releaseFreedMemory()
        #expect((a * 2).sum().scalar == 2 * a.sum().scalar)
    }
}

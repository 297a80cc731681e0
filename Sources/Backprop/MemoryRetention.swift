// An opt-in allocator setting for training loops, over the C kernels' bp_retain_freed_memory.
import CBackpropKernels

/// Keeps up to `bytes` of freed memory inside the process for later tensors, instead of handing it back
/// to the operating system. Returns whether the setting took effect.
///
/// A training step allocates and frees the same large arrays (activations, gradients) every time. With
/// glibc's default, adaptive settings, arrays of a few hundred kB and more are returned to the operating
/// system when freed and come back as fresh pages on the next step, so every step pays a page fault per
/// 4 kB (30-45% of the time of `backprop bench mlp-step`, a 784-512-512-10 MLP, on the project's 2-core
/// benchmark machines). After this call, blocks up to 32 MB are served from the heap and up to `bytes` of
/// free heap is kept.
///
/// The setting is process-wide and lasts for the life of the process: the process's resident size stays
/// at its high-water mark (up to `bytes` more than it uses). On C libraries other than glibc it does
/// nothing and returns false.
@discardableResult
public func retainReleasedMemory(upTo bytes: Int = 512 << 20) -> Bool {
    bp_retain_freed_memory(bytes) != 0
}

// How much freed tensor memory the process keeps for reuse, over the C kernels' allocator settings.
import CBackpropKernels

/// The process's reuse of freed tensor memory.
///
/// A training step allocates and frees the same large arrays (activations, gradients) every time. With
/// glibc's default, adaptive settings, arrays of a few hundred kB and more go back to the operating system
/// when freed and come back as fresh pages on the next step, so every step pays a page fault per 4 kB
/// (30-45% of `backprop-bench mlp-step` on the project's machines). A program that trains should therefore
/// ask, once at start, for freed blocks up to 32 MB to be served again from the heap and for some free heap
/// to be kept (PyTorch's caching allocator makes the same trade):
///
/// ```swift
/// TensorMemory.retainFreedMemory(upTo: BackpropSettings.current.retainedMemory)  // 512 MB unless set
/// ```
///
/// The library never changes the allocator by itself (loading it changes nothing): the command-line tools
/// (`backprop`, `backprop-bench`, `backprop-mpi`) make that call at start, with the bound from the
/// environment variable `BACKPROP_RETAINED_MEMORY` (bytes; 0 keeps the C library's behaviour).
/// `releaseFreedMemory()` gives the kept memory back.
///
/// The settings are process-wide. On C libraries other than glibc they do nothing.
public enum TensorMemory {
    /// The most freed memory the process keeps for reuse, in bytes (0: freed memory is given back).
    public static var retainedLimit: Int { Int(bp_retained_memory_limit()) }

    /// Keeps up to `bytes` of freed memory for later tensors; 0 gives freed memory back as the C library
    /// normally does. Returns whether retention is on afterwards.
    @discardableResult
    public static func retainFreedMemory(upTo bytes: Int) -> Bool {
        bp_retain_freed_memory(bytes) != 0
    }

    /// Returns the free memory the process holds to the operating system now (for example after a large
    /// job, before a long idle period). Returns whether any was returned.
    @discardableResult
    public static func releaseFreedMemory() -> Bool {
        bp_release_free_memory() != 0
    }
}

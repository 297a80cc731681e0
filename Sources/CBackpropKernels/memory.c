// Allocator settings for tensor memory: keep freed blocks for later tensors instead of returning them to
// the operating system (glibc only; elsewhere the system allocator's defaults stay).
#include "CBackpropKernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

/// The bound last applied by bp_retain_freed_memory (0 when freed memory is given back as usual).
static long bp_retained_limit = 0;

int bp_retain_freed_memory(long bytes) {
#if defined(__GLIBC__)
    if (bytes <= 0) {
        // glibc's own thresholds (128 kB); setting them fixes them instead of letting glibc adapt them,
        // which is as close to "as if never changed" as mallopt allows.
        int ok = mallopt(M_MMAP_THRESHOLD, 128 * 1024) && mallopt(M_TRIM_THRESHOLD, 128 * 1024)
            && mallopt(M_MMAP_MAX, 65536);
        if (ok) bp_retained_limit = 0;
        return 0;
    }
    // glibc serves blocks above M_MMAP_THRESHOLD with mmap (fresh zeroed pages on every allocation) and
    // hands the top of the heap back once more than M_TRIM_THRESHOLD is free. A step that frees a few MB
    // of gradients then pays page faults for all of them on the next step. Raise both: blocks up to
    // 32 MB (glibc's largest allowed threshold) come from the heap, and up to `bytes` of free heap is kept.
    long mmapThreshold = 32L * 1024 * 1024;
    // glibc's threshold cannot exceed 32 MB, so tensors of 50 MB and more still got fresh mmap pages on every
    // allocation: M_MMAP_MAX 0 stops mmap for large blocks, and every block comes from the heap.
    int ok = mallopt(M_MMAP_THRESHOLD, (int)mmapThreshold) && mallopt(M_MMAP_MAX, 0);
    int trim = bytes > 0x7fffffffL ? 0x7fffffff : (int)bytes;
    ok = mallopt(M_TRIM_THRESHOLD, trim) && ok;
    if (ok) bp_retained_limit = bytes;
    return ok ? 1 : 0;
#else
    (void)bytes;
    return 0;
#endif
}

long bp_retained_memory_limit(void) { return bp_retained_limit; }

int bp_release_free_memory(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}

// Allocator tuning for training loops: keeps freed memory in the process instead of returning it to the
// operating system after every step (glibc only; elsewhere a no-op that reports it did nothing).
#include "CBackpropKernels.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int bp_retain_freed_memory(long bytes) {
#if defined(__GLIBC__)
    if (bytes <= 0) return 0;
    // glibc serves blocks above M_MMAP_THRESHOLD with mmap (fresh zeroed pages on every allocation) and
    // hands the top of the heap back once more than M_TRIM_THRESHOLD is free. A step that frees a few MB
    // of gradients then pays page faults for all of them on the next step. Raise both: blocks up to
    // 32 MB (glibc's largest allowed threshold) come from the heap, and up to `bytes` of free heap is kept.
    long mmapThreshold = 32L * 1024 * 1024;
    int ok = mallopt(M_MMAP_THRESHOLD, (int)mmapThreshold);
    int trim = bytes > 0x7fffffffL ? 0x7fffffff : (int)bytes;
    ok = mallopt(M_TRIM_THRESHOLD, trim) && ok;
    return ok ? 1 : 0;
#else
    (void)bytes;
    return 0;
#endif
}

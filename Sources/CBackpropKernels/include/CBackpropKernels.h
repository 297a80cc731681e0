#ifndef CBACKPROP_KERNELS_H
#define CBACKPROP_KERNELS_H
/// Returns 1 when the CPU supports AVX2 and FMA (x86-64), else 0.
int bp_cpu_has_avx2_fma(void);

#include <stdatomic.h>

/// How many `withoutRecording` scopes are open on any thread. While it is zero, no thread has switched
/// recording off, and operations can skip reading their thread's state.
extern _Atomic long bp_recording_disabled_scopes;

/// Reads the count of open `withoutRecording` scopes (relaxed: a plain load).
static inline long bp_recording_disabled_scope_count(void) {
    return atomic_load_explicit(&bp_recording_disabled_scopes, memory_order_relaxed);
}

/// Adds `delta` to the count of open `withoutRecording` scopes.
static inline void bp_recording_disabled_scopes_add(long delta) {
    atomic_fetch_add_explicit(&bp_recording_disabled_scopes, delta, memory_order_relaxed);
}
#endif

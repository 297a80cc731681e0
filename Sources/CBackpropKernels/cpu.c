#include "CBackpropKernels.h"
#include "internal.h"
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

int bp_cpu_has_avx2_fma(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int bp_cpu_has_avx512(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return bp_cpu_has_avx2_fma() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
#else
    return 0;
#endif
}

/// Cached answer of bp_cpu_splits_512bit_vectors: -1 until first asked (CPUID traps to the hypervisor on
/// a virtual machine, too slow to ask on every product).
static int splits_512bit_cache = -1;

int bp_cpu_splits_512bit_vectors(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    int cached = __atomic_load_n(&splits_512bit_cache, __ATOMIC_RELAXED);
    if (cached >= 0) return cached;
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    int splits = 0;
    if (bp_cpu_has_avx512() && __get_cpuid(0, &eax, &ebx, &ecx, &edx) &&
        ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163 && // "AuthenticAMD"
        __get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
        unsigned family = (eax >> 8) & 0xf;
        if (family == 0xf) family += (eax >> 20) & 0xff;
        // Family 19h is Zen 3 (no AVX-512) and Zen 4, whose AVX-512 is split; Zen 5 (1Ah) has full-width units.
        splits = family == 0x19;
    }
    __atomic_store_n(&splits_512bit_cache, splits, __ATOMIC_RELAXED);
    return splits;
#else
    return 0;
#endif
}

int bp_cpu_has_vector_kernels(void) {
#if defined(__aarch64__) && defined(__ARM_NEON)
    return 1;
#else
    return bp_cpu_has_avx2_fma();
#endif
}

_Atomic long bp_recording_disabled_scopes = 0;

/// The best path the process allows: 2 (AVX-512), 1 (AVX2+FMA or NEON) or 0 (portable). Set by the Swift
/// library from its settings (BACKPROP_DISABLE_AVX2 / BACKPROP_DISABLE_AVX512) through
/// bp_kernels_limit_path; every path the CPU has until then.
static int path_limit = 2;

/// Cached decision: -1 until first asked, then 0 or 1. Racing first calls compute the same value,
/// and the atomic access keeps the race defined.
static int use_avx2_cache = -1;

/// Cached AVX-512 decision, as `use_avx2_cache`.
static int use_avx512_cache = -1;

/// This thread's override of the decision (tests): -1 for none, else 0 (portable), 1 (AVX2+FMA, or NEON)
/// or 2 (AVX-512 where it exists).
static _Thread_local int thread_override = -1;

int bp_kernels_use_avx2(void) {
    if (thread_override >= 0) return thread_override != 0;
    int cached = __atomic_load_n(&use_avx2_cache, __ATOMIC_RELAXED);
    if (cached < 0) {
        cached = bp_cpu_has_vector_kernels() && __atomic_load_n(&path_limit, __ATOMIC_RELAXED) >= 1;
        __atomic_store_n(&use_avx2_cache, cached, __ATOMIC_RELAXED);
    }
    return cached;
}

int bp_kernels_use_avx512(void) {
    if (thread_override >= 0) return thread_override == 2;
    int cached = __atomic_load_n(&use_avx512_cache, __ATOMIC_RELAXED);
    if (cached < 0) {
        cached = bp_kernels_use_avx2() && bp_cpu_has_avx512() && __atomic_load_n(&path_limit, __ATOMIC_RELAXED) >= 2;
        __atomic_store_n(&use_avx512_cache, cached, __ATOMIC_RELAXED);
    }
    return cached;
}

void bp_kernels_limit_path(int limit) {
    __atomic_store_n(&path_limit, limit < 0 ? 0 : limit, __ATOMIC_RELAXED);
    // Decided again on the next call, under the new limit.
    __atomic_store_n(&use_avx2_cache, -1, __ATOMIC_RELAXED);
    __atomic_store_n(&use_avx512_cache, -1, __ATOMIC_RELAXED);
}

void bp_kernels_set_use_avx2(int enabled) {
    if (enabled < 0) thread_override = -1;
    else if (enabled >= 2 && bp_cpu_has_avx512()) thread_override = 2;
    else thread_override = enabled != 0 && bp_cpu_has_vector_kernels();
}

int bp_kernels_avx2_override(void) { return thread_override; }

int bp_kernels_use_wide_avx512_arithmetic(void) {
    return bp_kernels_use_avx512() && (!bp_cpu_splits_512bit_vectors() || thread_override == 2);
}

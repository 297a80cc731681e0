#ifndef CBACKPROP_KERNELS_INTERNAL_H
#define CBACKPROP_KERNELS_INTERNAL_H
// Declarations shared by the kernel files; not part of the public header.
#include <stddef.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/// Defined when the AVX2+FMA versions are compiled in (x86-64 with a GCC-compatible compiler).
#define BP_HAVE_AVX2 1
/// Marks a function to be compiled for AVX2+FMA; it may only run after `bp_kernels_use_avx2()` said yes.
#define BP_AVX2_FMA __attribute__((target("avx2,fma")))
/// Marks a function to be compiled for AVX-512 (F, VL, DQ, BW) with FMA; it may only run after
/// `bp_kernels_use_avx512()` said yes.
#define BP_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))

/// Whether a kernel whose AVX-512 version pays only through wider arithmetic (the double GEMM, the tile
/// interpreter) takes it: on the AVX-512 path, unless the CPU runs 512-bit operations as two halves (Zen 4,
/// `bp_cpu_splits_512bit_vectors`), where their AVX2 versions measured faster (docs/performance.md, "AVX-512 on
/// a Zen 4"), and the calling thread did not pin the AVX-512 path by name (tests: bp_kernels_set_use_avx2(2)).
int bp_kernels_use_wide_avx512_arithmetic(void);

/// Single-precision product of few rows (M < 12) with AVX-512, B read in place (see sgemm_narrow.c), with
/// the `bp_sgemm` parameter list. Returns 0, having done nothing, when it could not get its scratch memory.
int bp_sgemm_narrow_avx512(int transA, int transB, long M, long N, long K, float alpha, const float *A, long lda,
                           const float *B, long ldb, float beta, float *C, long ldc);

/// The same for few columns (N < 12): computes Cᵀ = op(B)ᵀ·op(A)ᵀ by the narrow loops and transposes it in.
int bp_sgemm_narrow_transposed_avx512(int transA, int transB, long M, long N, long K, float alpha, const float *A,
                                      long lda, const float *B, long ldb, float beta, float *C, long ldc);

/// The AVX2 versions of the two above (sgemm_narrow_avx2.c).
int bp_sgemm_narrow_avx2(int transA, int transB, long M, long N, long K, float alpha, const float *A, long lda,
                         const float *B, long ldb, float beta, float *C, long ldc);
int bp_sgemm_narrow_transposed_avx2(int transA, int transB, long M, long N, long K, float alpha, const float *A,
                                    long lda, const float *B, long ldb, float beta, float *C, long ldc);
#endif

/// The M rows of op(A) (M×K) for the narrow loops: A itself when it is stored M×K, else a copy in the calling
/// thread's workspace; sets `rowStride`. NULL when no workspace memory is free.
const float *bp_sgemm_narrow_rows(int transA, long M, long K, const float *A, long lda, long *rowStride);

/// A single-precision product with the `bp_sgemm` parameter list that returns whether it computed C.
typedef int (*bp_sgemm_function)(int transA, int transB, long M, long N, long K, float alpha, const float *A, long lda,
                                 const float *B, long ldb, float beta, float *C, long ldc);

/// Computes C = alpha·op(A)·op(B) + beta·C as the transpose of `narrow`'s product op(B)ᵀ·op(A)ᵀ (for few
/// columns N, which are few rows there); returns 0, having done nothing, when `narrow` declines or no scratch
/// memory is free.
int bp_sgemm_through_transpose(bp_sgemm_function narrow, int transA, int transB, long M, long N, long K, float alpha,
                               const float *A, long lda, const float *B, long ldb, float beta, float *C, long ldc);

#if defined(__aarch64__) && defined(__ARM_NEON)
/// Defined when the NEON versions are compiled in (arm64, where NEON is part of the base architecture).
#define BP_HAVE_NEON 1
#endif

/// A 64-byte-aligned scratch buffer of at least `bytes` bytes owned by the calling thread, reused by later
/// calls on the same thread (so the contents do not survive the next call) and freed when the thread exits.
/// Returns NULL if the allocation fails.
void *bp_thread_workspace(size_t bytes);

#endif

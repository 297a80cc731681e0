// Single-precision GEMM: a 6×16 AVX2+FMA micro-kernel (12 ymm accumulators) and a portable 4×8 one,
// each wrapped by the blocked driver in gemm_template.h; `bp_sgemm` picks one at run time.
#include "CBackpropKernels.h"
#include "internal.h"

// MARK: Portable

/// Portable 4×8 micro-kernel: c = alpha·(a·b) + beta·c from packed panels (see gemm_template.h).
static void sgemm_kernel_portable(long kc, const float *a, const float *b, float *c, long ldc, float alpha,
                                  float beta) {
    float acc[4][8] = {{0}};
    for (long p = 0; p < kc; p++) {
        for (int i = 0; i < 4; i++) {
            float x = a[p * 4 + i];
            for (int j = 0; j < 8; j++) acc[i][j] += x * b[p * 8 + j];
        }
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++)
            c[i * ldc + j] = beta == 0 ? alpha * acc[i][j] : alpha * acc[i][j] + beta * c[i * ldc + j];
}

#define GEMM_T float
#define GEMM_MR 4
#define GEMM_NR 8
#define GEMM_MC 128
#define GEMM_KC 256
#define GEMM_NC 2048
#define GEMM_KERNEL sgemm_kernel_portable
#define GEMM_ATTR
#define GEMM_FN(name) sgemm_portable_##name
#include "gemm_template.h"
#undef GEMM_T
#undef GEMM_MR
#undef GEMM_NR
#undef GEMM_MC
#undef GEMM_KC
#undef GEMM_NC
#undef GEMM_KERNEL
#undef GEMM_ATTR
#undef GEMM_FN

// MARK: AVX2 + FMA

#if defined(BP_HAVE_AVX2)
#include <immintrin.h>

/// Stores one 8-wide accumulator into C: c = alpha·acc + beta·c, not reading c when beta == 0.
BP_AVX2_FMA static inline void sgemm_store8(float *c, __m256 acc, __m256 alpha, __m256 beta, int readC) {
    __m256 scaled = _mm256_mul_ps(acc, alpha);
    if (readC) scaled = _mm256_fmadd_ps(beta, _mm256_loadu_ps(c), scaled);
    _mm256_storeu_ps(c, scaled);
}

/// 6×16 micro-kernel: each step broadcasts 6 values of A and loads 16 of B, 12 FMAs into 12 accumulators.
BP_AVX2_FMA static void sgemm_kernel_avx2(long kc, const float *a, const float *b, float *c, long ldc,
                                          float alpha, float beta) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int i = 0; i < 6; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
    for (long p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(b);
        __m256 b1 = _mm256_load_ps(b + 8);
        _mm_prefetch((const char *)(a + 48), _MM_HINT_T0);
        __m256 x = _mm256_broadcast_ss(a + 0);
        c00 = _mm256_fmadd_ps(x, b0, c00);
        c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(x, b0, c10);
        c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(x, b0, c20);
        c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(x, b0, c30);
        c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(x, b0, c40);
        c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(x, b0, c50);
        c51 = _mm256_fmadd_ps(x, b1, c51);
        a += 6;
        b += 16;
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    int readC = beta != 0;
    sgemm_store8(c + 0 * ldc, c00, va, vb, readC);
    sgemm_store8(c + 0 * ldc + 8, c01, va, vb, readC);
    sgemm_store8(c + 1 * ldc, c10, va, vb, readC);
    sgemm_store8(c + 1 * ldc + 8, c11, va, vb, readC);
    sgemm_store8(c + 2 * ldc, c20, va, vb, readC);
    sgemm_store8(c + 2 * ldc + 8, c21, va, vb, readC);
    sgemm_store8(c + 3 * ldc, c30, va, vb, readC);
    sgemm_store8(c + 3 * ldc + 8, c31, va, vb, readC);
    sgemm_store8(c + 4 * ldc, c40, va, vb, readC);
    sgemm_store8(c + 4 * ldc + 8, c41, va, vb, readC);
    sgemm_store8(c + 5 * ldc, c50, va, vb, readC);
    sgemm_store8(c + 5 * ldc + 8, c51, va, vb, readC);
}

#define GEMM_T float
#define GEMM_MR 6
#define GEMM_NR 16
#define GEMM_MC 144
#define GEMM_KC 256
#define GEMM_NC 4080
#define GEMM_KERNEL sgemm_kernel_avx2
#define GEMM_ATTR BP_AVX2_FMA
#define GEMM_FN(name) sgemm_avx2_##name
#include "gemm_template.h"
#undef GEMM_T
#undef GEMM_MR
#undef GEMM_NR
#undef GEMM_MC
#undef GEMM_KC
#undef GEMM_NC
#undef GEMM_KERNEL
#undef GEMM_ATTR
#undef GEMM_FN
#endif

void bp_sgemm(int transA, int transB, long M, long N, long K, float alpha, const float *A, long lda,
              const float *B, long ldb, float beta, float *C, long ldc) {
#if defined(BP_HAVE_AVX2)
    if (bp_kernels_use_avx2()) {
        sgemm_avx2_gemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#endif
    sgemm_portable_gemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

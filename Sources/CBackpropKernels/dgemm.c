// Double-precision GEMM: a 12×16 AVX-512 micro-kernel (24 zmm accumulators), a 6×8 AVX2+FMA one (12 ymm
// accumulators) and a portable 4×4 one, each wrapped by the blocked driver in gemm_template.h; `bp_dgemm`
// picks one at run time.
#include "CBackpropKernels.h"
#include "internal.h"

// MARK: Portable

/// Portable 4×4 micro-kernel: c = alpha·(a·b) + beta·c from packed panels (see gemm_template.h).
static void dgemm_kernel_portable(long kc, const double *a, const double *b, double *c, long ldc, double alpha,
                                  double beta) {
    double acc[4][4] = {{0}};
    for (long p = 0; p < kc; p++) {
        for (int i = 0; i < 4; i++) {
            double x = a[p * 4 + i];
            for (int j = 0; j < 4; j++) acc[i][j] += x * b[p * 4 + j];
        }
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            c[i * ldc + j] = beta == 0 ? alpha * acc[i][j] : alpha * acc[i][j] + beta * c[i * ldc + j];
}

#define GEMM_T double
#define GEMM_MR 4
#define GEMM_NR 4
#define GEMM_MC 96
#define GEMM_KC 256
#define GEMM_NC 2048
#define GEMM_KERNEL dgemm_kernel_portable
#define GEMM_ATTR
#define GEMM_FN(name) dgemm_portable_##name
#include "gemm_template.h"

// MARK: AVX2 + FMA

#if defined(BP_HAVE_AVX2)
#include <immintrin.h>

/// Stores one 4-wide accumulator into C: c = alpha·acc + beta·c, not reading c when beta == 0.
BP_AVX2_FMA static inline void dgemm_store4(double *c, __m256d acc, __m256d alpha, __m256d beta, int readC) {
    __m256d scaled = _mm256_mul_pd(acc, alpha);
    if (readC) scaled = _mm256_fmadd_pd(beta, _mm256_loadu_pd(c), scaled);
    _mm256_storeu_pd(c, scaled);
}

/// 6×8 micro-kernel: each step broadcasts 6 values of A and loads 8 of B, 12 FMAs into 12 accumulators.
BP_AVX2_FMA static void dgemm_kernel_avx2(long kc, const double *a, const double *b, double *c, long ldc,
                                          double alpha, double beta) {
    __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd();
    __m256d c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
    __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
    __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
    __m256d c40 = _mm256_setzero_pd(), c41 = _mm256_setzero_pd();
    __m256d c50 = _mm256_setzero_pd(), c51 = _mm256_setzero_pd();
    for (int i = 0; i < 6; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
    for (long p = 0; p < kc; p++) {
        __m256d b0 = _mm256_load_pd(b);
        __m256d b1 = _mm256_load_pd(b + 4);
        _mm_prefetch((const char *)(a + 48), _MM_HINT_T0);
        __m256d x = _mm256_broadcast_sd(a + 0);
        c00 = _mm256_fmadd_pd(x, b0, c00);
        c01 = _mm256_fmadd_pd(x, b1, c01);
        x = _mm256_broadcast_sd(a + 1);
        c10 = _mm256_fmadd_pd(x, b0, c10);
        c11 = _mm256_fmadd_pd(x, b1, c11);
        x = _mm256_broadcast_sd(a + 2);
        c20 = _mm256_fmadd_pd(x, b0, c20);
        c21 = _mm256_fmadd_pd(x, b1, c21);
        x = _mm256_broadcast_sd(a + 3);
        c30 = _mm256_fmadd_pd(x, b0, c30);
        c31 = _mm256_fmadd_pd(x, b1, c31);
        x = _mm256_broadcast_sd(a + 4);
        c40 = _mm256_fmadd_pd(x, b0, c40);
        c41 = _mm256_fmadd_pd(x, b1, c41);
        x = _mm256_broadcast_sd(a + 5);
        c50 = _mm256_fmadd_pd(x, b0, c50);
        c51 = _mm256_fmadd_pd(x, b1, c51);
        a += 6;
        b += 8;
    }
    __m256d va = _mm256_set1_pd(alpha), vb = _mm256_set1_pd(beta);
    int readC = beta != 0;
    dgemm_store4(c + 0 * ldc, c00, va, vb, readC);
    dgemm_store4(c + 0 * ldc + 4, c01, va, vb, readC);
    dgemm_store4(c + 1 * ldc, c10, va, vb, readC);
    dgemm_store4(c + 1 * ldc + 4, c11, va, vb, readC);
    dgemm_store4(c + 2 * ldc, c20, va, vb, readC);
    dgemm_store4(c + 2 * ldc + 4, c21, va, vb, readC);
    dgemm_store4(c + 3 * ldc, c30, va, vb, readC);
    dgemm_store4(c + 3 * ldc + 4, c31, va, vb, readC);
    dgemm_store4(c + 4 * ldc, c40, va, vb, readC);
    dgemm_store4(c + 4 * ldc + 4, c41, va, vb, readC);
    dgemm_store4(c + 5 * ldc, c50, va, vb, readC);
    dgemm_store4(c + 5 * ldc + 4, c51, va, vb, readC);
}

#define GEMM_T double
#define GEMM_MR 6
#define GEMM_NR 8
#define GEMM_MC 72
#define GEMM_KC 256
#define GEMM_NC 4080
#define GEMM_KERNEL dgemm_kernel_avx2
#define GEMM_ATTR BP_AVX2_FMA
#define GEMM_FN(name) dgemm_avx2_##name
#include "gemm_template.h"

// MARK: AVX-512

/// Stores one 8-wide accumulator into C: c = alpha·acc + beta·c, not reading c when beta == 0.
BP_AVX512 static inline void dgemm_store8(double *c, __m512d acc, __m512d alpha, __m512d beta, int readC) {
    __m512d scaled = _mm512_mul_pd(acc, alpha);
    if (readC) scaled = _mm512_fmadd_pd(beta, _mm512_loadu_pd(c), scaled);
    _mm512_storeu_pd(c, scaled);
}

/// One row of the 12×16 tile: broadcast A's value for row `i` and accumulate it times both B vectors.
#define DGEMM512_ROW(i, acc0, acc1)                          \
    x = _mm512_set1_pd(a[i]);                                \
    acc0 = _mm512_fmadd_pd(x, b0, acc0);                     \
    acc1 = _mm512_fmadd_pd(x, b1, acc1);

/// 12×16 micro-kernel: each step broadcasts 12 values of A and loads 16 of B, 24 FMAs into 24 of the 32
/// zmm registers.
BP_AVX512 static void dgemm_kernel_avx512(long kc, const double *a, const double *b, double *c, long ldc,
                                          double alpha, double beta) {
    __m512d acc[24];
    __m512d c00 = _mm512_setzero_pd(), c01 = _mm512_setzero_pd(), c10 = _mm512_setzero_pd(), c11 = _mm512_setzero_pd();
    __m512d c20 = _mm512_setzero_pd(), c21 = _mm512_setzero_pd(), c30 = _mm512_setzero_pd(), c31 = _mm512_setzero_pd();
    __m512d c40 = _mm512_setzero_pd(), c41 = _mm512_setzero_pd(), c50 = _mm512_setzero_pd(), c51 = _mm512_setzero_pd();
    __m512d c60 = _mm512_setzero_pd(), c61 = _mm512_setzero_pd(), c70 = _mm512_setzero_pd(), c71 = _mm512_setzero_pd();
    __m512d c80 = _mm512_setzero_pd(), c81 = _mm512_setzero_pd(), c90 = _mm512_setzero_pd(), c91 = _mm512_setzero_pd();
    __m512d cA0 = _mm512_setzero_pd(), cA1 = _mm512_setzero_pd(), cB0 = _mm512_setzero_pd(), cB1 = _mm512_setzero_pd();
    for (int i = 0; i < 12; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 8), _MM_HINT_T0);
    }
    for (long p = 0; p < kc; p++) {
        __m512d b0 = _mm512_load_pd(b);
        __m512d b1 = _mm512_load_pd(b + 8);
        _mm_prefetch((const char *)(a + 48), _MM_HINT_T0);
        __m512d x;
        DGEMM512_ROW(0, c00, c01) DGEMM512_ROW(1, c10, c11) DGEMM512_ROW(2, c20, c21)
        DGEMM512_ROW(3, c30, c31) DGEMM512_ROW(4, c40, c41) DGEMM512_ROW(5, c50, c51)
        DGEMM512_ROW(6, c60, c61) DGEMM512_ROW(7, c70, c71) DGEMM512_ROW(8, c80, c81)
        DGEMM512_ROW(9, c90, c91) DGEMM512_ROW(10, cA0, cA1) DGEMM512_ROW(11, cB0, cB1)
        a += 12;
        b += 16;
    }
    acc[0] = c00; acc[1] = c01; acc[2] = c10; acc[3] = c11; acc[4] = c20; acc[5] = c21;
    acc[6] = c30; acc[7] = c31; acc[8] = c40; acc[9] = c41; acc[10] = c50; acc[11] = c51;
    acc[12] = c60; acc[13] = c61; acc[14] = c70; acc[15] = c71; acc[16] = c80; acc[17] = c81;
    acc[18] = c90; acc[19] = c91; acc[20] = cA0; acc[21] = cA1; acc[22] = cB0; acc[23] = cB1;
    __m512d va = _mm512_set1_pd(alpha), vb = _mm512_set1_pd(beta);
    int readC = beta != 0;
    for (int i = 0; i < 12; i++) {
        dgemm_store8(c + i * ldc, acc[2 * i], va, vb, readC);
        dgemm_store8(c + i * ldc + 8, acc[2 * i + 1], va, vb, readC);
    }
}
#undef DGEMM512_ROW

#define GEMM_T double
#define GEMM_MR 12
#define GEMM_NR 16
#define GEMM_MC 96
#define GEMM_KC 256
#define GEMM_NC 4096
#define GEMM_KERNEL dgemm_kernel_avx512
#define GEMM_ATTR BP_AVX512
#define GEMM_FN(name) dgemm_avx512_##name
#include "gemm_template.h"
#endif

void bp_dgemm(int transA, int transB, long M, long N, long K, double alpha, const double *A, long lda,
              const double *B, long ldb, double beta, double *C, long ldc) {
#if defined(BP_HAVE_AVX2)
    // A product at most 8 columns wide would fill only half of the AVX-512 tile's 16 columns; where 512-bit
    // operations run as two halves (Zen 4) the AVX2 kernel is faster at every size measured.
    if (N > 8 && bp_kernels_use_wide_avx512_arithmetic()) {
        dgemm_avx512_gemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (bp_kernels_use_avx2()) {
        dgemm_avx2_gemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#endif
    dgemm_portable_gemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

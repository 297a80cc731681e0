// Single-precision GEMM: a 12×32 AVX-512 micro-kernel (24 zmm accumulators) and a 6×16 AVX2+FMA one
// (12 ymm accumulators) on x86-64, an 8×8 NEON one
// (16 q-register accumulators) on arm64, and a portable 4×8 one, each wrapped by the blocked driver in gemm_template.h; `bp_sgemm` picks one at run time.
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

// MARK: AVX2 + FMA

#if defined(BP_HAVE_AVX2)
#include <immintrin.h>
#include "simd_transpose.h"

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

/// Packs one full 6-row micro-panel of a non-transposed A: packed[p·6 + i] = src[i·lda + p] for p < kc,
/// eight columns at a time through an 8×8 transpose (rows 6 and 7 zero), the rest one by one.
BP_AVX2_FMA static void sgemm_pack_a6_avx2(long kc, const float *src, long lda, float *packed) {
    long p = 0;
    for (; p + 8 <= kc; p += 8) {
        // Rows 0-5 and two zero rows through the 8×8 transpose: column c becomes (r0[c], ..., r5[c], 0, 0).
        __m256 t[8];
        for (int i = 0; i < 6; i++) t[i] = _mm256_loadu_ps(src + i * lda + p);
        t[6] = t[7] = _mm256_setzero_ps();
        bp_transpose8x8_ps(t);
        float *out = packed + p * 6;
        for (int c = 0; c < 8; c++) {
            _mm_storeu_ps(out + 6 * c, _mm256_castps256_ps128(t[c]));
            _mm_storel_pi((__m64 *)(out + 6 * c + 4), _mm256_extractf128_ps(t[c], 1));
        }
    }
    for (; p < kc; p++)
        for (int i = 0; i < 6; i++) packed[p * 6 + i] = src[i * lda + p];
}
#define GEMM_PACK_A_ROWS sgemm_pack_a6_avx2

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
#endif

// MARK: AVX-512

#if defined(BP_HAVE_AVX2)
/// Stores one 16-wide accumulator into C: c = alpha·acc + beta·c, not reading c when beta == 0.
BP_AVX512 static inline void sgemm_store16(float *c, __m512 acc, __m512 alpha, __m512 beta, int readC) {
    __m512 scaled = _mm512_mul_ps(acc, alpha);
    if (readC) scaled = _mm512_fmadd_ps(beta, _mm512_loadu_ps(c), scaled);
    _mm512_storeu_ps(c, scaled);
}

/// One row of the 12×32 tile: broadcast A's value for row `i` and accumulate it times both B vectors.
#define SGEMM512_ROW(i)                                      \
    x = _mm512_set1_ps(a[i]);                                \
    c##i##0 = _mm512_fmadd_ps(x, b0, c##i##0);               \
    c##i##1 = _mm512_fmadd_ps(x, b1, c##i##1);

/// 12×32 micro-kernel: each step broadcasts 12 values of A and loads 32 of B, 24 FMAs into 24 of the 32
/// zmm registers.
BP_AVX512 static void sgemm_kernel_avx512(long kc, const float *a, const float *b, float *c, long ldc,
                                          float alpha, float beta) {
    __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
    __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
    __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
    __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
    __m512 c80 = _mm512_setzero_ps(), c81 = _mm512_setzero_ps(), c90 = _mm512_setzero_ps(), c91 = _mm512_setzero_ps();
    __m512 cA0 = _mm512_setzero_ps(), cA1 = _mm512_setzero_ps(), cB0 = _mm512_setzero_ps(), cB1 = _mm512_setzero_ps();
    for (int i = 0; i < 12; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T0);
    }
    for (long p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(b);
        __m512 b1 = _mm512_load_ps(b + 16);
        _mm_prefetch((const char *)(a + 96), _MM_HINT_T0);
        __m512 x;
        SGEMM512_ROW(0) SGEMM512_ROW(1) SGEMM512_ROW(2) SGEMM512_ROW(3)
        SGEMM512_ROW(4) SGEMM512_ROW(5) SGEMM512_ROW(6) SGEMM512_ROW(7)
        SGEMM512_ROW(8) SGEMM512_ROW(9)
        x = _mm512_set1_ps(a[10]); cA0 = _mm512_fmadd_ps(x, b0, cA0); cA1 = _mm512_fmadd_ps(x, b1, cA1);
        x = _mm512_set1_ps(a[11]); cB0 = _mm512_fmadd_ps(x, b0, cB0); cB1 = _mm512_fmadd_ps(x, b1, cB1);
        a += 12;
        b += 32;
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    int readC = beta != 0;
#define SGEMM512_STORE(i, acc0, acc1)                                 \
    sgemm_store16(c + (i) * ldc, acc0, va, vb, readC);               \
    sgemm_store16(c + (i) * ldc + 16, acc1, va, vb, readC);
    SGEMM512_STORE(0, c00, c01) SGEMM512_STORE(1, c10, c11) SGEMM512_STORE(2, c20, c21)
    SGEMM512_STORE(3, c30, c31) SGEMM512_STORE(4, c40, c41) SGEMM512_STORE(5, c50, c51)
    SGEMM512_STORE(6, c60, c61) SGEMM512_STORE(7, c70, c71) SGEMM512_STORE(8, c80, c81)
    SGEMM512_STORE(9, c90, c91) SGEMM512_STORE(10, cA0, cA1) SGEMM512_STORE(11, cB0, cB1)
#undef SGEMM512_STORE
}

/// The first 8 rows of the 12×32 tile, for a bottom edge of at most 8 rows (a product of 128 rows ends in
/// one): 16 FMAs a step instead of 24, reading the same 12-wide A panels.
BP_AVX512 static void sgemm_kernel_avx512_rows8(long kc, const float *a, const float *b, float *c, long ldc,
                                                float alpha, float beta) {
    __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
    __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
    __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
    __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
    for (long p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(b);
        __m512 b1 = _mm512_load_ps(b + 16);
        __m512 x;
        SGEMM512_ROW(0) SGEMM512_ROW(1) SGEMM512_ROW(2) SGEMM512_ROW(3)
        SGEMM512_ROW(4) SGEMM512_ROW(5) SGEMM512_ROW(6) SGEMM512_ROW(7)
        a += 12;
        b += 32;
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    int readC = beta != 0;
#define SGEMM512_STORE(i, acc0, acc1)                                 \
    sgemm_store16(c + (i) * ldc, acc0, va, vb, readC);               \
    sgemm_store16(c + (i) * ldc + 16, acc1, va, vb, readC);
    SGEMM512_STORE(0, c00, c01) SGEMM512_STORE(1, c10, c11) SGEMM512_STORE(2, c20, c21)
    SGEMM512_STORE(3, c30, c31) SGEMM512_STORE(4, c40, c41) SGEMM512_STORE(5, c50, c51)
    SGEMM512_STORE(6, c60, c61) SGEMM512_STORE(7, c70, c71)
#undef SGEMM512_STORE
}
#undef SGEMM512_ROW
#define GEMM_KERNEL_FEW sgemm_kernel_avx512_rows8
#define GEMM_FEW_ROWS 8

/// Packs one full 12-row micro-panel of a non-transposed A: packed[p·12 + i] = src[i·lda + p], eight values
/// of p at a time through two 8×8 transposes (rows 0-7, and rows 8-11 with four zero rows).
BP_AVX512 static void sgemm_pack_a12_avx512(long kc, const float *src, long lda, float *packed) {
    long p = 0;
    for (; p + 8 <= kc; p += 8) {
        __m256 top[8], bottom[8];
        for (int i = 0; i < 8; i++) top[i] = _mm256_loadu_ps(src + i * lda + p);
        for (int i = 0; i < 4; i++) bottom[i] = _mm256_loadu_ps(src + (8 + i) * lda + p);
        for (int i = 4; i < 8; i++) bottom[i] = _mm256_setzero_ps();
        bp_transpose8x8_ps(top);
        bp_transpose8x8_ps(bottom);
        float *out = packed + p * 12;
        for (int c = 0; c < 8; c++) {
            _mm256_storeu_ps(out + 12 * c, top[c]);
            _mm_storeu_ps(out + 12 * c + 8, _mm256_castps256_ps128(bottom[c]));
        }
    }
    for (; p < kc; p++)
        for (int i = 0; i < 12; i++) packed[p * 12 + i] = src[i * lda + p];
}
#define GEMM_PACK_A_ROWS sgemm_pack_a12_avx512

/// Packs one full 32-column micro-panel of a transposed B: packed[p·32 + j] = src[j·ldb + p], an 8×8 block
/// (eight stored rows, eight values of p) at a time.
BP_AVX512 static void sgemm_pack_b32t_avx512(long kc, const float *src, long ldb, float *packed) {
    long p = 0;
    for (; p + 8 <= kc; p += 8) {
        for (int j0 = 0; j0 < 32; j0 += 8) {
            __m256 r[8];
            for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(src + (j0 + j) * ldb + p);
            bp_transpose8x8_ps(r);
            for (int c = 0; c < 8; c++) _mm256_store_ps(packed + (p + c) * 32 + j0, r[c]);
        }
    }
    for (; p < kc; p++)
        for (int j = 0; j < 32; j++) packed[p * 32 + j] = src[j * ldb + p];
}
#define GEMM_PACK_B_COLS sgemm_pack_b32t_avx512

#define GEMM_T float
#define GEMM_MR 12
#define GEMM_NR 32
#define GEMM_MC 144
#define GEMM_KC 256
#define GEMM_NC 4096
#define GEMM_KERNEL sgemm_kernel_avx512
#define GEMM_ATTR BP_AVX512
#define GEMM_FN(name) sgemm_avx512_##name
#include "gemm_template.h"
#endif

// MARK: NEON (arm64)

#if defined(BP_HAVE_NEON)
#include <arm_neon.h>

/// Stores one 4-wide accumulator into C: c = alpha·acc + beta·c, not reading c when beta == 0.
static inline void sgemm_store4_neon(float *c, float32x4_t acc, float alpha, float beta, int readC) {
    float32x4_t scaled = vmulq_n_f32(acc, alpha);
    if (readC) scaled = vfmaq_n_f32(scaled, vld1q_f32(c), beta);
    vst1q_f32(c, scaled);
}

/// 8×8 micro-kernel: each step loads 8 values of A and 8 of B, 16 lane-indexed FMAs into 16 of the 32
/// vector registers.
static void sgemm_kernel_neon(long kc, const float *a, const float *b, float *c, long ldc, float alpha,
                              float beta) {
    float32x4_t acc[8][2];
    for (int i = 0; i < 8; i++) acc[i][0] = acc[i][1] = vdupq_n_f32(0);
    for (long p = 0; p < kc; p++) {
        float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
        float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
        acc[0][0] = vfmaq_laneq_f32(acc[0][0], b0, a0, 0); acc[0][1] = vfmaq_laneq_f32(acc[0][1], b1, a0, 0);
        acc[1][0] = vfmaq_laneq_f32(acc[1][0], b0, a0, 1); acc[1][1] = vfmaq_laneq_f32(acc[1][1], b1, a0, 1);
        acc[2][0] = vfmaq_laneq_f32(acc[2][0], b0, a0, 2); acc[2][1] = vfmaq_laneq_f32(acc[2][1], b1, a0, 2);
        acc[3][0] = vfmaq_laneq_f32(acc[3][0], b0, a0, 3); acc[3][1] = vfmaq_laneq_f32(acc[3][1], b1, a0, 3);
        acc[4][0] = vfmaq_laneq_f32(acc[4][0], b0, a1, 0); acc[4][1] = vfmaq_laneq_f32(acc[4][1], b1, a1, 0);
        acc[5][0] = vfmaq_laneq_f32(acc[5][0], b0, a1, 1); acc[5][1] = vfmaq_laneq_f32(acc[5][1], b1, a1, 1);
        acc[6][0] = vfmaq_laneq_f32(acc[6][0], b0, a1, 2); acc[6][1] = vfmaq_laneq_f32(acc[6][1], b1, a1, 2);
        acc[7][0] = vfmaq_laneq_f32(acc[7][0], b0, a1, 3); acc[7][1] = vfmaq_laneq_f32(acc[7][1], b1, a1, 3);
        a += 8;
        b += 8;
    }
    int readC = beta != 0;
    for (int i = 0; i < 8; i++) {
        sgemm_store4_neon(c + i * ldc, acc[i][0], alpha, beta, readC);
        sgemm_store4_neon(c + i * ldc + 4, acc[i][1], alpha, beta, readC);
    }
}

#define GEMM_T float
#define GEMM_MR 8
#define GEMM_NR 8
#define GEMM_MC 128
#define GEMM_KC 256
#define GEMM_NC 2048
#define GEMM_KERNEL sgemm_kernel_neon
#define GEMM_ATTR
#define GEMM_FN(name) sgemm_neon_##name
#include "gemm_template.h"
#endif

#if defined(BP_HAVE_AVX2)
/// Whether AVX2's narrow loops beat the blocked product for `rows` (< 12) rows, measured on Zen 3: always
/// when B is stored N×K (dot products), and for rows that split into groups without a lone row otherwise.
static inline int narrow_avx2_pays(long rows, int transposedB) {
    return transposedB || rows <= 8 || rows == 10;
}
#endif

void bp_sgemm(int transA, int transB, long M, long N, long K, float alpha, const float *A, long lda,
              const float *B, long ldb, float beta, float *C, long ldc) {
#if defined(BP_HAVE_AVX2)
    // Fewer rows than one AVX-512 tile: stream B instead of packing it.
    if (M < 12 && K > 0 && alpha != 0 && N > 16 && bp_kernels_use_avx512() &&
        bp_sgemm_narrow_avx512(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc))
        return;
    // Few columns over an inner dimension of at least 64 (a convolution's weight gradient: 16×9 outputs
    // over 50 176 products; a 10-class layer's weight gradient over a batch of 128): every tile would be
    // an edge tile, so compute the transpose, a product of few rows (512×10 over 128: 33 -> 8.5 µs).
    if (N < 12 && M >= 12 && K >= 64 && alpha != 0 && bp_kernels_use_avx512() &&
        bp_sgemm_narrow_transposed_avx512(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc))
        return;
    // A product at most 16 columns wide would fill only half of the AVX-512 tile's 32 columns.
    if (N > 16 && bp_kernels_use_avx512()) {
        sgemm_avx512_gemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (bp_kernels_use_avx2()) {
        // The same two shapes without AVX-512 (the conv weight gradient above: 21 -> 3 µs). The narrow loops
        // take groups of 6, 4, 2 and 1 rows when B is stored K×N, and 9 or 11 rows left a single row that
        // streams all of B once more, slower than the blocked product (9×512 over 784: 225 against 193 µs).
        if (M < 12 && K > 0 && alpha != 0 && N > 8 && narrow_avx2_pays(M, transB) &&
            bp_sgemm_narrow_avx2(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc))
            return;
        if (N < 12 && M >= 12 && K >= 64 && alpha != 0 && narrow_avx2_pays(N, !transA) &&
            bp_sgemm_narrow_transposed_avx2(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc))
            return;
        sgemm_avx2_gemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#endif
#if defined(BP_HAVE_NEON)
    if (bp_kernels_use_avx2()) {
        sgemm_neon_gemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#endif
    sgemm_portable_gemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// Single-precision products of few rows with AVX2: the loops of sgemm_narrow.c (which are AVX-512 only) for
// CPUs without AVX-512, 8 lanes a vector. The blocked driver packs all of B to use a few rows of each 6×16
// tile, and a product of few columns over a long inner dimension (a first convolution's weight gradient,
// 16×9 outputs over 784 products per image) ran at a tenth of the core's speed there; these loops stream B
// once per group of rows instead. Written apart from the AVX-512 loops (not as one template) so that those,
// measured on AVX-512 machines, stay exactly as they were.
#include "CBackpropKernels.h"
#include "internal.h"

#if defined(BP_HAVE_AVX2)
#include <immintrin.h>

/// The first `left` lanes (all 8 when `left` ≥ 8, none when `left` ≤ 0) as a mask for maskload/maskstore.
BP_AVX2_FMA static inline __m256i lanes_below(long left) {
    const int count = left >= 8 ? 8 : left <= 0 ? 0 : (int)left;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// The sum of the 8 lanes.
BP_AVX2_FMA static inline float lane_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// c[0..<count] = alpha·acc + beta·c (count ≤ 8), not reading c when beta == 0.
BP_AVX2_FMA static inline void narrow_store(float *c, __m256 acc, float alpha, float beta, long count) {
    __m256 scaled = _mm256_mul_ps(acc, _mm256_set1_ps(alpha));
    if (count >= 8) {
        if (beta != 0) scaled = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(c), scaled);
        _mm256_storeu_ps(c, scaled);
    } else if (count > 0) {
        const __m256i mask = lanes_below(count);
        if (beta != 0) scaled = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_maskload_ps(c, mask), scaled);
        _mm256_maskstore_ps(c, mask, scaled);
    }
}

/// B stored K×N (row-major): R rows of C at a time, 16 columns a step, each row of B loaded once per group:
/// C[i][j0..j0+16] = Σ_p A[i][p]·B[p][j0..j0+16]. `a` is row-major R×K with row stride `lda`. Whole steps
/// load B plainly, the last partial one under masks.
#define NARROW_NN_STEPS(R, LOAD0, LOAD1)                                                                       \
    for (long p = 0; p < K; p++, b += ldb) {                                                                   \
        const __m256 b0 = LOAD0, b1 = LOAD1;                                                                   \
        for (int i = 0; i < R; i++) {                                                                          \
            const __m256 x = _mm256_set1_ps(a[i * lda + p]);                                                   \
            acc0[i] = _mm256_fmadd_ps(x, b0, acc0[i]);                                                         \
            acc1[i] = _mm256_fmadd_ps(x, b1, acc1[i]);                                                         \
        }                                                                                                      \
    }
#define NARROW_ROWS_NN(R)                                                                                      \
    BP_AVX2_FMA static void narrow_nn_##R(long N, long K, float alpha, const float *a, long lda, const float *B, \
                                          long ldb, float beta, float *c, long ldc) {                          \
        for (long j = 0; j < N; j += 16) {                                                                     \
            const long left = N - j;                                                                           \
            __m256 acc0[R], acc1[R];                                                                           \
            for (int i = 0; i < R; i++) acc0[i] = acc1[i] = _mm256_setzero_ps();                               \
            const float *b = B + j;                                                                            \
            if (left >= 16) {                                                                                  \
                NARROW_NN_STEPS(R, _mm256_loadu_ps(b), _mm256_loadu_ps(b + 8))                                 \
            } else {                                                                                           \
                const __m256i m0 = lanes_below(left), m1 = lanes_below(left - 8);                              \
                NARROW_NN_STEPS(R, _mm256_maskload_ps(b, m0), _mm256_maskload_ps(b + 8, m1))                   \
            }                                                                                                  \
            for (int i = 0; i < R; i++) {                                                                      \
                narrow_store(c + i * ldc + j, acc0[i], alpha, beta, left);                                     \
                narrow_store(c + i * ldc + j + 8, acc1[i], alpha, beta, left - 8);                             \
            }                                                                                                  \
        }                                                                                                      \
    }
NARROW_ROWS_NN(6)
NARROW_ROWS_NN(4)
NARROW_ROWS_NN(2)
NARROW_ROWS_NN(1)

/// B stored N×K (op(B) = Bᵀ): C[i][j] = A[i]·B[j], R rows of A against 4 rows of B at a time, 8 values of K
/// a step (the last partial step under a mask), each row of B loaded once per group; the 4R sums are reduced
/// across lanes at the end.
/// One step of 8 values of K at `p` for R rows of A against 4 rows of B, loading with LOAD(pointer).
#define NARROW_NT_STEP(R, LOAD, p)                                                                             \
    {                                                                                                          \
        const __m256 b0 = LOAD(b + (p)), b1 = LOAD(b + ldb + (p));                                             \
        const __m256 b2 = LOAD(b + 2 * ldb + (p)), b3 = LOAD(b + 3 * ldb + (p));                               \
        for (int i = 0; i < R; i++) {                                                                          \
            const __m256 x = LOAD(a + i * lda + (p));                                                          \
            acc[i][0] = _mm256_fmadd_ps(x, b0, acc[i][0]);                                                     \
            acc[i][1] = _mm256_fmadd_ps(x, b1, acc[i][1]);                                                     \
            acc[i][2] = _mm256_fmadd_ps(x, b2, acc[i][2]);                                                     \
            acc[i][3] = _mm256_fmadd_ps(x, b3, acc[i][3]);                                                     \
        }                                                                                                      \
    }
/// The last, partial step's load: the lanes of `tail`.
#define MASKED_TAIL(pointer) _mm256_maskload_ps(pointer, tail)
#define NARROW_ROWS_NT(R)                                                                                      \
    BP_AVX2_FMA static void narrow_nt_##R(long N, long K, float alpha, const float *a, long lda, const float *B, \
                                          long ldb, float beta, float *c, long ldc) {                          \
        const long whole = K / 8 * 8;                                                                          \
        const __m256i tail = lanes_below(K - whole);                                                           \
        long j = 0;                                                                                            \
        for (; j + 4 <= N; j += 4) {                                                                           \
            __m256 acc[R][4];                                                                                  \
            for (int i = 0; i < R; i++) acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = _mm256_setzero_ps();   \
            const float *b = B + j * ldb;                                                                      \
            for (long p = 0; p < whole; p += 8) NARROW_NT_STEP(R, _mm256_loadu_ps, p)                          \
            if (whole < K) NARROW_NT_STEP(R, MASKED_TAIL, whole)                                               \
            for (int i = 0; i < R; i++)                                                                        \
                for (int q = 0; q < 4; q++) {                                                                  \
                    const float value = alpha * lane_sum(acc[i][q]);                                           \
                    float *out = c + i * ldc + j + q;                                                          \
                    *out = beta == 0 ? value : value + beta * *out;                                            \
                }                                                                                              \
        }                                                                                                      \
        for (; j < N; j++) {                                                                                   \
            __m256 acc[R];                                                                                     \
            for (int i = 0; i < R; i++) acc[i] = _mm256_setzero_ps();                                          \
            const float *b = B + j * ldb;                                                                      \
            for (long p = 0; p < whole; p += 8) {                                                              \
                const __m256 b0 = _mm256_loadu_ps(b + p);                                                      \
                for (int i = 0; i < R; i++) acc[i] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i * lda + p), b0, acc[i]); \
            }                                                                                                  \
            if (whole < K) {                                                                                   \
                const __m256 b0 = _mm256_maskload_ps(b + whole, tail);                                         \
                for (int i = 0; i < R; i++)                                                                    \
                    acc[i] = _mm256_fmadd_ps(_mm256_maskload_ps(a + i * lda + whole, tail), b0, acc[i]);       \
            }                                                                                                  \
            for (int i = 0; i < R; i++) {                                                                      \
                const float value = alpha * lane_sum(acc[i]);                                                  \
                float *out = c + i * ldc + j;                                                                  \
                *out = beta == 0 ? value : value + beta * *out;                                                \
            }                                                                                                  \
        }                                                                                                      \
    }
NARROW_ROWS_NT(2)
NARROW_ROWS_NT(1)

int bp_sgemm_narrow_avx2(int transA, int transB, long M, long N, long K, float alpha, const float *A, long lda,
                         const float *B, long ldb, float beta, float *C, long ldc) {
    if (M <= 0 || M >= 12) return 0;
    long rowStride;
    const float *a = bp_sgemm_narrow_rows(transA, M, K, A, lda, &rowStride);
    if (a == NULL) return 0;
    // Groups of rows, largest first: each group reads all of B once.
    for (long i = 0; i < M;) {
        const float *rows = a + i * rowStride;
        float *c = C + i * ldc;
        const long left = M - i;
        if (transB) {
            if (left >= 2) {
                narrow_nt_2(N, K, alpha, rows, rowStride, B, ldb, beta, c, ldc);
                i += 2;
            } else {
                narrow_nt_1(N, K, alpha, rows, rowStride, B, ldb, beta, c, ldc);
                i += 1;
            }
        } else if (left >= 6) {
            narrow_nn_6(N, K, alpha, rows, rowStride, B, ldb, beta, c, ldc);
            i += 6;
        } else if (left >= 4) {
            narrow_nn_4(N, K, alpha, rows, rowStride, B, ldb, beta, c, ldc);
            i += 4;
        } else if (left >= 2) {
            narrow_nn_2(N, K, alpha, rows, rowStride, B, ldb, beta, c, ldc);
            i += 2;
        } else {
            narrow_nn_1(N, K, alpha, rows, rowStride, B, ldb, beta, c, ldc);
            i += 1;
        }
    }
    return 1;
}

int bp_sgemm_narrow_transposed_avx2(int transA, int transB, long M, long N, long K, float alpha, const float *A,
                                    long lda, const float *B, long ldb, float beta, float *C, long ldc) {
    return bp_sgemm_through_transpose(bp_sgemm_narrow_avx2, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta,
                                      C, ldc);
}
#endif

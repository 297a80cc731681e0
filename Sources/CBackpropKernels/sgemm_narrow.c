// Single-precision products of few rows (M < 12, less than one AVX-512 micro-tile): a row times a weight
// matrix in a forward pass, a Jacobian's handful of seeds in a reverse sweep. The blocked driver would
// pack all of B (megabytes for a weight matrix) to use a few rows of each tile; these loops stream B once
// per group of rows instead, reading it in place in either layout. A product of few columns and a long
// inner dimension is computed through its transpose, which has few rows.
#include "CBackpropKernels.h"
#include "internal.h"
#include <stdlib.h>

#if defined(BP_HAVE_AVX2)
#include <immintrin.h>

/// The mask of the first `count` (< 16) lanes.
BP_AVX512 static inline __mmask16 narrow_tail_mask(long count) { return (__mmask16)((1u << count) - 1u); }

/// C[i][j] = alpha·acc + beta·C[i][j] for the lanes of `mask`, not reading C when beta == 0.
BP_AVX512 static inline void narrow_store(float *c, __m512 acc, float alpha, float beta, __mmask16 mask) {
    __m512 scaled = _mm512_mul_ps(acc, _mm512_set1_ps(alpha));
    if (beta != 0) scaled = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(mask, c), scaled);
    _mm512_mask_storeu_ps(c, mask, scaled);
}

/// B stored K×N (row-major): R rows of C at a time, 32 columns a step, each row of B loaded once per group:
/// C[i][j0..j0+32] = Σ_p A[i][p]·B[p][j0..j0+32]. `a` is row-major R×K with row stride `lda`.
#define NARROW_ROWS_NN(R)                                                                                      \
    BP_AVX512 static void narrow_nn_##R(long N, long K, float alpha, const float *a, long lda, const float *B,  \
                                        long ldb, float beta, float *c, long ldc) {                            \
        for (long j = 0; j < N; j += 32) {                                                                     \
            long left = N - j;                                                                                 \
            __mmask16 m0 = left >= 16 ? (__mmask16)0xFFFF : narrow_tail_mask(left);                            \
            __mmask16 m1 = left >= 32 ? (__mmask16)0xFFFF : left > 16 ? narrow_tail_mask(left - 16) : 0;       \
            __m512 acc0[R], acc1[R];                                                                           \
            for (int i = 0; i < R; i++) acc0[i] = acc1[i] = _mm512_setzero_ps();                               \
            const float *b = B + j;                                                                            \
            for (long p = 0; p < K; p++, b += ldb) {                                                           \
                __m512 b0 = _mm512_maskz_loadu_ps(m0, b), b1 = _mm512_maskz_loadu_ps(m1, b + 16);               \
                for (int i = 0; i < R; i++) {                                                                  \
                    __m512 x = _mm512_set1_ps(a[i * lda + p]);                                                 \
                    acc0[i] = _mm512_fmadd_ps(x, b0, acc0[i]);                                                 \
                    acc1[i] = _mm512_fmadd_ps(x, b1, acc1[i]);                                                 \
                }                                                                                              \
            }                                                                                                  \
            for (int i = 0; i < R; i++) {                                                                      \
                narrow_store(c + i * ldc + j, acc0[i], alpha, beta, m0);                                       \
                if (m1) narrow_store(c + i * ldc + j + 16, acc1[i], alpha, beta, m1);                          \
            }                                                                                                  \
        }                                                                                                      \
    }
NARROW_ROWS_NN(8)
NARROW_ROWS_NN(4)
NARROW_ROWS_NN(2)

/// One row times B stored K×N (a forward pass on one example): 64 columns a step in four accumulators, so
/// consecutive multiply-adds into one accumulator do not wait on each other (with two, the loop ran at the
/// FMA latency).
BP_AVX512 static void narrow_nn_1(long N, long K, float alpha, const float *a, long lda, const float *B, long ldb,
                                  float beta, float *c, long ldc) {
    (void)lda, (void)ldc;
    for (long j = 0; j < N; j += 64) {
        __mmask16 m[4];
        for (int q = 0; q < 4; q++) {
            long left = N - j - 16 * q;
            m[q] = left >= 16 ? (__mmask16)0xFFFF : left > 0 ? narrow_tail_mask(left) : 0;
        }
        __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        const float *b = B + j;
        for (long p = 0; p < K; p++, b += ldb) {
            __m512 x = _mm512_set1_ps(a[p]);
            for (int q = 0; q < 4; q++) acc[q] = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m[q], b + 16 * q), acc[q]);
        }
        for (int q = 0; q < 4; q++)
            if (m[q]) narrow_store(c + j + 16 * q, acc[q], alpha, beta, m[q]);
    }
}

/// B stored N×K (op(B) = Bᵀ): C[i][j] = A[i]·B[j], R rows of A against 4 rows of B at a time, 16 values of
/// K a step, each row of B loaded once per group; the 4R sums are reduced across lanes at the end.
#define NARROW_ROWS_NT(R)                                                                                      \
    BP_AVX512 static void narrow_nt_##R(long N, long K, float alpha, const float *a, long lda, const float *B,  \
                                        long ldb, float beta, float *c, long ldc) {                            \
        long j = 0;                                                                                            \
        for (; j + 4 <= N; j += 4) {                                                                           \
            __m512 acc[R][4];                                                                                  \
            for (int i = 0; i < R; i++) acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = _mm512_setzero_ps();   \
            const float *b = B + j * ldb;                                                                      \
            for (long p = 0; p < K; p += 16) {                                                                 \
                __mmask16 m = K - p >= 16 ? (__mmask16)0xFFFF : narrow_tail_mask(K - p);                       \
                __m512 b0 = _mm512_maskz_loadu_ps(m, b + p), b1 = _mm512_maskz_loadu_ps(m, b + ldb + p);       \
                __m512 b2 = _mm512_maskz_loadu_ps(m, b + 2 * ldb + p);                                         \
                __m512 b3 = _mm512_maskz_loadu_ps(m, b + 3 * ldb + p);                                         \
                for (int i = 0; i < R; i++) {                                                                  \
                    __m512 x = _mm512_maskz_loadu_ps(m, a + i * lda + p);                                      \
                    acc[i][0] = _mm512_fmadd_ps(x, b0, acc[i][0]);                                             \
                    acc[i][1] = _mm512_fmadd_ps(x, b1, acc[i][1]);                                             \
                    acc[i][2] = _mm512_fmadd_ps(x, b2, acc[i][2]);                                             \
                    acc[i][3] = _mm512_fmadd_ps(x, b3, acc[i][3]);                                             \
                }                                                                                              \
            }                                                                                                  \
            for (int i = 0; i < R; i++)                                                                        \
                for (int q = 0; q < 4; q++) {                                                                  \
                    float value = alpha * _mm512_reduce_add_ps(acc[i][q]);                                     \
                    float *out = c + i * ldc + j + q;                                                          \
                    *out = beta == 0 ? value : value + beta * *out;                                            \
                }                                                                                              \
        }                                                                                                      \
        for (; j < N; j++) {                                                                                   \
            __m512 acc[R];                                                                                     \
            for (int i = 0; i < R; i++) acc[i] = _mm512_setzero_ps();                                          \
            const float *b = B + j * ldb;                                                                      \
            for (long p = 0; p < K; p += 16) {                                                                 \
                __mmask16 m = K - p >= 16 ? (__mmask16)0xFFFF : narrow_tail_mask(K - p);                       \
                __m512 b0 = _mm512_maskz_loadu_ps(m, b + p);                                                   \
                for (int i = 0; i < R; i++)                                                                    \
                    acc[i] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i * lda + p), b0, acc[i]);           \
            }                                                                                                  \
            for (int i = 0; i < R; i++) {                                                                      \
                float value = alpha * _mm512_reduce_add_ps(acc[i]);                                            \
                float *out = c + i * ldc + j;                                                                  \
                *out = beta == 0 ? value : value + beta * *out;                                                \
            }                                                                                                  \
        }                                                                                                      \
    }
NARROW_ROWS_NT(5)
NARROW_ROWS_NT(4)
NARROW_ROWS_NT(2)
NARROW_ROWS_NT(1)

int bp_sgemm_narrow_transposed_avx512(int transA, int transB, long M, long N, long K, float alpha, const float *A,
                                      long lda, const float *B, long ldb, float beta, float *C, long ldc) {
    return bp_sgemm_through_transpose(bp_sgemm_narrow_avx512, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta,
                                      C, ldc);
}

int bp_sgemm_narrow_avx512(int transA, int transB, long M, long N, long K, float alpha, const float *A, long lda,
                           const float *B, long ldb, float beta, float *C, long ldc) {
    if (M <= 0 || M >= 12) return 0;
    long rowStride;
    const float *a = bp_sgemm_narrow_rows(transA, M, K, A, lda, &rowStride);
    if (a == NULL) return 0;
    // Groups of rows, largest first: each group reads all of B once.
    for (long i = 0; i < M;) {
        const float *rows = a + i * rowStride;
        float *c = C + i * ldc;
        long left = M - i;
        if (!transB && left >= 8) {
            narrow_nn_8(N, K, alpha, rows, rowStride, B, ldb, beta, c, ldc);
            i += 8;
        } else if (transB && left >= 5) {
            // 5 rows × 4 of B: 20 accumulators, fewer loads per multiply-add than 4 × 4 (10 rows: 2 passes).
            narrow_nt_5(N, K, alpha, rows, rowStride, B, ldb, beta, c, ldc);
            i += 5;
        } else if (left >= 4) {
            if (transB) narrow_nt_4(N, K, alpha, rows, rowStride, B, ldb, beta, c, ldc);
            else narrow_nn_4(N, K, alpha, rows, rowStride, B, ldb, beta, c, ldc);
            i += 4;
        } else if (left >= 2) {
            if (transB) narrow_nt_2(N, K, alpha, rows, rowStride, B, ldb, beta, c, ldc);
            else narrow_nn_2(N, K, alpha, rows, rowStride, B, ldb, beta, c, ldc);
            i += 2;
        } else {
            if (transB) narrow_nt_1(N, K, alpha, rows, rowStride, B, ldb, beta, c, ldc);
            else narrow_nn_1(N, K, alpha, rows, rowStride, B, ldb, beta, c, ldc);
            i += 1;
        }
    }
    return 1;
}
#endif

/// C = alpha·op(A)·op(B) + beta·C through its transpose when op(B) has few columns (N < 12) and op(A) has
/// rows to spare: Cᵀ = op(B)ᵀ·op(A)ᵀ is a product of few rows, computed into scratch memory by `narrow` and
/// transposed into C. Returns 0, having done nothing, without scratch memory or when `narrow` declines.
int bp_sgemm_through_transpose(bp_sgemm_function narrow, int transA, int transB, long M, long N, long K, float alpha,
                               const float *A, long lda, const float *B, long ldb, float beta, float *C, long ldc) {
    // The narrow loops use the thread's workspace for a transposed A, so Cᵀ gets memory of its own.
    float *product = malloc((size_t)N * (size_t)M * sizeof(float));
    if (product == NULL) return 0;
    // op(B)ᵀ is B itself when B is stored N×K (transB), else B read transposed; likewise op(A)ᵀ.
    int done = narrow(!transB, !transA, N, M, K, alpha, B, ldb, A, lda, 0, product, M);
    if (done) {
        for (long i = 0; i < M; i++) {
            float *row = C + i * ldc;
            if (beta == 0)
                for (long j = 0; j < N; j++) row[j] = product[j * M + i];
            else
                for (long j = 0; j < N; j++) row[j] = product[j * M + i] + beta * row[j];
        }
    }
    free(product);
    return done;
}

const float *bp_sgemm_narrow_rows(int transA, long M, long K, const float *A, long lda, long *rowStride) {
    if (!transA) {
        *rowStride = lda;
        return A;
    }
    // A transposed (stored K×M) is copied to M contiguous rows: it is at most 11·K values.
    float *rows = bp_thread_workspace((size_t)M * (size_t)K * sizeof(float));
    if (rows == NULL) return NULL;
    for (long p = 0; p < K; p++)
        for (long i = 0; i < M; i++) rows[i * K + p] = A[p * lda + i];
    *rowStride = K;
    return rows;
}

// Matrix transposes (out[c][r] = in[r][c]) for the shape operations: 8×8 blocks of floats and 4×4 blocks
// of doubles through AVX registers, the ragged edges one element at a time. A convolution's output goes
// through one on its way from the product's NHWC layout to NCHW, and its gradient through another.
#include "CBackpropKernels.h"
#include "internal.h"

/// Portable transpose of an edge region, element by element.
#define TRANSPOSE_SCALAR(T, rows0, rows1, cols0, cols1)                                                        \
    for (long r = rows0; r < rows1; r++)                                                                       \
        for (long c = cols0; c < cols1; c++) out[c * ldout + r] = in[r * ldin + c];

/// Portable float transpose, in 32×32 blocks so both sides stay in cache.
static void stranspose_portable(long rows, long cols, const float *in, long ldin, float *out, long ldout) {
    for (long r0 = 0; r0 < rows; r0 += 32)
        for (long c0 = 0; c0 < cols; c0 += 32) {
            long r1 = r0 + 32 < rows ? r0 + 32 : rows, c1 = c0 + 32 < cols ? c0 + 32 : cols;
            TRANSPOSE_SCALAR(float, r0, r1, c0, c1)
        }
}

/// Portable double transpose, in 32×32 blocks.
static void dtranspose_portable(long rows, long cols, const double *in, long ldin, double *out, long ldout) {
    for (long r0 = 0; r0 < rows; r0 += 32)
        for (long c0 = 0; c0 < cols; c0 += 32) {
            long r1 = r0 + 32 < rows ? r0 + 32 : rows, c1 = c0 + 32 < cols ? c0 + 32 : cols;
            TRANSPOSE_SCALAR(double, r0, r1, c0, c1)
        }
}

#if defined(BP_HAVE_AVX2)
#include <immintrin.h>
#include "simd_transpose.h"

/// Float transpose: 8×8 blocks in registers (unpack, shuffle, lane permute), visited in 32×32 tiles.
BP_AVX2_FMA static void stranspose_avx2(long rows, long cols, const float *in, long ldin, float *out, long ldout) {
    long fullRows = rows / 8 * 8, fullCols = cols / 8 * 8;
    for (long r0 = 0; r0 < fullRows; r0 += 32) {
        long r1 = r0 + 32 < fullRows ? r0 + 32 : fullRows;
        for (long c0 = 0; c0 < fullCols; c0 += 32) {
            long c1 = c0 + 32 < fullCols ? c0 + 32 : fullCols;
            for (long r = r0; r < r1; r += 8)
                for (long c = c0; c < c1; c += 8) {
                    const float *src = in + r * ldin + c;
                    __m256 t[8];
                    for (int i = 0; i < 8; i++) t[i] = _mm256_loadu_ps(src + i * ldin);
                    bp_transpose8x8_ps(t);
                    float *dst = out + c * ldout + r;
                    for (int i = 0; i < 8; i++) _mm256_storeu_ps(dst + i * ldout, t[i]);
                }
        }
    }
    TRANSPOSE_SCALAR(float, 0, fullRows, fullCols, cols)
    TRANSPOSE_SCALAR(float, fullRows, rows, 0, cols)
}

/// Double transpose: 4×4 blocks in registers, visited in 32×32 tiles.
BP_AVX2_FMA static void dtranspose_avx2(long rows, long cols, const double *in, long ldin, double *out, long ldout) {
    long fullRows = rows / 4 * 4, fullCols = cols / 4 * 4;
    for (long r0 = 0; r0 < fullRows; r0 += 32) {
        long r1 = r0 + 32 < fullRows ? r0 + 32 : fullRows;
        for (long c0 = 0; c0 < fullCols; c0 += 32) {
            long c1 = c0 + 32 < fullCols ? c0 + 32 : fullCols;
            for (long r = r0; r < r1; r += 4)
                for (long c = c0; c < c1; c += 4) {
                    const double *src = in + r * ldin + c;
                    __m256d x0 = _mm256_loadu_pd(src), x1 = _mm256_loadu_pd(src + ldin);
                    __m256d x2 = _mm256_loadu_pd(src + 2 * ldin), x3 = _mm256_loadu_pd(src + 3 * ldin);
                    __m256d u0 = _mm256_unpacklo_pd(x0, x1), u1 = _mm256_unpackhi_pd(x0, x1);
                    __m256d u2 = _mm256_unpacklo_pd(x2, x3), u3 = _mm256_unpackhi_pd(x2, x3);
                    double *dst = out + c * ldout + r;
                    _mm256_storeu_pd(dst, _mm256_permute2f128_pd(u0, u2, 0x20));
                    _mm256_storeu_pd(dst + ldout, _mm256_permute2f128_pd(u1, u3, 0x20));
                    _mm256_storeu_pd(dst + 2 * ldout, _mm256_permute2f128_pd(u0, u2, 0x31));
                    _mm256_storeu_pd(dst + 3 * ldout, _mm256_permute2f128_pd(u1, u3, 0x31));
                }
        }
    }
    TRANSPOSE_SCALAR(double, 0, fullRows, fullCols, cols)
    TRANSPOSE_SCALAR(double, fullRows, rows, 0, cols)
}
#endif

void bp_stranspose(long rows, long cols, const float *in, long ldin, float *out, long ldout) {
#if defined(BP_HAVE_AVX2)
    if (bp_kernels_use_avx2()) {
        stranspose_avx2(rows, cols, in, ldin, out, ldout);
        return;
    }
#endif
    stranspose_portable(rows, cols, in, ldin, out, ldout);
}

void bp_dtranspose(long rows, long cols, const double *in, long ldin, double *out, long ldout) {
#if defined(BP_HAVE_AVX2)
    if (bp_kernels_use_avx2()) {
        dtranspose_avx2(rows, cols, in, ldin, out, ldout);
        return;
    }
#endif
    dtranspose_portable(rows, cols, in, ldin, out, ldout);
}

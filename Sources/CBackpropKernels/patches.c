// One image's patch matrix (im2col) and its adjoint (col2im), for the image-by-image convolution: the
// matrix has a row per channel and kernel tap and a column per output position. With unit horizontal
// stride every (row, output row) pair is one contiguous run of an input row, short (an output row), so the
// runs are moved with masked AVX-512 loads and stores, or AVX2 moves of 8 floats, rather than a call or a
// scalar loop.
#include "CBackpropKernels.h"
#include "internal.h"

/// The valid outputs o in [lo, hi) along one axis for a tap: 0 ≤ o·stride − padding + tap·dilation < size.
static inline void valid_outputs(long size, long outputs, long stride, long padding, long tap, long dilation,
                                 long *lo, long *hi) {
    long offset = tap * dilation - padding;
    long low = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    long highInclusive = size - 1 - offset < 0 ? -1 : (size - 1 - offset) / stride;
    long high = highInclusive + 1 < outputs ? highInclusive + 1 : outputs;
    *lo = low;
    *hi = low < high ? high : low;
}

/// Walks every (row, output row) run of one image's patch matrix, calling RUN(patchRun, imageRun, count)
/// with unit horizontal stride, or STRIDED(patchRun, imageRow, firstX, count, x0) otherwise.
#define PATCH_WALK(T, RUN, STRIDED)                                                                            \
    for (long channel = 0; channel < c; channel++)                                                             \
        for (long i = 0; i < kh; i++) {                                                                        \
            long y0, y1;                                                                                       \
            valid_outputs(h, oh, sh, ph, i, dh, &y0, &y1);                                                     \
            for (long j = 0; j < kw; j++) {                                                                    \
                long x0, x1;                                                                                   \
                valid_outputs(w, ow, sw, pw, j, dw, &x0, &x1);                                                 \
                if (x0 >= x1 || y0 >= y1) continue;                                                            \
                long row = (channel * kh + i) * kw + j;                                                        \
                long shift = pw - j * dw; /* input column of output x: x·sw − shift */                         \
                for (long y = y0; y < y1; y++) {                                                               \
                    T *patchRow = patches + row * oh * ow + y * ow;                                            \
                    long imageRow = (channel * h + y * sh - ph + i * dh) * w;                                  \
                    if (sw == 1) {                                                                             \
                        RUN(patchRow + x0, image + imageRow + x0 - shift, x1 - x0);                            \
                    } else {                                                                                   \
                        STRIDED(patchRow, image + imageRow, x0, x1, shift);                                    \
                    }                                                                                          \
                }                                                                                              \
            }                                                                                                  \
        }

#define UNFOLD_RUN_SCALAR(patchRun, imageRun, count) for (long k = 0; k < (count); k++) (patchRun)[k] = (imageRun)[k];
#define UNFOLD_STRIDED(patchRow, imageRow, x0, x1, shift)                                                     \
    for (long x = (x0); x < (x1); x++) (patchRow)[x] = (imageRow)[x * sw - (shift)];
#define FOLD_RUN_SCALAR(patchRun, imageRun, count) for (long k = 0; k < (count); k++) (imageRun)[k] += (patchRun)[k];
#define FOLD_STRIDED(patchRow, imageRow, x0, x1, shift)                                                       \
    for (long x = (x0); x < (x1); x++) (imageRow)[x * sw - (shift)] += (patchRow)[x];

#define PATCH_PARAMS                                                                                           \
    long c, long h, long w, long kh, long kw, long sh, long sw, long ph, long pw, long dh, long dw, long oh, long ow

// MARK: Portable

/// The four walks of one instruction set (unfold and fold, float and double), given its run moves: RUN_S/RUN_D
/// copy a run into the patches, ADD_S/ADD_D add a run of the patches back into the image.
#define PATCH_INSTANCES(ISA, ATTR, RUN_S, RUN_D, ADD_S, ADD_D)                                                 \
    ATTR static void sunfold_##ISA(const float *image, float *patches, PATCH_PARAMS) {                          \
        PATCH_WALK(float, RUN_S, UNFOLD_STRIDED)                                                               \
    }                                                                                                          \
    ATTR static void dunfold_##ISA(const double *image, double *patches, PATCH_PARAMS) {                        \
        PATCH_WALK(double, RUN_D, UNFOLD_STRIDED)                                                              \
    }                                                                                                          \
    /* The fold only reads the patches; the walk's row pointers into them are not const, hence the casts. */   \
    ATTR static void sfold_##ISA(float *image, const float *patchesIn, PATCH_PARAMS) {                          \
        float *patches = (float *)patchesIn;                                                                   \
        PATCH_WALK(float, ADD_S, FOLD_STRIDED)                                                                 \
    }                                                                                                          \
    ATTR static void dfold_##ISA(double *image, const double *patchesIn, PATCH_PARAMS) {                        \
        double *patches = (double *)patchesIn;                                                                 \
        PATCH_WALK(double, ADD_D, FOLD_STRIDED)                                                                \
    }

PATCH_INSTANCES(portable, , UNFOLD_RUN_SCALAR, UNFOLD_RUN_SCALAR, FOLD_RUN_SCALAR, FOLD_RUN_SCALAR)

// MARK: AVX-512

#if defined(BP_HAVE_AVX2)
#include <immintrin.h>

/// dst[0..<count] = src[0..<count], 16 floats a masked move.
BP_AVX512 static inline void s_copy_run(float *dst, const float *src, long count) {
    for (long k = 0; k < count; k += 16) {
        __mmask16 m = count - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - k)) - 1u);
        _mm512_mask_storeu_ps(dst + k, m, _mm512_maskz_loadu_ps(m, src + k));
    }
}
/// dst[0..<count] += src[0..<count], 16 floats a masked step.
BP_AVX512 static inline void s_add_run(float *dst, const float *src, long count) {
    for (long k = 0; k < count; k += 16) {
        __mmask16 m = count - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - k)) - 1u);
        _mm512_mask_storeu_ps(dst + k, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, dst + k), _mm512_maskz_loadu_ps(m, src + k)));
    }
}
/// Doubles, 8 a masked move.
BP_AVX512 static inline void d_copy_run(double *dst, const double *src, long count) {
    for (long k = 0; k < count; k += 8) {
        __mmask8 m = count - k >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << (count - k)) - 1u);
        _mm512_mask_storeu_pd(dst + k, m, _mm512_maskz_loadu_pd(m, src + k));
    }
}
/// Doubles, 8 a masked step.
BP_AVX512 static inline void d_add_run(double *dst, const double *src, long count) {
    for (long k = 0; k < count; k += 8) {
        __mmask8 m = count - k >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << (count - k)) - 1u);
        _mm512_mask_storeu_pd(dst + k, m, _mm512_add_pd(_mm512_maskz_loadu_pd(m, dst + k), _mm512_maskz_loadu_pd(m, src + k)));
    }
}

#define S_UNFOLD_RUN(patchRun, imageRun, count) s_copy_run(patchRun, imageRun, count);
#define D_UNFOLD_RUN(patchRun, imageRun, count) d_copy_run(patchRun, imageRun, count);
#define S_FOLD_RUN(patchRun, imageRun, count) s_add_run(imageRun, patchRun, count);
#define D_FOLD_RUN(patchRun, imageRun, count) d_add_run(imageRun, patchRun, count);

PATCH_INSTANCES(avx512, BP_AVX512, S_UNFOLD_RUN, D_UNFOLD_RUN, S_FOLD_RUN, D_FOLD_RUN)

// MARK: AVX2

/// dst[0..<count] = src[0..<count], 8 floats a move; a run of 8 or more ends with a move of its last 8 (which
/// may repeat some of the previous move's: a copy allows that), a shorter one is copied a value at a time.
BP_AVX2_FMA static inline void s_copy_run_avx2(float *dst, const float *src, long count) {
    if (count < 8) {
        for (long k = 0; k < count; k++) dst[k] = src[k];
        return;
    }
    for (long k = 0; k < count - 8; k += 8) _mm256_storeu_ps(dst + k, _mm256_loadu_ps(src + k));
    _mm256_storeu_ps(dst + count - 8, _mm256_loadu_ps(src + count - 8));
}
/// dst[0..<count] += src[0..<count], 8 floats a step, the last count % 8 one at a time (an add must not repeat).
BP_AVX2_FMA static inline void s_add_run_avx2(float *dst, const float *src, long count) {
    long k = 0;
    for (; k + 8 <= count; k += 8)
        _mm256_storeu_ps(dst + k, _mm256_add_ps(_mm256_loadu_ps(dst + k), _mm256_loadu_ps(src + k)));
    for (; k < count; k++) dst[k] += src[k];
}
/// Doubles, 4 a move.
BP_AVX2_FMA static inline void d_copy_run_avx2(double *dst, const double *src, long count) {
    if (count < 4) {
        for (long k = 0; k < count; k++) dst[k] = src[k];
        return;
    }
    for (long k = 0; k < count - 4; k += 4) _mm256_storeu_pd(dst + k, _mm256_loadu_pd(src + k));
    _mm256_storeu_pd(dst + count - 4, _mm256_loadu_pd(src + count - 4));
}
/// Doubles, 4 a step.
BP_AVX2_FMA static inline void d_add_run_avx2(double *dst, const double *src, long count) {
    long k = 0;
    for (; k + 4 <= count; k += 4)
        _mm256_storeu_pd(dst + k, _mm256_add_pd(_mm256_loadu_pd(dst + k), _mm256_loadu_pd(src + k)));
    for (; k < count; k++) dst[k] += src[k];
}

#define S_UNFOLD_RUN_AVX2(patchRun, imageRun, count) s_copy_run_avx2(patchRun, imageRun, count);
#define D_UNFOLD_RUN_AVX2(patchRun, imageRun, count) d_copy_run_avx2(patchRun, imageRun, count);
#define S_FOLD_RUN_AVX2(patchRun, imageRun, count) s_add_run_avx2(imageRun, patchRun, count);
#define D_FOLD_RUN_AVX2(patchRun, imageRun, count) d_add_run_avx2(imageRun, patchRun, count);

PATCH_INSTANCES(avx2, BP_AVX2_FMA, S_UNFOLD_RUN_AVX2, D_UNFOLD_RUN_AVX2, S_FOLD_RUN_AVX2, D_FOLD_RUN_AVX2)

/// Calls NAME's version for the kernel path in use with (image, patches, PATCH_ARGS).
#define PATCH_PICK(NAME, image, patches)                                                                       \
    if (bp_kernels_use_avx512()) NAME##_avx512(image, patches, PATCH_ARGS);                                    \
    else if (bp_kernels_use_avx2()) NAME##_avx2(image, patches, PATCH_ARGS);                                   \
    else NAME##_portable(image, patches, PATCH_ARGS);
#else
#define PATCH_PICK(NAME, image, patches) NAME##_portable(image, patches, PATCH_ARGS);
#endif

#define PATCH_ARGS c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow

void bp_sunfold_image(const float *image, float *patches, PATCH_PARAMS) {
    PATCH_PICK(sunfold, image, patches)
}
void bp_dunfold_image(const double *image, double *patches, PATCH_PARAMS) {
    PATCH_PICK(dunfold, image, patches)
}
void bp_sfold_image(const float *patches, float *image, PATCH_PARAMS) {
    PATCH_PICK(sfold, image, patches)
}
void bp_dfold_image(const double *patches, double *image, PATCH_PARAMS) {
    PATCH_PICK(dfold, image, patches)
}

// Optimizer updates over a parameter tensor in one pass: Adam's moment updates and step, written once and
// compiled for AVX2 (the compiler vectorises the branch-free loop, square root and division included) and
// for any CPU. Floating-point contraction is off so both builds round exactly as the arithmetic is written.
#include "CBackpropKernels.h"
#include "internal.h"

/// Adam over n values: g' = g + couple·p; m = b1·m + (1−b1)·g'; v = b2·v + (1−b2)·g'²;
/// p = keep·p − stepSize·m / (√v·inverseRoot2 + eps).
#define ADAM_LOOP(T)                                                                                           \
    _Pragma("clang fp contract(off)")                                                                          \
    for (long i = 0; i < n; i++) {                                                                             \
        T gi = g[i] + couple * p[i];                                                                           \
        T mi = b1 * m[i] + (1 - b1) * gi;                                                                      \
        T vi = b2 * v[i] + (1 - b2) * gi * gi;                                                                 \
        m[i] = mi;                                                                                             \
        v[i] = vi;                                                                                             \
        p[i] = keep * p[i] - stepSize * mi / (SQRT(vi) * inverseRoot2 + eps);                                  \
    }

/// One instance of the loop: NAME for scalar type T with function attributes ATTR, square root SQRT.
#define ADAM_FUNCTION(NAME, ATTR, T)                                                                           \
    ATTR static void NAME(T *restrict p, const T *restrict g, T *restrict m, T *restrict v, long n, T b1, T b2, \
                          T stepSize, T inverseRoot2, T eps, T keep, T couple) {                               \
        ADAM_LOOP(T)                                                                                           \
    }

// The elementwise builtin never sets errno, so the loop vectorises (`sqrtf` checks for negative arguments
// to set errno, which keeps the loop scalar).
#if defined(__has_builtin) && __has_builtin(__builtin_elementwise_sqrt)
#define SQRT(x) __builtin_elementwise_sqrt(x)
#else
#define SQRT(x) __builtin_sqrtf(x)
#endif
ADAM_FUNCTION(sadam_portable, , float)
#if defined(BP_HAVE_AVX2)
ADAM_FUNCTION(sadam_avx2, BP_AVX2_FMA, float)
#endif
#undef SQRT
#if defined(__has_builtin) && __has_builtin(__builtin_elementwise_sqrt)
#define SQRT(x) __builtin_elementwise_sqrt(x)
#else
#define SQRT(x) __builtin_sqrt(x)
#endif
ADAM_FUNCTION(dadam_portable, , double)
#if defined(BP_HAVE_AVX2)
ADAM_FUNCTION(dadam_avx2, BP_AVX2_FMA, double)
#endif
#undef SQRT

void bp_sadam_update(float *p, const float *g, float *m, float *v, long n, float b1, float b2, float stepSize,
                     float inverseRoot2, float eps, float keep, float couple) {
#if defined(BP_HAVE_AVX2)
    if (bp_kernels_use_avx2()) {
        sadam_avx2(p, g, m, v, n, b1, b2, stepSize, inverseRoot2, eps, keep, couple);
        return;
    }
#endif
    sadam_portable(p, g, m, v, n, b1, b2, stepSize, inverseRoot2, eps, keep, couple);
}

void bp_dadam_update(double *p, const double *g, double *m, double *v, long n, double b1, double b2,
                     double stepSize, double inverseRoot2, double eps, double keep, double couple) {
#if defined(BP_HAVE_AVX2)
    if (bp_kernels_use_avx2()) {
        dadam_avx2(p, g, m, v, n, b1, b2, stepSize, inverseRoot2, eps, keep, couple);
        return;
    }
#endif
    dadam_portable(p, g, m, v, n, b1, b2, stepSize, inverseRoot2, eps, keep, couple);
}

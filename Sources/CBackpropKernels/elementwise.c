// Elementwise kernels for float and double: the template in elementwise_template.h instantiated for the
// portable scalar path and for AVX2 (8 floats / 4 doubles per vector), and the public entry points that
// choose between them at run time.
#include "CBackpropKernels.h"
#include "internal.h"
#include <math.h>

// MARK: Portable (1-wide "vectors")

#define EW_W 1
#define EW_ATTR
#define EW_LOAD(p) (*(p))
#define EW_STORE(p, v) (*(p) = (v))
#define EW_SET1(s) (s)
#define EW_ADD(a, b) ((a) + (b))
#define EW_SUB(a, b) ((a) - (b))
#define EW_MUL(a, b) ((a) * (b))
#define EW_MAX(a, b) ((a) > (b) ? (a) : (b))
#define EW_RELU(v) (!((v) <= 0) ? (v) : (EW_T)0)
#define EW_RELU_BACKWARD(g, x) ((x) > 0 ? (g) : (EW_T)0)
#define EW_HSUM(v) (v)
#define EW_HMAX(v) (v)

#define EW_T float
#define EW_VT float
#define EW_FN(name) ew_s_portable_##name
#define EW_EXP(x) expf(x)
#define EW_LOG(x) logf(x)
#include "elementwise_template.h"
#undef EW_T
#undef EW_VT
#undef EW_FN
#undef EW_EXP
#undef EW_LOG

#define EW_T double
#define EW_VT double
#define EW_FN(name) ew_d_portable_##name
#define EW_EXP(x) exp(x)
#define EW_LOG(x) log(x)
#include "elementwise_template.h"
#undef EW_T
#undef EW_VT
#undef EW_FN
#undef EW_EXP
#undef EW_LOG

#undef EW_W
#undef EW_ATTR
#undef EW_LOAD
#undef EW_STORE
#undef EW_SET1
#undef EW_ADD
#undef EW_SUB
#undef EW_MUL
#undef EW_MAX
#undef EW_RELU
#undef EW_RELU_BACKWARD
#undef EW_HSUM
#undef EW_HMAX

// MARK: AVX2

#if defined(BP_HAVE_AVX2)
#include <immintrin.h>

/// Horizontal sum of 8 floats.
BP_AVX2_FMA static inline float ew_hsum_ps(__m256 v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 1));
    return _mm_cvtss_f32(x);
}

/// Horizontal maximum of 8 floats.
BP_AVX2_FMA static inline float ew_hmax_ps(__m256 v) {
    __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    x = _mm_max_ss(x, _mm_shuffle_ps(x, x, 1));
    return _mm_cvtss_f32(x);
}

/// Horizontal sum of 4 doubles.
BP_AVX2_FMA static inline double ew_hsum_pd(__m256d v) {
    __m128d x = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    x = _mm_add_sd(x, _mm_unpackhi_pd(x, x));
    return _mm_cvtsd_f64(x);
}

/// Horizontal maximum of 4 doubles.
BP_AVX2_FMA static inline double ew_hmax_pd(__m256d v) {
    __m128d x = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    x = _mm_max_sd(x, _mm_unpackhi_pd(x, x));
    return _mm_cvtsd_f64(x);
}

#define EW_ATTR BP_AVX2_FMA

#define EW_T float
#define EW_VT __m256
#define EW_W 8
#define EW_FN(name) ew_s_avx2_##name
#define EW_LOAD(p) _mm256_loadu_ps(p)
#define EW_STORE(p, v) _mm256_storeu_ps((p), (v))
#define EW_SET1(s) _mm256_set1_ps(s)
#define EW_ADD(a, b) _mm256_add_ps((a), (b))
#define EW_SUB(a, b) _mm256_sub_ps((a), (b))
#define EW_MUL(a, b) _mm256_mul_ps((a), (b))
#define EW_MAX(a, b) _mm256_max_ps((a), (b))
#define EW_RELU(v) ew_s_avx2_relu8(v)
#define EW_RELU_BACKWARD(g, x) _mm256_and_ps((g), _mm256_cmp_ps((x), _mm256_setzero_ps(), _CMP_GT_OQ))
#define EW_HSUM(v) ew_hsum_ps(v)
#define EW_HMAX(v) ew_hmax_ps(v)
#define EW_EXP(x) expf(x)
#define EW_LOG(x) logf(x)
/// Lane-wise `!(v <= 0) ? v : 0` (keeps NaN, maps -0 to +0).
BP_AVX2_FMA static inline __m256 ew_s_avx2_relu8(__m256 v) {
    return _mm256_and_ps(v, _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NLE_UQ));
}
#include "elementwise_template.h"
#undef EW_T
#undef EW_VT
#undef EW_W
#undef EW_FN
#undef EW_LOAD
#undef EW_STORE
#undef EW_SET1
#undef EW_ADD
#undef EW_SUB
#undef EW_MUL
#undef EW_MAX
#undef EW_RELU
#undef EW_RELU_BACKWARD
#undef EW_HSUM
#undef EW_HMAX
#undef EW_EXP
#undef EW_LOG

#define EW_T double
#define EW_VT __m256d
#define EW_W 4
#define EW_FN(name) ew_d_avx2_##name
#define EW_LOAD(p) _mm256_loadu_pd(p)
#define EW_STORE(p, v) _mm256_storeu_pd((p), (v))
#define EW_SET1(s) _mm256_set1_pd(s)
#define EW_ADD(a, b) _mm256_add_pd((a), (b))
#define EW_SUB(a, b) _mm256_sub_pd((a), (b))
#define EW_MUL(a, b) _mm256_mul_pd((a), (b))
#define EW_MAX(a, b) _mm256_max_pd((a), (b))
#define EW_RELU(v) ew_d_avx2_relu4(v)
#define EW_RELU_BACKWARD(g, x) _mm256_and_pd((g), _mm256_cmp_pd((x), _mm256_setzero_pd(), _CMP_GT_OQ))
#define EW_HSUM(v) ew_hsum_pd(v)
#define EW_HMAX(v) ew_hmax_pd(v)
#define EW_EXP(x) exp(x)
#define EW_LOG(x) log(x)
/// Lane-wise `!(v <= 0) ? v : 0` (keeps NaN, maps -0 to +0).
BP_AVX2_FMA static inline __m256d ew_d_avx2_relu4(__m256d v) {
    return _mm256_and_pd(v, _mm256_cmp_pd(v, _mm256_setzero_pd(), _CMP_NLE_UQ));
}
#include "elementwise_template.h"
#undef EW_T
#undef EW_VT
#undef EW_W
#undef EW_FN
#undef EW_LOAD
#undef EW_STORE
#undef EW_SET1
#undef EW_ADD
#undef EW_SUB
#undef EW_MUL
#undef EW_MAX
#undef EW_RELU
#undef EW_RELU_BACKWARD
#undef EW_HSUM
#undef EW_HMAX
#undef EW_EXP
#undef EW_LOG

#undef EW_ATTR
/// Runs the AVX2 instance when the CPU has it, else the portable one.
#define EW_PICK(avx2_call, portable_call) (bp_kernels_use_avx2() ? (avx2_call) : (portable_call))
#else
/// Runs the portable instance (no AVX2 build on this architecture).
#define EW_PICK(avx2_call, portable_call) (portable_call)
#endif

// MARK: Public entry points

/// Defines bp_<p><op> returning the chosen instance's result; `p` is s or d.
#define EW_ENTRY(ret, p, op, params, args)                                                                 \
    ret bp_##p##op params { return EW_PICK(ew_##p##_avx2_##op args, ew_##p##_portable_##op args); }
/// Defines the void function bp_<p><op> forwarding its arguments to the chosen instance; `p` is s or d.
#define EW_ENTRY_VOID(p, op, params, args)                                                                 \
    void bp_##p##op params { EW_PICK(ew_##p##_avx2_##op args, ew_##p##_portable_##op args); }

EW_ENTRY_VOID(s, add, (const float *x, const float *y, float *z, long n), (x, y, z, n))
EW_ENTRY_VOID(d, add, (const double *x, const double *y, double *z, long n), (x, y, z, n))
EW_ENTRY_VOID(s, sub, (const float *x, const float *y, float *z, long n), (x, y, z, n))
EW_ENTRY_VOID(d, sub, (const double *x, const double *y, double *z, long n), (x, y, z, n))
EW_ENTRY_VOID(s, mul, (const float *x, const float *y, float *z, long n), (x, y, z, n))
EW_ENTRY_VOID(d, mul, (const double *x, const double *y, double *z, long n), (x, y, z, n))
EW_ENTRY_VOID(s, add_scalar, (const float *x, float b, float *z, long n), (x, b, z, n))
EW_ENTRY_VOID(d, add_scalar, (const double *x, double b, double *z, long n), (x, b, z, n))
EW_ENTRY_VOID(s, mul_scalar, (const float *x, float a, float *z, long n), (x, a, z, n))
EW_ENTRY_VOID(d, mul_scalar, (const double *x, double a, double *z, long n), (x, a, z, n))
EW_ENTRY_VOID(s, affine, (const float *x, float a, float b, float *z, long n), (x, a, b, z, n))
EW_ENTRY_VOID(d, affine, (const double *x, double a, double b, double *z, long n), (x, a, b, z, n))
EW_ENTRY_VOID(s, relu, (const float *x, float *z, long n), (x, z, n))
EW_ENTRY_VOID(d, relu, (const double *x, double *z, long n), (x, z, n))
EW_ENTRY_VOID(s, relu_backward, (const float *g, const float *x, float *z, long n), (g, x, z, n))
EW_ENTRY_VOID(d, relu_backward, (const double *g, const double *x, double *z, long n), (g, x, z, n))
EW_ENTRY(float, s, sum, (const float *x, long n), (x, n))
EW_ENTRY(double, d, sum, (const double *x, long n), (x, n))
EW_ENTRY_VOID(s, add_bias_rows, (const float *x, const float *b, float *z, long M, long N), (x, b, z, M, N))
EW_ENTRY_VOID(d, add_bias_rows, (const double *x, const double *b, double *z, long M, long N), (x, b, z, M, N))
EW_ENTRY_VOID(s, column_sums, (const float *x, float *out, long M, long N), (x, out, M, N))
EW_ENTRY_VOID(d, column_sums, (const double *x, double *out, long M, long N), (x, out, M, N))
EW_ENTRY(float, s, softmax_cross_entropy, (const float *logits, const long *labels, float *probs, long M, long N),
         (logits, labels, probs, M, N))
EW_ENTRY(double, d, softmax_cross_entropy,
         (const double *logits, const long *labels, double *probs, long M, long N), (logits, labels, probs, M, N))

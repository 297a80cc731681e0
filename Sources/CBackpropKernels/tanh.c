// Single-precision tanh over an array: sixteen values at a time with AVX-512, the C library's tanhf
// elsewhere. The C library computes one value per call (about 1 ms for a 256×1024 layer on two cores), which
// made tanh a third of a deep tanh network's forward pass.
//
// The method is Cephes' tanhf, vectorised:
//   |x| < 0.625:  tanh x = x + x·z·P(z), z = x², a degree-4 minimax polynomial (no cancellation near 0);
//   |x| ≥ 0.625:  tanh x = sign(x)·(1 − 2/(e^{2|x|} + 1)), with e^{2|x|} from a range-reduced polynomial
//                 (2^n·e^r, |r| ≤ ln2/2) and 2|x| capped at 20, where 1 − 2/(e+1) already rounds to 1.
// Measured against double-precision tanh in the tests: within 3 ulp everywhere; NaN stays NaN, ±∞ gives
// ±1, −0 gives −0.
#include "CBackpropKernels.h"
#include "internal.h"
#include <math.h>

#if defined(BP_HAVE_AVX2)
#include <immintrin.h>

/// e^v for 0 ≤ v ≤ 20 (and NaN), sixteen lanes: v = n·ln2 + r, e^v = 2^n·e^r.
BP_AVX512 static inline __m512 exp_nonnegative16(__m512 v) {
    const __m512 log2e = _mm512_set1_ps(1.44269504088896341f);
    const __m512 ln2_high = _mm512_set1_ps(0.693359375f), ln2_low = _mm512_set1_ps(-2.12194440e-4f);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(v, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, ln2_high, v);
    r = _mm512_fnmadd_ps(n, ln2_low, r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    // e^r ≈ 1 + r + r²·P(r)
    __m512 er = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(er, n);
}

/// tanh of sixteen lanes.
BP_AVX512 static inline __m512 tanh16(__m512 x) {
    const __m512 sign_mask = _mm512_castsi512_ps(_mm512_set1_epi32((int)0x80000000u));
    __m512 ax = _mm512_andnot_ps(sign_mask, x);
    // Small |x|: x + x·z·P(z).
    __m512 z = _mm512_mul_ps(x, x);
    __m512 p = _mm512_set1_ps(-5.70498872745e-3f);
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(2.06390887954e-2f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-5.37397155531e-2f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.33314422036e-1f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.33332819422e-1f));
    __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), ax, ax);
    // Large |x|: 1 − 2/(e^{2|x|} + 1). min(20, v) keeps a NaN v (the second operand).
    __m512 twice = _mm512_min_ps(_mm512_set1_ps(20.0f), _mm512_add_ps(ax, ax));
    __m512 e = exp_nonnegative16(twice);
    __m512 large = _mm512_sub_ps(_mm512_set1_ps(1.0f), _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
    __mmask16 isSmall = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_LT_OQ);
    // Both branches give tanh|x| ≥ 0; x's sign goes on last, so −0 stays −0.
    return _mm512_or_ps(_mm512_mask_blend_ps(isSmall, large, small), _mm512_and_ps(x, sign_mask));
}

BP_AVX512 static void stanh_avx512(const float *x, float *y, long n) {
    long i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, tanh16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 rest = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, rest, tanh16(_mm512_maskz_loadu_ps(rest, x + i)));
    }
}
#endif

void bp_stanh(const float *x, float *y, long n) {
#if defined(BP_HAVE_AVX2)
    if (bp_kernels_use_avx512()) {
        stanh_avx512(x, y, n);
        return;
    }
#endif
    for (long i = 0; i < n; i++) y[i] = tanhf(x[i]);
}

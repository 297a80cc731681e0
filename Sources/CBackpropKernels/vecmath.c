// Elementary functions over arrays (exp, log, sin, cos, tan, tanh, sigmoid, erf, expm1, log1p, pow): the
// vector kernels of vecmath_template.h instantiated for AVX2+FMA and AVX-512, the C library's functions in a
// loop for the portable path, and the public entry points that choose between them at run time.
#include "CBackpropKernels.h"
#include "internal.h"
#include <float.h>
#include <math.h>
#if defined(BP_HAVE_AVX2)
#include <immintrin.h>
#endif

// Constants shared by the vector kernels (hexadecimal so they are exact).
/// 1.5·2^52: adding it rounds a double of magnitude below 2^51 to an integer, held in the low mantissa bits.
#define VM_SHIFTER 0x1.8p52
#define VM_LOG2E 0x1.71547652b82fep+0
/// ln 2 = LN2_HI + LN2_LO; LN2_HI has 32 significant bits, so k·LN2_HI is exact for |k| < 2^21.
#define VM_LN2_HI 0x1.62e42ff000000p-1
#define VM_LN2_LO -0x1.718432a1b0e26p-35
/// 128/ln 2, for the table-driven exponential (which reduces by ln 2/128 = LN2_HI/128 + LN2_LO/128).
#define VM_128_OVER_LN2 0x1.71547652b82fep+7
#define VM_TWO_THIRDS_HI 0x1.5555555555555p-1
#define VM_TWO_THIRDS_LO 0x1.5555555555555p-55
#define VM_TWO_OVER_PI 0x1.45f306dc9c883p-1
/// π/2 = PIO2_1 + PIO2_2 + PIO2_3 to about 2^-140; PIO2_1 has 33 significant bits.
#define VM_PIO2_1 0x1.921fb54400000p+0
#define VM_PIO2_2 0x1.0b4611a626331p-34
#define VM_PIO2_3 0x1.1701b839a2520p-88

// erf's polynomials (scripts/vecmath_erf_coefficients.py), lowest degree first.
/// R(z) ≈ erf(√z)/√z − 1 on [0, 1], within 2^-56.
static const double vm_erf_small[13] = {
    0x1.06eba8214db69p-3, -0x1.812746b0379e6p-2, 0x1.ce2f21a042b34p-4, -0x1.b82ce31284f37p-6,
    0x1.565bcd0dbd8f3p-8, -0x1.c02db3db490d1p-11, 0x1.f9a321e4af012p-14, -0x1.f4d1e434361cdp-17,
    0x1.b9df3057f1b27p-20, -0x1.5f1f40e19839ap-23, 0x1.f7b99cf8a6426p-27, -0x1.38ac227a9ba50p-30,
    0x1.06275d27a1345p-34};
/// U(x) ≈ log erfc x + x² as polynomials in x − 1.5 on [1, 2], x − 2.75 on [2, 3.5] and x − 4.75 on [3.5, 6]
/// (within 2^-54, 2^-54 and 2^-51; erfc's share of erf shrinks faster than that).
static const double vm_erf_large[3][16] = {
    {-0x1.226e12d631d2cp+0, -0x1.048189e7a4af5p-1, 0x1.b7bec5ceaf44cp-4, -0x1.a71a4bde00d8cp-6,
     0x1.89a87b48fc9f6p-8, -0x1.499262376acf4p-10, 0x1.c4e86aa900e6ap-13, -0x1.790bc0863db55p-16,
     -0x1.6340af252824bp-19, 0x1.3e354769ccc98p-19, -0x1.b78de197a0cb5p-21, 0x1.9d9d3470e9a40p-23,
     -0x1.e0c63b26ab8c8p-26, -0x1.2400cb80a66bep-30, 0x1.6e51ea179484ap-29, -0x1.19944eb634d94p-30},
    {-0x1.a4428bc222870p+0, -0x1.4e5f70ff33d7ap-2, 0x1.8f0f1ba290e7dp-5, -0x1.24b99770d2becp-7,
     0x1.bef5ac4098f3ep-10, -0x1.503c54f0c8145p-12, 0x1.e31ff7ed50326p-15, -0x1.417a051ea5572p-17,
     0x1.7922277aa5946p-20, -0x1.576fb404025d0p-23, 0x1.a6cde68904b0fp-28, 0x1.faffd248e8fddp-29,
     -0x1.a80222d86ec67p-30, 0x1.c58b35c44074cp-32, -0x1.971e6fc79ae8ap-34, 0x1.1349ea5dd831ep-36},
    {-0x1.1366488d75e9ep+1, -0x1.9de09da7ef5edp-3, 0x1.4219583067380p-6, -0x1.426213feff4b8p-9,
     0x1.5e7a6603acf0dp-12, -0x1.88777c0b26b36p-15, 0x1.b9c48c26af82ap-18, -0x1.ecb350245b26bp-21,
     0x1.0d54a7c3b9f54p-23, -0x1.1db68936b5075p-26, 0x1.2273dca30c735p-29, -0x1.15bf42e7a1d3ap-32,
     0x1.e5329e39a666ap-36, -0x1.63e0a7f5568b2p-39, 0x1.77db2a566316dp-44, 0x1.ddec3fe819444p-46},
};

#include "exp_table.h"

/// ys[j] = f(xs[j]) for the lanes j whose mask is set (the vector kernels' slow lanes).
static void vm_libm_lanes1(double *ys, const double *xs, const long long *mask, int w, double (*f)(double)) {
    for (int j = 0; j < w; j++)
        if (mask[j]) ys[j] = f(xs[j]);
}

/// zs[j] = f(xs[j], ys[j]) for the lanes j whose mask is set.
static void vm_libm_lanes2(double *zs, const double *xs, const double *ys, const long long *mask, int w,
                           double (*f)(double, double)) {
    for (int j = 0; j < w; j++)
        if (mask[j]) zs[j] = f(xs[j], ys[j]);
}

#if defined(BP_HAVE_AVX2) && __has_builtin(__builtin_elementwise_fma) && __has_builtin(__builtin_reduce_or)
#define VM_HAVE_VECTOR 1

#define VM_W 4
#define VM_ATTR BP_AVX2_FMA
#define VM_FN(name) vm_avx2_##name
#include "vecmath_template.h"
#undef VM_W
#undef VM_ATTR
#undef VM_FN

#define VM_W 8
#if defined(BP_VECMATH_WIDE_FOR_AVX2)
// scripts/test_vecmath_wide.sh only: the 8-wide code built for AVX2, so that a machine without AVX-512 runs it
// (array tails then go through the stack buffer instead of masks).
#define VM_ATTR BP_AVX2_FMA
#else
#define VM_ATTR BP_AVX512
#define VM_MASKED_TAIL 1
#endif
#define VM_FN(name) vm_avx512_##name
#include "vecmath_template.h"
#undef VM_W
#undef VM_ATTR
#undef VM_FN
#undef VM_MASKED_TAIL
#endif

// MARK: Portable path (the C library, one value a call)

#if LDBL_MANT_DIG >= 64
/// 1 / (1 + e^-x) in long double (64 or more significant bits), rounded once to double.
static double vm_sigmoid(double x) { return (double)(1.0L / (1.0L + expl(-(long double)x))); }

/// tanh in long double, rounded once to double (glibc's double tanh is off by up to 2.1 ulp).
static double vm_tanh(double x) { return (double)tanhl((long double)x); }
#else
/// 1 / (1 + e^-x) = N / D with E = e^-|x|, N = 1 (x ≥ 0) or E, D = 1 + E kept exactly as d + dl, and one
/// correction step on the quotient (about 1.5 ulp; the plain formula is off by up to 2.2).
static double vm_sigmoid(double x) {
    double e = exp(-fabs(x)), num = x >= 0 ? 1 : e;
    double d = 1 + e, dl = (1 - d) + e;
    double q = num / d;
    return q + (fma(-q, d, num) - q * dl) / d;
}

/// tanh x = −M / (M + 2) with M = e^{−2|x|} − 1, the same way (about 2 ulp).
static double vm_tanh(double x) {
    double m = expm1(-2 * fabs(x)), num = -m;
    double d = m + 2, dl = (2 - d) + m;
    double q = num / d;
    q += (fma(-q, d, num) - q * dl) / d;
    return isnan(x) ? x : copysign(q, x);
}
#endif

static float vm_sigmoidf(float x) { return (float)vm_sigmoid((double)x); }

// MARK: Public entry points

#if defined(VM_HAVE_VECTOR)
/// Runs the AVX-512 or AVX2 instance when the kernel path says so, else the portable statement.
#define VM_DISPATCH(name, args, portable)                                                                   \
    do {                                                                                                    \
        if (bp_kernels_use_avx512()) vm_avx512_##name args;                                                 \
        else if (bp_kernels_use_avx2()) vm_avx2_##name args;                                                \
        else portable;                                                                                      \
    } while (0)
#else
#define VM_DISPATCH(name, args, portable) portable
#endif

/// Defines bp_d<name> and bp_s<name> over arrays, with `dlib` and `flib` as the portable functions.
#define VM_ENTRY(name, dlib, flib)                                                                          \
    void bp_d##name(const double *x, double *y, long n) {                                                   \
        VM_DISPATCH(d##name, (x, y, n), for (long i = 0; i < n; i++) y[i] = dlib(x[i]));                    \
    }                                                                                                       \
    void bp_s##name(const float *x, float *y, long n) {                                                     \
        VM_DISPATCH(s##name, (x, y, n), for (long i = 0; i < n; i++) y[i] = flib(x[i]));                    \
    }

VM_ENTRY(exp, exp, expf)
VM_ENTRY(expm1, expm1, expm1f)
VM_ENTRY(log, log, logf)
VM_ENTRY(log1p, log1p, log1pf)
VM_ENTRY(sin, sin, sinf)
VM_ENTRY(cos, cos, cosf)
VM_ENTRY(tan, tan, tanf)
VM_ENTRY(sigmoid, vm_sigmoid, vm_sigmoidf)

void bp_stanh(const float *x, float *y, long n) {
    VM_DISPATCH(stanh, (x, y, n), for (long i = 0; i < n; i++) y[i] = (float)vm_tanh((double)x[i]));
}

void bp_dtanh(const double *x, double *y, long n) {
    VM_DISPATCH(dtanh, (x, y, n), for (long i = 0; i < n; i++) y[i] = vm_tanh(x[i]));
}

void bp_derf(const double *x, double *y, long n) {
    VM_DISPATCH(derf, (x, y, n), for (long i = 0; i < n; i++) y[i] = erf(x[i]));
}

void bp_serf(const float *x, float *y, long n) {
    VM_DISPATCH(serf, (x, y, n), for (long i = 0; i < n; i++) y[i] = erff(x[i]));
}

void bp_dpow(const double *x, const double *y, double *z, long n) {
    VM_DISPATCH(dpow, (x, y, z, n), for (long i = 0; i < n; i++) z[i] = pow(x[i], y[i]));
}

void bp_spow(const float *x, const float *y, float *z, long n) {
    VM_DISPATCH(spow, (x, y, z, n), for (long i = 0; i < n; i++) z[i] = powf(x[i], y[i]));
}

// Checks vecmath's 8-wide kernels, the code the AVX-512 path runs, on a machine without AVX-512: vecmath.c is
// included with BP_VECMATH_WIDE_FOR_AVX2, which builds its 8-wide instantiation for AVX2, and the kernels are
// called directly. The checks are those of Tests/BackpropTests/VectorMathTests.swift (error bounds in ulp over
// the same ranges, the C library's special values, every tail length with nothing written past it, the output
// aliasing the input, pow), against long double references. The instruction selection of a real AVX-512 build
// is not covered, nor its masked tail loads and stores (built for AVX2, tails go through a buffer; VectorMathTests
// checks the masks on AVX-512 machines); the lane logic (vectors of 8, masks, the table lookups) is.
// Run by scripts/test_vecmath_wide.sh; exits 1 with the failures listed.
#define BP_VECMATH_WIDE_FOR_AVX2 1
#include "vecmath.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*dkernel)(const double *, double *, long);
typedef void (*skernel)(const float *, float *, long);

static long double sigmoidl(long double x) {
    if (x >= 0) return 1.0L / (1.0L + expl(-x));
    long double e = expl(x);
    return e / (1.0L + e);
}

/// The error of `got` in ulp of the exact value (the spacing of doubles in its binade).
static double ulps(double got, long double exact) {
    if (isnan(got) || isnan(exact)) return isnan(got) && isnan(exact) ? 0 : INFINITY;
    if (isinf(got) || isinf((double)exact)) return got == (double)exact ? 0 : INFINITY;
    int e;
    frexpl(exact, &e);
    long double ulp = ldexpl(1.0L, e - 53), least = ldexpl(1.0L, -1074);
    if (ulp < least) ulp = least;
    return (double)(fabsl((long double)got - exact) / ulp);
}

/// The error of `got` in ulp of float of the exact value given in double.
static double ulps_float(float got, double exact) {
    if (isnan(got) || isnan(exact)) return isnan(got) && isnan(exact) ? 0 : INFINITY;
    if (isinf(got) || isinf((float)exact)) return got == (float)exact ? 0 : INFINITY;
    int e;
    frexp(exact, &e);
    double ulp = ldexp(1.0, e - 24), least = ldexp(1.0, -149);
    if (ulp < least) ulp = least;
    return fabs((double)got - exact) / ulp;
}

struct range { double lo, hi; };
struct function {
    const char *name;
    dkernel d8, d4;
    skernel s8;
    long double (*exact)(long double);
    double (*library)(double);
    double bound;
    struct range ranges[8];
};

static double library_sigmoid(double x) { return (double)sigmoidl(x); }

static int failures = 0;

static void fail(const char *format, const char *name, double x, double got, double want, double error) {
    if (failures < 40) {
        printf("FAIL ");
        printf(format, name, x, got, want, error);
        printf("\n");
    }
    failures++;
}

static void check_function(const struct function *f) {
    enum { per_range = 20000 };
    double xs[8 * per_range];
    long n = 0;
    for (int r = 0; r < 8 && (f->ranges[r].lo != 0 || f->ranges[r].hi != 0); r++) {
        for (int i = 0; i < per_range; i++) {
            xs[n++] = f->ranges[r].lo + (f->ranges[r].hi - f->ranges[r].lo) * i / (per_range - 1);
        }
    }
    double *y8 = malloc(sizeof(double) * n), *y4 = malloc(sizeof(double) * n);
    f->d8(xs, y8, n);
    f->d4(xs, y4, n);
    double worst = 0, worst_at = 0;
    long differing = 0;
    for (long i = 0; i < n; i++) {
        double error = ulps(y8[i], f->exact(xs[i]));
        if (error > worst) { worst = error; worst_at = xs[i]; }
        if (error > f->bound) fail("%s(%.17g) = %.17g, exact %.17g: %.3f ulp", f->name, xs[i], y8[i], (double)f->exact(xs[i]), error);
        if (memcmp(&y8[i], &y4[i], sizeof(double)) != 0) differing++;
    }
    // Float, against the exact value in double, within 1 ulp.
    float *xf = malloc(sizeof(float) * n), *yf = malloc(sizeof(float) * n);
    for (long i = 0; i < n; i++) xf[i] = (float)xs[i];
    f->s8(xf, yf, n);
    double worst_float = 0;
    for (long i = 0; i < n; i++) {
        double error = ulps_float(yf[i], (double)f->exact(xf[i]));
        if (error > worst_float) worst_float = error;
        if (error > 1) fail("float %s(%.9g) = %.9g, exact %.17g: %.3f ulp", f->name, xf[i], yf[i], (double)f->exact(xf[i]), error);
    }
    printf("%-8s double worst %.3f ulp (bound %.2f) at %.17g; float worst %.3f ulp; %ld of %ld differ from the 4-wide results\n",
           f->name, worst, f->bound, worst_at, worst_float, differing, n);
    // Special values: NaN, infinities and zeros exactly as the C library gives them (sign of zero included), the
    // rest within one ulp more than the bound.
    const double specials[] = {
        NAN, -NAN, INFINITY, -INFINITY, 0.0, -0.0, 0x1p-1074, -0x1p-1074, 0x1p-1022, -0x1p-1022, 0x1p-1030,
        -0x1p-1030, DBL_MAX, -DBL_MAX, 1, -1, 0.5, -0.5, 2, 708, -708, 709.78, 709.79, 710, -745.1, -745.2, -746,
        -1000, 1000, 1e300, -1e300, 0x1p19, 0x1.0000000000001p19, -0x1.0000000000001p19, 1e22, 22, -22, 6, -6,
        5.9, 40, -40};
    const long count = sizeof specials / sizeof specials[0];
    double ys[sizeof specials / sizeof specials[0]];
    f->d8(specials, ys, count);
    for (long i = 0; i < count; i++) {
        double want = f->library(specials[i]);
        if (isnan(want) || isinf(want) || want == 0) {
            int same = isnan(want) ? isnan(ys[i]) : (ys[i] == want && signbit(ys[i]) == signbit(want));
            if (!same) fail("%s(%.17g) = %.17g, C library %.17g (%g)", f->name, specials[i], ys[i], want, 0);
        } else {
            double error = ulps(ys[i], f->exact(specials[i]));
            if (error > f->bound + 1) fail("%s(%.17g) = %.17g, exact %.17g: %.3f ulp", f->name, specials[i], ys[i], (double)f->exact(specials[i]), error);
        }
    }
    // Every length from 0 to 40: all n values right, nothing past them written; then in place.
    for (long length = 0; length <= 40; length++) {
        double in[48], out[48];
        for (long i = 0; i < 48; i++) { in[i] = -3 + 0.37 * i; out[i] = 42; }
        f->d8(in, out, length);
        for (long i = 0; i < 48; i++) {
            if (i < length) {
                double error = ulps(out[i], f->exact(in[i]));
                if (error > f->bound) fail("%s(%.17g) = %.17g in a tail, exact %.17g: %.3f ulp", f->name, in[i], out[i], (double)f->exact(in[i]), error);
            } else if (out[i] != 42) {
                fail("%s wrote past the end: x = %.17g, y = %.17g, want the sentinel %.17g (%g)", f->name, in[i], out[i], 42, 0);
            }
        }
        double aliased[48];
        memcpy(aliased, in, sizeof aliased);
        f->d8(aliased, aliased, length);
        for (long i = 0; i < length; i++) {
            if (memcmp(&aliased[i], &out[i], sizeof(double)) != 0) {
                fail("%s in place: x = %.17g gave %.17g, out of place %.17g (%g)", f->name, in[i], aliased[i], out[i], 0);
            }
        }
    }
    free(y8); free(y4); free(xf); free(yf);
}

static void check_pow(void) {
    enum { n = 200000 };
    double *x = malloc(sizeof(double) * n), *y = malloc(sizeof(double) * n), *z = malloc(sizeof(double) * n);
    unsigned long long state = 88172645463325252ULL;
    for (long i = 0; i < n; i++) {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
        double u = (double)(state >> 11) * 0x1p-53;
        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
        double v = (double)(state >> 11) * 0x1p-53;
        x[i] = i % 5 == 0 ? -(1 + 9 * u) : exp(-30 + 60 * u);
        y[i] = i % 5 == 0 ? (double)((long)(v * 40) - 20) : -20 + 40 * v;
    }
    vm_avx512_dpow(x, y, z, n);
    double worst = 0;
    for (long i = 0; i < n; i++) {
        long double exact = powl((long double)x[i], (long double)y[i]);
        double error = ulps(z[i], exact);
        if (error > worst) worst = error;
        if (error > 2) fail("%s(x = %.17g, ...) = %.17g, exact %.17g: %.3f ulp", "pow", x[i], z[i], (double)exact, error);
    }
    printf("pow      double worst %.3f ulp (bound 2.00) over %d pairs\n", worst, n);
    free(x); free(y); free(z);
}

int main(void) {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        printf("this CPU has no AVX2+FMA: nothing to check\n");
        return 0;
    }
    const double ln2 = 0.6931471805599453;
    const struct function functions[] = {
        {"exp", vm_avx512_dexp, vm_avx2_dexp, vm_avx512_sexp, expl, exp, 0.52,
         {{-1, 1}, {-ln2 / 2 - 1e-9, ln2 / 2 + 1e-9}, {-745.2, 709.8}, {-110, 90}, {700, 709.78}, {-745.2, -700}}},
        {"expm1", vm_avx512_dexpm1, vm_avx2_dexpm1, vm_avx512_sexpm1, expm1l, expm1, 1,
         {{-1e-6, 1e-6}, {-1, 1}, {-40, 40}, {-800, 709.78}, {30, 45}, {-45, -30}}},
        {"log", vm_avx512_dlog, vm_avx2_dlog, vm_avx512_slog, logl, log, 1,
         {{0.5, 2}, {0.999, 1.001}, {0.70, 0.72}, {1.40, 1.42}, {1e-300, 1e-290}, {0, 1e300}, {0x1p-1063, 1e-300}}},
        {"log1p", vm_avx512_dlog1p, vm_avx2_dlog1p, vm_avx512_slog1p, log1pl, log1p, 1,
         {{-1e-8, 1e-8}, {-0.5, 1}, {-1, -0.99}, {0, 1e6}, {1e15, 1e20}}},
        {"sin", vm_avx512_dsin, vm_avx2_dsin, vm_avx512_ssin, sinl, sin, 2,
         {{-1e-5, 1e-5}, {-4, 4}, {1.5, 1.65}, {3.1, 3.2}, {-1e5, 1e5}, {5e5, 6e5}, {1e10, 1e12}}},
        {"cos", vm_avx512_dcos, vm_avx2_dcos, vm_avx512_scos, cosl, cos, 2,
         {{-1e-5, 1e-5}, {-4, 4}, {1.5, 1.65}, {3.1, 3.2}, {-1e5, 1e5}, {5e5, 6e5}, {1e10, 1e12}}},
        {"tan", vm_avx512_dtan, vm_avx2_dtan, vm_avx512_stan, tanl, tan, 2,
         {{-1e-5, 1e-5}, {-4, 4}, {0.7, 0.9}, {1.5, 1.65}, {-1e5, 1e5}, {5e5, 6e5}}},
        {"tanh", vm_avx512_dtanh, vm_avx2_dtanh, vm_avx512_stanh, tanhl, tanh, 0.6,
         {{-1e-6, 1e-6}, {-1, 1}, {0.15, 0.2}, {-25, 25}, {18, 23}}},
        {"sigmoid", vm_avx512_dsigmoid, vm_avx2_dsigmoid, vm_avx512_ssigmoid, sigmoidl, library_sigmoid, 2,
         {{-1, 1}, {-40, 40}, {-750, -700}, {700, 1000}, {-104, -80}}},
        {"erf", vm_avx512_derf, vm_avx2_derf, vm_avx512_serf, erfl, erf, 2,
         {{-1e-6, 1e-6}, {-1.2, 1.2}, {0.9, 1.1}, {1.9, 2.1}, {3.4, 3.6}, {-7, 7}, {5.8, 6.1}}},
    };
    for (unsigned i = 0; i < sizeof functions / sizeof functions[0]; i++) check_function(&functions[i]);
    check_pow();
    if (failures > 0) {
        printf("%d failures\n", failures);
        return 1;
    }
    printf("the 8-wide kernels pass\n");
    return 0;
}

// Times the AVX2 and AVX-512 versions of the same kernels side by side on one machine, in one process, so the
// two paths can be compared where the Swift benchmark only shows whole workloads: the FMA rate of 256- and
// 512-bit vectors (equal where 512-bit operations run as two halves, as on Zen 4), the double GEMM at the
// shapes the workloads use, and the vector math over short and long arrays (the short ones show the cost of
// the tails). Each figure is the best of 5 repetitions. Run by scripts/bench_kernel_paths.sh on a machine with
// AVX-512; the kernels are called directly, whatever the dispatch would choose.
#include "vecmath.c"
#include "dgemm.c"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/// GFLOP/s of `iterations` steps of 12 independent FMA chains, 512-bit.
BP_AVX512 static double fma_rate_512(long iterations, double *sink) {
    __m512d acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_pd(i * 0.001);
    __m512d b = _mm512_set1_pd(0.9999), c = _mm512_set1_pd(0.0001);
    double t = now();
    for (long k = 0; k < iterations; k++)
        for (int i = 0; i < 12; i++) acc[i] = _mm512_fmadd_pd(acc[i], b, c);
    t = now() - t;
    for (int i = 1; i < 12; i++) acc[0] = _mm512_add_pd(acc[0], acc[i]);
    *sink += _mm512_reduce_add_pd(acc[0]);
    return iterations * 12.0 * 16 / t / 1e9;
}

/// The same with 256-bit vectors.
BP_AVX2_FMA static double fma_rate_256(long iterations, double *sink) {
    __m256d acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_pd(i * 0.001);
    __m256d b = _mm256_set1_pd(0.9999), c = _mm256_set1_pd(0.0001);
    double t = now();
    for (long k = 0; k < iterations; k++)
        for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_pd(acc[i], b, c);
    t = now() - t;
    for (int i = 1; i < 12; i++) acc[0] = _mm256_add_pd(acc[0], acc[i]);
    double lanes[4];
    _mm256_storeu_pd(lanes, acc[0]);
    *sink += lanes[0] + lanes[1] + lanes[2] + lanes[3];
    return iterations * 12.0 * 8 / t / 1e9;
}

typedef void (*gemm_fn)(int, int, long, long, long, double, const double *, long, const double *, long, double,
                        double *, long);

/// Microseconds per call, best of 5.
static double time_gemm(gemm_fn f, int ta, int tb, long m, long n, long k, const double *a, const double *b,
                        double *c) {
    long calls = (long)(2e8 / ((double)m * n * k)) + 1;
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t = now();
        for (long i = 0; i < calls; i++) f(ta, tb, m, n, k, 1.0, a, ta ? m : k, b, tb ? k : n, 0.0, c, n);
        t = (now() - t) / calls;
        if (t < best) best = t;
    }
    return best * 1e6;
}

typedef void (*array_fn)(const double *, double *, long);

/// Nanoseconds per value, best of 5.
static double time_array(array_fn f, const double *x, double *y, long n) {
    long calls = 400000 / n + 1;
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t = now();
        for (long i = 0; i < calls; i++) f(x, y, n);
        t = (now() - t) / calls / n;
        if (t < best) best = t;
    }
    return best * 1e9;
}

int main(void) {
    if (!bp_cpu_has_avx512()) {
        printf("kernel paths: this CPU has no AVX-512, so there is only one vector path to time\n");
        return 0;
    }
    double sink = 0;
    double r512 = fma_rate_512(50000000, &sink), r256 = fma_rate_256(50000000, &sink);
    printf("FMA rate on one core: 512-bit %.1f GFLOP/s, 256-bit %.1f GFLOP/s (512/256 %.2f)%s\n", r512, r256,
           r512 / r256, sink == 12345 ? " " : "");
    printf("bp_cpu_splits_512bit_vectors() = %d\n\n", bp_cpu_splits_512bit_vectors());

    enum { SIDE = 1024 };
    double *a = aligned_alloc(64, sizeof(double) * SIDE * SIDE), *b = aligned_alloc(64, sizeof(double) * SIDE * SIDE);
    double *c = aligned_alloc(64, sizeof(double) * SIDE * SIDE);
    for (long i = 0; i < SIDE * SIDE; i++) {
        a[i] = rand() / (double)RAND_MAX;
        b[i] = rand() / (double)RAND_MAX;
    }
    static const long shapes[][5] = {
        {1000, 64, 64, 0, 1}, {64, 64, 1000, 1, 0}, {14, 56, 14, 0, 0}, {1000, 100, 64, 0, 1}, {256, 256, 256, 0, 0},
        {1024, 1024, 1024, 0, 0}};
    printf("double GEMM, one thread            AVX2 us  GFLOP/s  AVX-512 us  GFLOP/s  AVX-512/AVX2\n");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        long m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        int ta = (int)shapes[s][3], tb = (int)shapes[s][4];
        double t2 = time_gemm(dgemm_avx2_gemm, ta, tb, m, n, k, a, b, c);
        double t5 = time_gemm(dgemm_avx512_gemm, ta, tb, m, n, k, a, b, c);
        double flops = 2.0 * m * n * k / 1e3;
        printf("M %4ld N %4ld K %4ld%s%s    %10.2f %8.1f %11.2f %8.1f %13.2f\n", m, n, k, ta ? " Aᵀ" : "   ",
               tb ? " Bᵀ" : "   ", t2, flops / t2, t5, flops / t5, t5 / t2);
    }

    printf("\nvector math, ns a value             n     AVX2  AVX-512  AVX-512/AVX2\n");
    for (long i = 0; i < SIDE; i++) a[i] = -3 + 6 * (rand() / (double)RAND_MAX);
    static const long lengths[] = {14, 28, 42, 1024};
    static const struct { const char *name; array_fn avx2, avx512; } functions[] = {
        {"exp", vm_avx2_dexp, vm_avx512_dexp}, {"tanh", vm_avx2_dtanh, vm_avx512_dtanh},
        {"sigmoid", vm_avx2_dsigmoid, vm_avx512_dsigmoid}, {"log", vm_avx2_dlog, vm_avx512_dlog}};
    for (size_t f = 0; f < sizeof functions / sizeof functions[0]; f++)
        for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
            double t2 = time_array(functions[f].avx2, a, c, lengths[l]);
            double t5 = time_array(functions[f].avx512, a, c, lengths[l]);
            printf("%-32s %5ld %8.3f %8.3f %13.2f\n", functions[f].name, lengths[l], t2, t5, t5 / t2);
        }
    return 0;
}

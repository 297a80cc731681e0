// bp_sgemm against a float64 reference for every shape, transpose and beta case, on the vector and the
// portable path; run by scripts/test_arm64_kernels.sh (arm64 under QEMU) or natively.
#include "CBackpropKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
static float rnd(unsigned *s) { *s = *s * 1664525u + 1013904223u; return ((*s >> 8) / 16777216.0f) * 2 - 1; }
int main(void) {
    unsigned seed = 1; int failures = 0, cases = 0;
    long sizes[][3] = {{1,1,1},{8,8,8},{7,9,5},{33,17,300},{64,100,257},{129,65,31},{200,300,40},{16,2050,3}};
    for (int path = 0; path < 2; path++) {
      bp_kernels_set_use_avx2(path);
      for (unsigned si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
      for (int ta = 0; ta < 2; ta++) for (int tb = 0; tb < 2; tb++) for (int bz = 0; bz < 2; bz++) {
        long M = sizes[si][0], N = sizes[si][1], K = sizes[si][2];
        float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
        float *C = malloc(sizeof(float) * M * N), *R = malloc(sizeof(float) * M * N);
        for (long i = 0; i < M * K; i++) A[i] = rnd(&seed);
        for (long i = 0; i < K * N; i++) B[i] = rnd(&seed);
        for (long i = 0; i < M * N; i++) C[i] = R[i] = rnd(&seed);
        float alpha = 1.5f, beta = bz ? 0.0f : 0.5f;
        long lda = ta ? M : K, ldb = tb ? K : N;
        for (long i = 0; i < M; i++) for (long j = 0; j < N; j++) {
            double acc = 0;
            for (long p = 0; p < K; p++) acc += (double)(ta ? A[p * lda + i] : A[i * lda + p]) * (tb ? B[j * ldb + p] : B[p * ldb + j]);
            R[i * N + j] = (float)(alpha * acc + (beta != 0 ? beta * R[i * N + j] : 0));
        }
        if (bz) for (long i = 0; i < M * N; i++) C[i] = NAN;
        bp_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, N);
        double worst = 0;
        for (long i = 0; i < M * N; i++) { double e = fabs(C[i] - R[i]); if (!(e <= worst)) worst = e; }
        cases++;
        if (!(worst < 1e-3)) { failures++; printf("FAIL path %d M%ld N%ld K%ld ta%d tb%d beta%g: %g\n", path, M, N, K, ta, tb, beta, worst); }
        free(A); free(B); free(C); free(R);
      }
    }
    printf("vector kernels: %d; %d cases, %d failures\n", bp_cpu_has_vector_kernels(), cases, failures);
    return failures != 0;
}
